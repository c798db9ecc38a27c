/**
 * The CLI over the wire: `strongroom serve` in a child process, and every
 * key, client and policy command run with --server against it, with the
 * officer certificate init made and with an app certificate the CLI issued.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cli, CliRun as Run, ServingCli, startServe as startServer } from '../support/cli-runner';

describe('strongroom CLI over the wire', () => {
  let dir: string;
  let data: string;
  let server: ServingCli;
  let remote: (...args: string[]) => Run;

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-remote-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
    server = await startServer(data);
    remote = (...args) => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--json', ...args]);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, gets, rolls over and shows keys through the server', () => {
    expect(remote('key', 'create', 'hr/payroll', '--owner', 'hr').status).toBe(0);
    const first = remote('key', 'get', 'hr/payroll');
    expect(first.status).toBe(0);
    expect(Buffer.from(first.json.material, 'base64')).toHaveLength(32);
    expect(remote('key', 'rollover', 'hr/payroll').json.key.currentVersion).toBe(2);
    const old = remote('key', 'get', 'hr/payroll', '--instance', first.json.instance.name);
    expect(old.json.material).toBe(first.json.material);
    expect(remote('key', 'show', 'hr/payroll').json.instances).toHaveLength(2);
    const undone = remote('key', 'undo-rollover', 'hr/payroll');
    expect(undone.json.key.currentVersion).toBe(1);
    expect(remote('key', 'get', 'hr/payroll').json.material).toBe(first.json.material);
    expect(remote('key', 'undo-rollover', 'hr/payroll').json.error.code).toBe('WRONG_STATE');
    expect(remote('key', 'rollover', 'hr/payroll').json.key.currentVersion).toBe(3);
    expect(remote('key', 'list', '--match', 'hr/*').json.map((k: { fullName: string }) => k.fullName)).toEqual(['hr/payroll']);
    const missing = remote('key', 'get', 'hr/nope');
    expect(missing.status).toBe(3);
    expect(missing.json.error.code).toBe('KEY_NOT_FOUND');
  });

  it('issues an app certificate, grants it a pattern, and the app is held to it; revocation shuts it out', () => {
    const certs = join(dir, 'certs');
    const issued = remote('client', 'issue', 'payroll-app', '--role', 'app', '--groups', 'payroll', '--out', certs);
    expect(issued.status).toBe(0);
    expect(statSync(join(certs, 'payroll-app.key')).mode & 0o077).toBe(0);
    expect(remote('policy', 'grant', '--group', 'payroll', '--pattern', 'hr/*', '--permissions', 'get,locate').status).toBe(0);
    remote('key', 'create', 'crm/secret');
    const asApp = (...args: string[]): Run =>
      cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--cert', join(certs, 'payroll-app.crt'), '--key', join(certs, 'payroll-app.key'), '--json', ...args]);
    expect(asApp('key', 'get', 'hr/payroll').status).toBe(0);
    const denied = asApp('key', 'get', 'crm/secret');
    expect(denied.status).toBe(10);
    expect(denied.json.error.code).toBe('PERMISSION_DENIED');
    expect(asApp('key', 'create', 'hr/new').json.error.code).toBe('PERMISSION_DENIED');
    expect(asApp('client', 'list').json.error.code).toBe('PERMISSION_DENIED');
    const grants = remote('policy', 'list', '--group', 'payroll').json;
    expect(grants).toHaveLength(1);
    expect(remote('client', 'revoke', 'payroll-app').json.client.revokedAt).toEqual(expect.any(String));
    const after = asApp('key', 'get', 'hr/payroll');
    expect(after.status).not.toBe(0);
    expect(['UNAUTHENTICATED', 'UNAVAILABLE']).toContain(after.json.error.code);
    expect(remote('client', 'list').json.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['admin', 'payroll-app']));
  });

  it('verifies the audit trail the served requests left, and names the first broken event after tampering', () => {
    const ok = cli(['--data', data, 'audit', 'verify', '--json']);
    expect(ok.status).toBe(0);
    expect(ok.json.ok).toBe(true);
    expect(ok.json.events).toBeGreaterThan(5);
    const tail = cli(['--data', data, 'audit', 'tail', '-n', '3', '--json']);
    expect(tail.json).toHaveLength(3);
    // An attacker with the file drops the triggers and edits event 3.
    const Database = require('better-sqlite3');
    const raw = new Database(join(data, 'keychain.db'));
    raw.exec("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET event = event || ' ' WHERE seq = 3;");
    raw.close();
    const broken = cli(['--data', data, 'audit', 'verify', '--json']);
    expect(broken.status).toBe(7);
    expect(broken.json).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it('shows the running server and who we are with status --server', () => {
    const status = remote('status');
    expect(status.status).toBe(0);
    expect(status.json).toMatchObject({ server: 'strongroom', protocol: 1, identity: { name: 'admin', role: 'officer' } });
  });

  it('reports an unreachable server as exit 11', () => {
    const run = cli(['--data', data, '--server', '127.0.0.1:1', '--json', 'key', 'list']);
    expect(run.status).toBe(11);
    expect(run.json.error.code).toBe('UNAVAILABLE');
  });
});
