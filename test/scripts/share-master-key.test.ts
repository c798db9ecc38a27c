/**
 * scripts/share-master-key.sh as an operator gets it wrong: each mistake is
 * named with its exit code (2 a TOKEN's form or an unreadable PIN file or
 * SOFTHSM2_CONF, 3 a token that does not open, with pkcs11-tool's reason,
 * 4 a version the token already holds), and a refusal writes into no token.
 * Real SoftHSM2 tokens made by scripts/make-softhsm-token.sh, the real
 * pkcs11-tool; the happy path across two appliances is
 * test/integration/master-key-move.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/share-master-key.sh');

interface Run {
  status: number;
  stderr: string;
}

function share(...args: string[]): Run {
  const result = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status ?? -1, stderr: result.stderr };
}

describe('scripts/share-master-key.sh: mistakes are named, with their exit codes', () => {
  let dir: string;
  let token: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-share-key-'));
    const made = spawnSync('bash', [join(ROOT, 'scripts/make-softhsm-token.sh'), join(dir, 'a'), 'share-a'], { encoding: 'utf8', timeout: 60_000 });
    expect(made.status).toBe(0);
    token = `share-a:${join(dir, 'a/user-pin')}:${join(dir, 'a/softhsm2.conf')}`;
    writeFileSync(join(dir, 'wrong-pin'), '000000\n', { mode: 0o600 });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 2 for an option without its value, a TOKEN without a PIN file, and an unreadable PIN file or configuration', () => {
    expect(share('--version')).toEqual({ status: 2, stderr: expect.stringContaining('--version needs N') });
    expect(share('share-a')).toEqual({ status: 2, stderr: expect.stringContaining('must be LABEL:PIN_FILE') });
    expect(share(`share-a:${join(dir, 'no-pin')}:${join(dir, 'a/softhsm2.conf')}`)).toEqual({ status: 2, stderr: expect.stringContaining('is not a readable file') });
    expect(share(`share-a:${join(dir, 'a/user-pin')}:${join(dir, 'no.conf')}`)).toEqual({ status: 2, stderr: expect.stringContaining(`SOFTHSM2_CONF ${join(dir, 'no.conf')}`) });
  });

  it('exits 3 naming why a token does not open: no such label, or a wrong PIN', () => {
    expect(share(`share-x:${join(dir, 'a/user-pin')}:${join(dir, 'a/softhsm2.conf')}`)).toEqual({ status: 3, stderr: expect.stringContaining('share-x') });
    expect(share(`share-a:${join(dir, 'wrong-pin')}:${join(dir, 'a/softhsm2.conf')}`)).toEqual({ status: 3, stderr: expect.stringContaining('CKR_PIN_INCORRECT') });
  });

  it('writes a version once, and exits 4 when asked to write it again', () => {
    expect(share('--version', '7', token).status).toBe(0);
    expect(share('--version', '7', token)).toEqual({ status: 4, stderr: expect.stringContaining('already holds strongroom-master-v7') });
  });
});
