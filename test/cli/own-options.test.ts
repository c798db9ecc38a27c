/**
 * cli/own-options.ts: after a command's name, the command's own option wins
 * over a global option of the same name (policy check --key NAME), while a
 * global --key FILE before the command, option values that look like command
 * names, other commands and `--` are left as they are.
 */
import { buildProgram } from '../../cli/main';
import { claimOwnOptions } from '../../cli/own-options';

describe('claimOwnOptions', () => {
  const program = buildProgram();

  it.each([
    [['policy', 'check', '--client', 'a', '--key', 'hr/x'], ['policy', 'check', '--client', 'a', '-k', 'hr/x']],
    [['--key', 'me.key', 'policy', 'check', '--key=hr/x', '-c', 'a'], ['--key', 'me.key', 'policy', 'check', '-k', 'hr/x', '-c', 'a']],
    [['--cert', 'policy', '--key', 'check', 'policy', 'check', '--key', 'hr/x'], ['--cert', 'policy', '--key', 'check', 'policy', 'check', '-k', 'hr/x']],
    [['--key', 'me.key', 'key', 'list'], ['--key', 'me.key', 'key', 'list']],
    [['key', 'get', 'hr/x', '--key', 'me.key'], ['key', 'get', 'hr/x', '--key', 'me.key']],
    [['policy', 'check', '--', '--key', 'x'], ['policy', 'check', '--', '--key', 'x']],
  ])('%j becomes %j', (args, expected) => {
    expect(claimOwnOptions(program, args)).toEqual(expected);
  });

  it('gives policy check the key to check and leaves the global --key the TLS key file', async () => {
    const seen: Array<{ own: unknown; global: unknown }> = [];
    const parsed = buildProgram();
    const check = parsed.commands.find((c) => c.name() === 'policy')?.commands.find((c) => c.name() === 'check');
    check?.action((options: { key: string }) => {
      seen.push({ own: options.key, global: parsed.opts().key });
    });
    await parsed.parseAsync(['node', 'strongroom', ...claimOwnOptions(parsed, ['--key', 'me.key', 'policy', 'check', '--client', 'a', '--key', 'hr/x'])]);
    expect(seen).toEqual([{ own: 'hr/x', global: 'me.key' }]);
  });
});
