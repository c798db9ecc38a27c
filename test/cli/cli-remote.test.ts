/**
 * The CLI over the wire: `strongroom serve` in a child process, and every
 * key, client and policy command run with --server against it, with the
 * officer certificates init made (admin asks, officer-2 and officer-3
 * approve) and with an app certificate the CLI issued.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { assertCliBuilt, cli, CLI, CliRun as Run, ServingCli, startServe } from '../support/cli-runner';

describe('strongroom CLI over the wire', () => {
  let dir: string;
  let data: string;
  let server: ServingCli;
  let remote: (...args: string[]) => Run;
  let as: (officer: string, ...args: string[]) => Run;
  /** Has officer-2 and officer-3 approve the request an exit-12 run made; returns the request as it then stands. */
  let approveByOthers: (run: Run) => { id: string; state: string; result: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-remote-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
    // The two other officers init made approve the admin's dual-controlled requests.
    const certs = join(data, 'pki');
    server = await startServe(data, { STRONGROOM_DESTRUCTION_WAIT: 'P0D' });
    remote = (...args) => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--json', ...args]);
    as = (name, ...args) => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--cert', join(certs, `${name}.crt`), '--key', join(certs, `${name}.key`), '--json', ...args]);
    approveByOthers = (run) => {
      expect(run.status).toBe(12);
      expect(run.json.error.code).toBe('APPROVAL_REQUIRED');
      const { requestId, digest } = run.json.error.details;
      let last: Run | null = null;
      for (const officer of ['officer-2', 'officer-3']) {
        last = as(officer, 'approvals', 'approve', requestId, '--digest', digest);
        expect(last.status).toBe(0);
      }
      return (last as Run).json.request;
    };
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, exports (with approval), rolls over and shows keys through the server', () => {
    expect(remote('key', 'create', 'hr/payroll', '--owner', 'hr').status).toBe(0);
    // An officer's key get is a key export: exit 12, a request the others approve, then collected once.
    const asked = remote('key', 'get', 'hr/payroll');
    expect(approveByOthers(asked).state).toBe('approved');
    const first = remote('approvals', 'collect', asked.json.error.details.requestId);
    expect(first.status).toBe(0);
    expect(Buffer.from(first.json.material, 'base64')).toHaveLength(32);
    expect(remote('approvals', 'collect', asked.json.error.details.requestId).json.error.code).toBe('APPROVAL_NOT_PENDING');
    expect(remote('key', 'rollover', 'hr/payroll').json.key.currentVersion).toBe(2);
    expect(remote('key', 'show', 'hr/payroll').json.instances).toHaveLength(2);
    const undone = remote('key', 'undo-rollover', 'hr/payroll');
    expect(undone.json.key.currentVersion).toBe(1);
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
    expect(approveByOthers(remote('policy', 'grant', '--group', 'payroll', '--pattern', 'hr/*', '--permissions', 'get,locate')).state).toBe('executed');
    remote('key', 'create', 'crm/secret');
    const asApp = (...args: string[]): Run =>
      cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--cert', join(certs, 'payroll-app.crt'), '--key', join(certs, 'payroll-app.key'), '--json', ...args]);
    const current = asApp('key', 'get', 'hr/payroll');
    expect(current.status).toBe(0);
    const byInstance = asApp('key', 'get', 'hr/payroll', '--instance', current.json.instance.name);
    expect(byInstance.json.material).toBe(current.json.material);
    const hex = cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--cert', join(certs, 'payroll-app.crt'), '--key', join(certs, 'payroll-app.key'), 'key', 'get', 'hr/payroll', '--format', 'hex']);
    expect(hex.stderr).toBe('');
    // Registered material comes back byte for byte (raw), to the app the grant names.
    const secret = Buffer.from('correct horse battery staple\n');
    const reg = spawnSync(process.execPath, [CLI, '--data', data, '--server', `127.0.0.1:${server.port}`, 'key', 'register', 'hr/db-password', '--json'], { input: secret, timeout: 60_000 });
    expect(reg.status).toBe(0);
    const raw = spawnSync(process.execPath, [CLI, '--data', data, '--server', `127.0.0.1:${server.port}`, '--cert', join(certs, 'payroll-app.crt'), '--key', join(certs, 'payroll-app.key'), 'key', 'get', 'hr/db-password', '--format', 'raw'], { timeout: 60_000 });
    expect(Buffer.compare(raw.stdout, secret)).toBe(0);
    const denied = asApp('key', 'get', 'crm/secret');
    expect(denied.status).toBe(10);
    expect(denied.json.error.code).toBe('PERMISSION_DENIED');
    expect(asApp('key', 'create', 'hr/new').json.error.code).toBe('PERMISSION_DENIED');
    expect(asApp('client', 'list').json.error.code).toBe('PERMISSION_DENIED');
    const grants = remote('policy', 'list', '--group', 'payroll').json;
    expect(grants).toHaveLength(1);
    expect(approveByOthers(remote('client', 'revoke', 'payroll-app')).result.client.revokedAt).toEqual(expect.any(String));
    const after = asApp('key', 'get', 'hr/payroll');
    expect(after.status).not.toBe(0);
    expect(['UNAUTHENTICATED', 'UNAVAILABLE']).toContain(after.json.error.code);
    expect(remote('client', 'list').json.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['admin', 'payroll-app']));
  });

  it('lists, shows, approves, denies and cancels approval requests, with a code for every refusal', () => {
    remote('key', 'create', 'ops/old');
    remote('key', 'revoke', 'ops/old', '--reason', 'superseded');
    const human = spawnSync(process.execPath, [CLI, '--data', data, '--server', `127.0.0.1:${server.port}`, 'key', 'destroy', 'ops/old'], { encoding: 'utf8', timeout: 60_000 });
    expect(human.status).toBe(12);
    const id = /request ([0-9a-f-]{36})/.exec(human.stderr)?.[1] as string;
    expect(human.stderr).toContain(`strongroom approvals approve ${id} --digest `);
    const shown = as('officer-2', 'approvals', 'show', id);
    expect(shown.json.request).toMatchObject({ operation: 'Destroy', args: { name: 'ops/old' }, requester: 'admin', state: 'pending', required: 2 });
    // The approver is shown the key and instance the request is bound to, not only the name typed.
    const instance = remote('key', 'show', 'ops/old').json.instances[0].name as string;
    expect(shown.json.request.binding).toEqual({ keyId: expect.any(String), name: 'ops/old', instance });
    const humanShow = spawnSync(process.execPath, [CLI, '--data', data, '--server', `127.0.0.1:${server.port}`, 'approvals', 'show', id], { encoding: 'utf8', timeout: 60_000 });
    expect(humanShow.stdout).toContain(`Key        ops/old (key id ${shown.json.request.binding.keyId as string}, instance ${instance})`);
    const noDigest = as('officer-2', 'approvals', 'approve', id);
    expect(noDigest.status).toBe(2);
    expect(noDigest.json.error.details.digest).toBe(shown.json.request.digest);
    expect(remote('approvals', 'approve', id, '--digest', shown.json.request.digest).json.error.code).toBe('APPROVAL_SELF_APPROVAL');
    expect(as('officer-2', 'approvals', 'approve', id, '--digest', '0'.repeat(64)).json.error.code).toBe('APPROVAL_DIGEST_MISMATCH');
    expect(as('officer-2', 'approvals', 'approve', id, '--digest', shown.json.request.digest).json.request.approvals).toBe(1);
    const twice = as('officer-2', 'approvals', 'approve', id, '--digest', shown.json.request.digest);
    expect([twice.status, twice.json.error.code]).toEqual([4, 'APPROVAL_ALREADY_VOTED']);
    expect(remote('approvals', 'list', '--state', 'open').json.requests.map((r: { id: string }) => r.id)).toContain(id);
    expect(as('officer-2', 'approvals', 'cancel', id).json.error.code).toBe('APPROVAL_NOT_REQUESTER');
    expect(as('officer-3', 'approvals', 'deny', id, '--reason', 'keep it').json.request).toMatchObject({ state: 'denied', reason: 'keep it' });
    expect(as('officer-3', 'approvals', 'approve', id, '--digest', shown.json.request.digest).json.error.code).toBe('APPROVAL_NOT_PENDING');
    const again = remote('key', 'destroy', 'ops/old').json.error.details.requestId;
    expect(remote('approvals', 'cancel', again).json.request.state).toBe('cancelled');
    expect(remote('approvals', 'quorums').json).toContainEqual(expect.objectContaining({ class: 'key-destroy', required: 2 }));
    expect(remote('key', 'show', 'ops/old').json.instances[0].state).toBe('Deactivated');
    // Approved, it runs (destruction_wait P0D here), and the namespace can then go.
    expect(approveByOthers(remote('key', 'destroy', 'ops/old')).result.instance.state).toBe('Destroyed');
    expect(remote('namespace', 'remove', 'ops').json).toEqual({ namespace: 'ops', keysRemoved: 1 });
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
