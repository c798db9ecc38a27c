/**
 * Signed audit checkpoints end to end: `strongroom serve` on a real SoftHSM2
 * token signs the chain head when it stops; `strongroom audit verify` checks
 * the checkpoint's signature with the key from the HSM (or a kept copy) and
 * names the first missing event when the newest events are cut off the
 * SQLite file, which the hash chain alone could not see.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { assertCliBuilt, cli, CliRun, startServe } from '../support/cli-runner';

describe('strongroom audit verify with signed checkpoints', () => {
  let dir: string;
  let data: string;

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-checkpoints-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
    const server = await startServe(data);
    const remote = (...args: string[]): CliRun => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--json', ...args]);
    expect(remote('key', 'create', 'hr/payroll').status).toBe(0);
    for (let i = 0; i < 4; i++) expect(remote('key', 'list').status).toBe(0);
    await server.stop();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the checkpoints the server signed at its start and at shutdown, checked with the HSM signing key', () => {
    const run = cli(['--data', data, 'audit', 'verify', '--json']);
    expect(run.status).toBe(0);
    expect(run.json).toMatchObject({ ok: true, checkpoints: 2, unsignedTail: 0, signaturesChecked: true, signingKey: { source: 'hsm' } });
    expect(run.json.lastCheckpointSeq).toBe(run.json.events);
    const text = cli(['--data', data, 'audit', 'verify']);
    expect(text.stdout).toContain('2 signed checkpoint(s)');
  });

  it('records the server start with the settings in effect, and its stop, both covered by the checkpoint', () => {
    const events = cli(['--data', data, 'audit', 'tail', '-n', '100', '--json']).json as Array<Record<string, any>>;
    const start = events.find((e) => e.type === 'server-start');
    expect(start?.custom).toMatchObject({ configDigest: expect.stringMatching(/^[0-9a-f]{64}$/), 'setting.hsm_token_label': expect.any(String) });
    expect(events[events.length - 1].type).toBe('server-stop');
  });

  it('prints the signing public key, and verifies against a kept copy; another key is refused', () => {
    const key = cli(['--data', data, 'audit', 'public-key', '--json']);
    expect(key.status).toBe(0);
    const kept = join(dir, 'signing-key.pem');
    writeFileSync(kept, key.json.publicKey);
    expect(cli(['--data', data, 'audit', 'verify', '--public-key', kept, '--json']).json).toMatchObject({ ok: true, signingKey: { source: 'file', fingerprint: key.json.fingerprint } });

    const other = join(dir, 'other-key.pem');
    writeFileSync(other, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const refused = cli(['--data', data, 'audit', 'verify', '--public-key', other, '--json']);
    expect(refused.status).toBe(7);
    expect(refused.json.reason).toContain('bad signature');
    expect(cli(['--data', data, 'audit', 'verify', '--public-key', join(dir, 'absent.pem'), '--json']).status).toBe(2);
  });

  it('refuses, unless told to accept it, checkpoints checked only against the key the keychain file records', () => {
    // An HSM module that cannot load: the key can only come from the keychain file.
    const unreachable = { STRONGROOM_HSM_MODULE: join(dir, 'no-such-module.so') };
    const refused = cli(['--data', data, 'audit', 'verify', '--json'], unreachable);
    expect(refused.status).toBe(7);
    expect(refused.json).toMatchObject({ ok: false, signingKey: { source: 'keychain-file' } });
    expect(refused.json.reason).toContain('--public-key');
    expect(cli(['--data', data, 'audit', 'verify', '--accept-keychain-key', '--json'], unreachable).json).toMatchObject({ ok: true, signingKey: { source: 'keychain-file' } });
  });

  it('checks an anchor kept from an earlier verification', () => {
    const kept = cli(['--data', data, 'audit', 'verify', '--json']).json.lastCheckpoint;
    expect(cli(['--data', data, 'audit', 'verify', '--expect', `${kept.seq}:${kept.hash}`, '--json']).json).toMatchObject({ ok: true, anchorsMatched: 1 });
    const wrong = cli(['--data', data, 'audit', 'verify', '--expect', `${kept.seq}:${'0'.repeat(64)}`, '--json']);
    expect(wrong.status).toBe(7);
    expect(wrong.json.firstBadSeq).toBe(kept.seq);
    expect(cli(['--data', data, 'audit', 'verify', '--expect', 'nonsense', '--json']).status).toBe(2);
  });

  it('names the first missing event when the newest events are deleted from the file', () => {
    const before = cli(['--data', data, 'audit', 'verify', '--json']).json;
    const raw = new Database(join(data, 'keychain.db'));
    raw.exec('DROP TRIGGER audit_events_no_delete');
    raw.prepare('DELETE FROM audit_events WHERE seq > ?').run(before.events - 2);
    raw.close();
    const broken = cli(['--data', data, 'audit', 'verify', '--json']);
    expect(broken.status).toBe(7);
    expect(broken.json).toMatchObject({ ok: false, firstBadSeq: before.events - 1 });
    expect(broken.json.reason).toContain('deleted');
  });
});
