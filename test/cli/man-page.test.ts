/**
 * docs/strongroom.1.md agrees with the CLI it documents.
 *
 * SYNOPSIS: every command of the commander tree that runs (each leaf of
 * cli/main.ts's buildProgram, and the program itself for the global options)
 * has at least one synopsis line `strongroom PATH …`, and the options those
 * lines name (by long or short flag; `--help` aside) are exactly the options
 * its `--help` lists; no line names a command that does not exist. A command
 * with several forms may have several lines (the union is compared); write
 * one command per line (no `a|b` of subcommands).
 *
 * EXIT STATUS: one table row per exit code of common/error-codes.ts's EXIT,
 * no duplicates, and each row lists exactly the error codes that map to it.
 *
 * Other changes add commands and options: a failure names the command and
 * the option missing in the man page or in --help, so drift is fixed where
 * it is.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { buildProgram } from '../../cli/main';
import { ERROR_CODES, EXIT } from '../../common/error-codes';

const MAN_PAGE = resolve(__dirname, '../../docs/strongroom.1.md');
const man = readFileSync(MAN_PAGE, 'utf8');

/** The text of the `## TITLE` section, up to the next `## `. */
function section(title: string): string {
  const start = man.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`docs/strongroom.1.md has no "## ${title}" section`);
  const end = man.indexOf('\n## ', start + 1);
  return man.slice(start, end < 0 ? undefined : end);
}

interface CommandEntry {
  readonly path: string;
  readonly options: readonly Option[];
}

/** Every command that runs: the program itself and each leaf, with the options its --help lists (--help aside). */
function runnableCommands(): CommandEntry[] {
  const entries: CommandEntry[] = [];
  const walk = (command: Command, path: string[]): void => {
    if (path.length === 0 || command.commands.length === 0) {
      const options = command.createHelp().visibleOptions(command).filter((o) => o.long !== '--help');
      entries.push({ path: ['strongroom', ...path].join(' '), options });
    }
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(buildProgram(), []);
  return entries;
}

interface SynopsisLine {
  readonly line: string;
  readonly path: string;
  readonly flags: readonly string[];
}

/** The synopsis lines, each resolved to the longest command path its leading words name in the tree. */
function synopsisLines(): SynopsisLine[] {
  const block = /```\n([\s\S]*?)```/.exec(section('SYNOPSIS'));
  if (!block) throw new Error('the SYNOPSIS section of docs/strongroom.1.md has no code block');
  const program = buildProgram();
  return block[1]
    .split('\n')
    .filter((line) => line.startsWith('strongroom'))
    .map((line) => {
      const words = line.split(/\s+/).slice(1);
      const path = ['strongroom'];
      let command: Command = program;
      for (const word of words) {
        const sub = command.commands.find((c) => c.name() === word);
        if (!sub) break;
        path.push(word);
        command = sub;
      }
      const flags = [...line.slice(path.join(' ').length).matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])/g)].map((m) => m[1]).filter((f) => f !== '--help' && f !== '-h');
      return { line, path: path.join(' '), flags };
    });
}

describe('docs/strongroom.1.md against --help', () => {
  const commands = runnableCommands();
  const lines = synopsisLines();

  it('walks the whole command tree (a sanity check on the walk itself)', () => {
    expect(commands.map((c) => c.path)).toEqual(expect.arrayContaining(['strongroom', 'strongroom key create', 'strongroom approvals approve', 'strongroom events']));
    expect(commands.length).toBeGreaterThan(40);
  });

  it('documents only commands that exist, one command per synopsis line', () => {
    const known = new Set(commands.map((c) => c.path));
    const problems = lines
      .filter((l) => !known.has(l.path))
      .map((l) => `SYNOPSIS line \`${l.line}\` resolves to \`${l.path}\`, which is not a command that runs (no such subcommand, a group, or several commands on one line)`);
    for (const { line } of lines) {
      // A " | " outside brackets and parentheses joins two commands on one line: their options could not be told apart.
      let outside = line;
      for (let previous = ''; previous !== outside; ) [previous, outside] = [outside, outside.replace(/\[[^[\]]*\]|\([^()]*\)/g, '')];
      if (/\s\|\s/.test(outside)) problems.push(`SYNOPSIS line \`${line}\` holds several commands: give each its own line`);
    }
    expect(problems).toEqual([]);
  });

  it('gives every command a synopsis line that lists exactly the options its --help lists', () => {
    const problems: string[] = [];
    for (const command of commands) {
      const own = lines.filter((l) => l.path === command.path);
      const flagsOf = (o: Option): string[] => [o.long, o.short].filter((f): f is string => f !== undefined);
      if (own.length === 0) {
        problems.push(`\`${command.path}\` has no SYNOPSIS line in docs/strongroom.1.md; its --help lists: ${command.options.map((o) => o.flags).join(', ') || 'no options'}`);
        continue;
      }
      const documented = new Set(own.flatMap((l) => l.flags));
      for (const option of command.options) {
        if (!flagsOf(option).some((f) => documented.has(f))) problems.push(`\`${command.path}\`: --help lists \`${option.flags}\`, the SYNOPSIS does not`);
      }
      const helped = new Set(command.options.flatMap(flagsOf));
      for (const flag of documented) {
        if (!helped.has(flag)) problems.push(`\`${command.path}\`: the SYNOPSIS lists \`${flag}\`, its --help does not`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('docs/strongroom.1.md EXIT STATUS against common/error-codes.ts', () => {
  const rows = section('EXIT STATUS')
    .split('\n')
    .map((line) => /^\|\s*(\d+)\s*\|[^|]*\|([^|]*)\|\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ exit: Number(m[1]), codes: [...m[2].matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b[A-Z]{4,}\b/g)].map((c) => c[0]) }));

  it('has one row per exit code, none twice', () => {
    const exits = rows.map((r) => r.exit);
    const twice = exits.filter((e, i) => exits.indexOf(e) !== i);
    expect({ twice, exits: [...new Set(exits)].sort((a, b) => a - b) }).toEqual({ twice: [], exits: Object.values(EXIT).sort((a, b) => a - b) });
  });

  it('lists in each row exactly the error codes that exit with it', () => {
    const problems: string[] = [];
    for (const exit of Object.values(EXIT)) {
      const documented = new Set(rows.filter((r) => r.exit === exit).flatMap((r) => r.codes));
      const actual = Object.entries(ERROR_CODES).filter(([, info]) => info.exit === exit).map(([code]) => code);
      for (const code of actual) if (!documented.has(code)) problems.push(`${code} exits ${exit} (common/error-codes.ts) but the EXIT STATUS row for ${exit} does not list it`);
      for (const code of documented) if (!actual.includes(code)) problems.push(`the EXIT STATUS row for ${exit} lists ${code}, which ${code in ERROR_CODES ? `exits ${ERROR_CODES[code as keyof typeof ERROR_CODES].exit}` : 'is not an error code'}`);
    }
    expect(problems).toEqual([]);
  });
});
