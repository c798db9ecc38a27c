/**
 * What the soft HSM's `openssl pkeyutl` signing exposes to the child process
 * and the file system: only PATH in its environment, the key in a 0600 file
 * of a 0700 mkdtemp folder, and that folder gone afterwards. A stand-in
 * `openssl` first on PATH records what it saw and prints a fixed signature.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { opensslEnv, signPrehashedP256 } from '../../hsm/prehashed-ecdsa';

/**
 * Jest gives a test file a copy of process.env; the child inherits the real
 * one (see test/support/softhsm-fixture.ts), so both are set and restored.
 */
function setEnv(name: string, value: string | undefined): void {
  for (const proc of [runInThisContext('process') as NodeJS.Process, process]) {
    if (value === undefined) delete proc.env[name];
    else proc.env[name] = value;
  }
}

describe('signPrehashedP256 runs openssl without the server\'s secrets', () => {
  let dir: string;
  let savedPath: string | undefined;
  let savedPin: string | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strongroom-fake-openssl-'));
    const script = [
      '#!/bin/sh',
      `out="${dir}/seen"`,
      'env > "$out.env"',
      'key=""; prev=""',
      'for a in "$@"; do if [ "$prev" = "-inkey" ]; then key="$a"; fi; prev="$a"; done',
      'printf "%s\\n" "$key" > "$out.key"',
      'stat -c "%a" "$key" > "$out.keymode"',
      'stat -c "%a" "$(dirname "$key")" > "$out.dirmode"',
      // DER ECDSA-Sig-Value 30 06 02 01 01 02 01 02 (r = 1, s = 2) in octal escapes, for any /bin/sh printf.
      "printf '\\060\\006\\002\\001\\001\\002\\001\\002'",
    ].join('\n');
    await writeFile(join(dir, 'openssl'), `${script}\n`);
    await chmod(join(dir, 'openssl'), 0o700);
    savedPath = process.env.PATH;
    savedPin = process.env.STRONGROOM_HSM_PIN;
    setEnv('PATH', `${dir}:${savedPath ?? '/usr/bin:/bin'}`);
    setEnv('STRONGROOM_HSM_PIN', 'pin-that-must-not-leak');
  });

  afterAll(async () => {
    setEnv('PATH', savedPath);
    setEnv('STRONGROOM_HSM_PIN', savedPin);
    await rm(dir, { recursive: true, force: true });
  });

  it('gives openssl PATH only: no STRONGROOM_HSM_PIN', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signature = await signPrehashedP256(privateKey, Buffer.alloc(32, 7));
    expect(signature.equals(Buffer.concat([Buffer.alloc(31), Buffer.from([1]), Buffer.alloc(31), Buffer.from([2])]))).toBe(true);
    const env = await readFile(join(dir, 'seen.env'), 'utf8');
    expect(env).not.toContain('STRONGROOM_HSM_PIN');
    expect(env).not.toContain('pin-that-must-not-leak');
    const names = env.split('\n').filter((l) => l.includes('=')).map((l) => l.slice(0, l.indexOf('=')));
    // /bin/sh adds PWD (and dash SHLVL, OLDPWD) itself; nothing else may come from us.
    expect(names.filter((n) => !['PATH', 'PWD', 'OLDPWD', 'SHLVL', '_'].includes(n))).toEqual([]);
  });

  it('hands openssl the key in a 0600 file of a 0700 folder, removed afterwards', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await signPrehashedP256(privateKey, Buffer.alloc(32, 9));
    expect((await readFile(join(dir, 'seen.keymode'), 'utf8')).trim()).toBe('600');
    expect((await readFile(join(dir, 'seen.dirmode'), 'utf8')).trim()).toBe('700');
    const keyPath = (await readFile(join(dir, 'seen.key'), 'utf8')).trim();
    expect(keyPath).toMatch(/strongroom-softhsm-sign-/);
    expect(existsSync(keyPath)).toBe(false);
    expect(existsSync(join(keyPath, '..'))).toBe(false);
  });

  it('removes the key folder when openssl fails too (HSM_ERROR)', async () => {
    await writeFile(join(dir, 'openssl'), `#!/bin/sh\nfor a in "$@"; do if [ "$p" = "-inkey" ]; then echo "$a" > "${dir}/seen.failkey"; fi; p="$a"; done\nexit 1\n`);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expect(signPrehashedP256(privateKey, Buffer.alloc(32))).rejects.toMatchObject({ code: 'HSM_ERROR' });
    const keyPath = (await readFile(join(dir, 'seen.failkey'), 'utf8')).trim();
    expect(existsSync(join(keyPath, '..'))).toBe(false);
  });

  it('opensslEnv keeps PATH and drops everything else', () => {
    expect(opensslEnv({ PATH: '/x', STRONGROOM_HSM_PIN: 'p', HOME: '/h' })).toEqual({ PATH: '/x' });
    expect(Object.keys(opensslEnv({}))).toEqual(['PATH']);
  });
});
