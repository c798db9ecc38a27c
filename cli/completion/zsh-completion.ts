/**
 * The zsh completion script `strongroom completion zsh` prints, generated
 * from the command tree (completion-model.ts), with each command's and
 * option's description: it walks the words typed so far as the bash script
 * does (options and their values skipped) and offers the subcommands, or
 * after a "-" the options, through `_describe`; after an option that takes a
 * value it completes file names.
 */
import { CompletionNode } from './completion-model';

/** Single-quoted for zsh. */
function quoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** One `_describe` entry: "name:description", a colon in the name escaped. */
function entry(name: string, description: string): string {
  return quoted(`${name.replace(/:/g, '\\:')}:${description.replace(/\s+/g, ' ').slice(0, 120)}`);
}

function caseOf(nodes: readonly CompletionNode[], items: (node: CompletionNode) => string[]): string {
  return nodes.map((node) => `    ${quoted(node.path.join(' '))}) reply=(${items(node).join(' ')}) ;;`).join('\n');
}

export function zshCompletionScript(nodes: readonly CompletionNode[], programName: string): string {
  const fn = `_${programName.replace(/[^A-Za-z0-9_]/g, '_')}`;
  return `#compdef ${programName}
# zsh completion for ${programName}, generated from its commands by \`${programName} completion zsh\`.
# Install: ${programName} completion zsh > "\${fpath[1]}/_${programName}"   (then start a new shell)
#      or: echo 'source <(${programName} completion zsh)' >> ~/.zshrc   (after compinit)

${fn}_commands() {
  case "$1" in
${caseOf(nodes, (node) => node.commands.map((c) => entry(c.name, c.description)))}
  esac
}

${fn}_options() {
  case "$1" in
${caseOf(nodes, (node) => node.options.flatMap((o) => o.flags.map((f) => entry(f, o.description))))}
  esac
}

${fn}_value_options() {
  case "$1" in
${caseOf(nodes, (node) => node.options.filter((o) => o.takesValue).flatMap((o) => o.flags.map(quoted)))}
  esac
}

${fn}() {
  local cmd_path="" word i skip=0
  local -a reply commands valued options
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    if ((skip)); then skip=0; continue; fi
    if [[ "$word" == -* ]]; then
      ${fn}_value_options "$cmd_path"; valued=("\${reply[@]}")
      (( \${valued[(Ie)$word]} )) && skip=1
      continue
    fi
    ${fn}_commands "$cmd_path"; commands=("\${reply[@]%%:*}")
    (( \${commands[(Ie)$word]} )) && cmd_path="\${cmd_path:+$cmd_path }$word"
  done
  if ((skip)); then _files; return; fi
  if [[ "\${words[CURRENT]}" == -* ]]; then
    ${fn}_options "$cmd_path"; options=("\${reply[@]}")
    _describe -t options 'option' options
  else
    ${fn}_commands "$cmd_path"; commands=("\${reply[@]}")
    _describe -t commands 'command' commands
  fi
}

compdef ${fn} ${programName}
# Sourced, this only defines the functions; loaded from fpath, zsh calls it as the completion function.
if [[ "\$funcstack[1]" == "${fn}" ]]; then
  ${fn} "$@"
fi
`;
}
