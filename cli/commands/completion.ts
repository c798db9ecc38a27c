/**
 * `strongroom completion bash|zsh`: prints a shell completion script made
 * from the command tree itself (cli/completion/), so every command,
 * subcommand and option the CLI has is completed, and one added later is
 * too, once the script is printed again.
 */
import { Argument, Command } from 'commander';
import { bashCompletionScript } from '../completion/bash-completion';
import { completionModel } from '../completion/completion-model';
import { zshCompletionScript } from '../completion/zsh-completion';

export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;

export function completionCommand(): Command {
  return new Command('completion')
    .description('print a shell completion script for bash or zsh (commands, subcommands and options)')
    .addArgument(new Argument('<shell>', 'the shell').choices(COMPLETION_SHELLS))
    .addHelpText(
      'after',
      `
Install for bash (bash-completion 2 loads it in new shells):
  $ mkdir -p ~/.local/share/bash-completion/completions
  $ strongroom completion bash > ~/.local/share/bash-completion/completions/strongroom
  or, without bash-completion:  $ echo 'source <(strongroom completion bash)' >> ~/.bashrc

Install for zsh (a folder of your $fpath, before compinit runs in ~/.zshrc):
  $ mkdir -p ~/.zfunc && strongroom completion zsh > ~/.zfunc/_strongroom
  $ echo 'fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit' >> ~/.zshrc

Then: strongroom key cr<TAB> completes "create". Print the script again after an upgrade.`,
    )
    .action((shell: (typeof COMPLETION_SHELLS)[number], _options: unknown, command: Command) => {
      let program = command;
      while (program.parent) program = program.parent;
      const nodes = completionModel(program);
      process.stdout.write(shell === 'bash' ? bashCompletionScript(nodes, program.name()) : zshCompletionScript(nodes, program.name()));
    });
}
