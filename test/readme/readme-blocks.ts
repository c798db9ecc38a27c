/**
 * Reads the fenced code blocks of a Markdown file (the README) and the shell
 * commands of those marked ```sh, for the test that runs them. A command is
 * one line, or several joined by a trailing backslash; its comment may say
 * `# exits N` when it answers N by design. A block that shows a `strongroom`
 * command without being marked sh is refused, so no command is shown that
 * the test does not run.
 */

export interface FencedBlock {
  /** The `## ` heading the block sits under ('' before the first). */
  readonly section: string;
  /** The fence's info string: `sh`, `ts`, '' … */
  readonly language: string;
  readonly lines: readonly string[];
}

export interface ReadmeCommand {
  readonly section: string;
  readonly text: string;
  readonly expectedExit: number;
}

export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  let section = '';
  let open: { language: string; lines: string[] } | null = null;
  for (const line of markdown.split('\n')) {
    if (open) {
      if (/^```\s*$/.test(line)) {
        blocks.push({ section, language: open.language, lines: open.lines });
        open = null;
      } else open.lines.push(line);
      continue;
    }
    const fence = /^```(\S*)\s*$/.exec(line);
    if (fence) open = { language: fence[1], lines: [] };
    else if (line.startsWith('## ')) section = line.slice(3).trim();
  }
  if (open) throw new Error(`a fenced block under "${section}" is never closed`);
  return blocks;
}

export function readmeCommands(markdown: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  for (const block of fencedBlocks(markdown)) {
    if (block.language !== 'sh') {
      const shown = block.lines.find((l) => /^\s*(npx\s+)?strongroom\s/.test(l));
      if (shown) throw new Error(`README block under "${block.section}" shows a command (${shown.trim()}) but is fenced as \`${block.language}\`, not \`sh\`: mark it sh so test/readme runs it`);
      continue;
    }
    let pending = '';
    for (const line of block.lines) {
      const joined = pending + line;
      if (joined.endsWith('\\')) {
        pending = `${joined.slice(0, -1)} `;
        continue;
      }
      pending = '';
      if (joined.trim() === '' || joined.trim().startsWith('#')) continue;
      const exits = /#\s*exits\s+(\d+)/.exec(joined);
      commands.push({ section: block.section, text: joined.trim(), expectedExit: exits ? Number(exits[1]) : 0 });
    }
  }
  return commands;
}
