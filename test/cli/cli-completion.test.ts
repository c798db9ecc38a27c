/**
 * `strongroom completion bash|zsh` (the compiled CLI): the bash script,
 * sourced in a real bash, completes as a user's TAB would (the completion
 * function called with COMP_WORDS and COMP_CWORD set): subcommands, options
 * after the command typed, every top-level command, and nothing of its own
 * after an option that takes a value. The zsh script is generated from the
 * same tree: every top-level command is in it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../../cli/main';
import { assertCliBuilt, cli } from '../support/cli-runner';

describe('strongroom completion', () => {
  let dir: string;
  let script: string;
  const topLevel = buildProgram().commands.map((c) => c.name());

  beforeAll(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-completion-'));
    const printed = cli(['completion', 'bash']);
    expect(printed.status).toBe(0);
    script = join(dir, 'strongroom.bash');
    writeFileSync(script, printed.stdout);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What TAB offers after `words` (the last one being completed), from bash with the script sourced. */
  const complete = (...words: string[]): string[] => {
    const quotedWords = ['strongroom', ...words].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const program = `source '${script}'\nCOMP_WORDS=(${quotedWords})\nCOMP_CWORD=${words.length}\n_strongroom\nprintf '%s\\n' "\${COMPREPLY[@]}"\n`;
    const result = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return result.stdout.split('\n').filter(Boolean);
  };

  it('completes `strongroom key cr` to create', () => {
    expect(complete('key', 'cr')).toEqual(['create']);
  });

  it('lists every top-level command, and the subcommands of a group', () => {
    expect(topLevel).toEqual(expect.arrayContaining(['key', 'policy', 'encrypt', 'decrypt', 'completion', 'events']));
    expect(complete('').sort()).toEqual([...topLevel].sort());
    expect(complete('policy', '')).toEqual(['grant', 'revoke', 'list', 'check']);
    expect(complete('completion', '')).toEqual(['bash', 'zsh']);
  });

  it('completes options of the command typed (global options after it too), skipping option values', () => {
    expect(complete('--key', 'me.key', 'policy', 'check', '--c')).toEqual(['--client', '--config', '--cert', '--ca']);
    expect(complete('--server', 'h:1', 'key', 'create', 'hr/x', '--ro')).toEqual(['--rollover']);
    // `key` here is --data's value, not the key command.
    expect(complete('--data', 'key', 'cr')).toEqual([]);
    // An option's value is left to file name completion: the script offers nothing of its own.
    expect(complete('encrypt', 'hr/x', '--in', '')).toEqual([]);
  });

  it('prints a zsh script from the same tree, and refuses another shell (exit 2)', () => {
    const zsh = cli(['completion', 'zsh']);
    expect(zsh.status).toBe(0);
    expect(zsh.stdout.startsWith('#compdef strongroom\n')).toBe(true);
    const topBranch = /^ {4}''\) reply=\((.*)\) ;;$/m.exec(zsh.stdout)?.[1] ?? '';
    for (const name of topLevel) expect(topBranch).toContain(`'${name}:`);
    expect(zsh.stdout).toMatch(/^ {4}'policy check'\) reply=\('--client:.*'--key:/m);
    expect(cli(['completion', 'fish']).status).toBe(2);
    expect(cli(['completion', '--help']).stdout).toContain('~/.local/share/bash-completion/completions/strongroom');
  });
});
