/**
 * Issue 16 item 4: the files the README and --help tell a user to write
 * inside a checkout hold private keys and keychains (`client issue … --out
 * ./certs`, `init --data ./demo-data`, a PKCS#12 bundle, an exported key, a
 * packed client tarball): git must ignore every one, so that `git add .`
 * never puts a key into the repository. Asked of git itself (check-ignore),
 * on the names the CLI really writes (cli/commands/client-files.ts).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { clientFiles } from '../../cli/commands/client-files';

const REPO = resolve(__dirname, '../..');

/** Whether git ignores `path` (relative to the repository), by asking git. */
function ignored(path: string): boolean {
  const result = spawnSync('git', ['check-ignore', '--quiet', '--no-index', path], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0 && result.status !== 1) throw new Error(`git check-ignore failed (${result.status}): ${result.stderr}`);
  return result.status === 0;
}

describe('what git ignores in a checkout', () => {
  it('ignores every file client issue --out ./certs writes, and the other secret-bearing files users make here', () => {
    const written = Object.values(clientFiles('./certs', 'payroll-app', true));
    expect(written).toHaveLength(4);
    // The secret ones written to the repository's top folder (--out .) are ignored too (a certificate alone is public).
    const atTop = clientFiles('.', 'payroll-app', true);
    for (const path of [...written, atTop.privateKey, atTop.pkcs12 as string, 'demo-data/keychain.db', 'strongroom-data/pki/admin.key', 'bundle.p12', 'client/strongroom-client-0.1.0.tgz']) {
      expect({ path, ignored: ignored(path) }).toEqual({ path, ignored: true });
    }
  });

  it('still tracks sources (the check can fail)', () => {
    expect(ignored('cli/main.ts')).toBe(false);
    expect(ignored('docs/strongroom.1.md')).toBe(false);
  });
});
