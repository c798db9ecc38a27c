/**
 * The bash completion script `strongroom completion bash` prints, generated
 * from the command tree (completion-model.ts). `_strongroom` walks the words
 * typed so far, skipping options and their values, to find the command being
 * typed; then it offers that command's subcommands, or with a leading "-"
 * its options and the global ones. After an option that takes a value it
 * offers nothing itself, and bash completes file names (`complete -o default`).
 */
import { CompletionNode } from './completion-model';

/** Single-quoted for bash: nothing inside is expanded. */
function quoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function caseOf(nodes: readonly CompletionNode[], words: (node: CompletionNode) => string[]): string {
  return nodes.map((node) => `    ${quoted(node.path.join(' '))}) echo ${quoted(words(node).join(' '))} ;;`).join('\n');
}

export function bashCompletionScript(nodes: readonly CompletionNode[], programName: string): string {
  const fn = `_${programName.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const flags = (node: CompletionNode): string[] => node.options.flatMap((o) => o.flags);
  const valued = (node: CompletionNode): string[] => node.options.filter((o) => o.takesValue).flatMap((o) => o.flags);
  return `# bash completion for ${programName}, generated from its commands by \`${programName} completion bash\`.
# Install: ${programName} completion bash > ~/.local/share/bash-completion/completions/${programName}
#      or: echo 'source <(${programName} completion bash)' >> ~/.bashrc

${fn}_commands() {
  case "$1" in
${caseOf(nodes, (node) => node.commands.map((c) => c.name))}
  esac
}

${fn}_options() {
  case "$1" in
${caseOf(nodes, flags)}
  esac
}

${fn}_value_options() {
  case "$1" in
${caseOf(nodes, valued)}
  esac
}

${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd_path="" word i skip=0
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    if [[ "$word" == -* ]]; then
      # An option's value is not a command name: skip it.
      [[ " $(${fn}_value_options "$cmd_path") " == *" $word "* ]] && skip=1
      continue
    fi
    if [[ " $(${fn}_commands "$cmd_path") " == *" $word "* ]]; then
      cmd_path="\${cmd_path:+$cmd_path }$word"
    fi
  done
  # The word being completed is an option's value: leave it to file name completion.
  ((skip)) && return 0
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(${fn}_options "$cmd_path")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(${fn}_commands "$cmd_path")" -- "$cur"))
  fi
  return 0
}

complete -o default -F ${fn} ${programName}
`;
}
