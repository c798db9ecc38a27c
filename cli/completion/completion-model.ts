/**
 * What shell completion offers, read from the commander tree itself
 * (cli/main.ts buildProgram): each command path with its subcommands and
 * options, and which options take a value. The bash and zsh scripts are
 * generated from this, so a command or option added to the CLI is completed
 * without anyone editing a script.
 */
import { Command } from 'commander';

export interface CompletionOption {
  /** `--long` and `-s`, as typed. */
  readonly flags: readonly string[];
  /** Whether the next word is the option's value (not a command or option to complete). */
  readonly takesValue: boolean;
  readonly description: string;
}

export interface CompletionNode {
  /** The command names from the program down (empty for the program itself). */
  readonly path: readonly string[];
  /** Its subcommands, or the choices of its first argument. */
  readonly commands: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  /** The command's own options, --help, and the program's (global) options, which are valid after any command. */
  readonly options: readonly CompletionOption[];
}

const HELP: CompletionOption = { flags: ['-h', '--help'], takesValue: false, description: 'display help for command' };

/** Every command of the tree, the program first, depth first in the order --help lists them. */
export function completionModel(program: Command): CompletionNode[] {
  const nodes: CompletionNode[] = [];
  const optionsOf = (command: Command): CompletionOption[] =>
    command.options.map((o) => ({ flags: [o.long, o.short].filter((f): f is string => f !== undefined), takesValue: o.required || o.optional, description: o.description }));
  const globals = optionsOf(program);
  const visit = (command: Command, path: string[]): void => {
    // The program's options are recognised after any command too: each command offers them, after its own (a flag once).
    const own = [...optionsOf(command), HELP];
    const taken = new Set(own.flatMap((o) => o.flags));
    nodes.push({
      path,
      // A first argument's choices (completion bash|zsh) are offered where a subcommand would be.
      commands: [
        ...command.commands.map((c) => ({ name: c.name(), description: c.description() })),
        ...(command.registeredArguments[0]?.argChoices ?? []).map((choice) => ({ name: choice, description: command.registeredArguments[0].description })),
      ],
      options: command === program ? own : [...own, ...globals.filter((o) => !o.flags.some((f) => taken.has(f)))],
    });
    for (const sub of command.commands) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return nodes;
}
