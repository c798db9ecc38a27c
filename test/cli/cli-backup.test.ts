/**
 * `strongroom backup create|verify|upload|restore` as an operator runs them: in local mode
 * on a keychain `init --demo-token` made, and over the wire against
 * `strongroom serve` with the officer certificate init made; the copy is
 * verified with the HSM (every instance opened) and with a kept public key
 * alone; a changed byte and a cut file fail with their codes (exit 7).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cli, ServingCli, startServe } from '../support/cli-runner';

describe('strongroom backup', () => {
  let dir: string;
  let data: string;
  const local = (...args: string[]) => cli(['--data', data, '--json', ...args]);

  beforeAll(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-backup-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
    for (const name of ['hr/payroll', 'hr/pension']) expect(local('key', 'create', name).status).toBe(0);
    expect(local('key', 'rollover', 'hr/payroll').status).toBe(0);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a backup in local mode, written 0600, that verifies with the HSM: every instance opens', () => {
    const out = join(dir, 'local.srbk');
    const made = local('backup', 'create', '--out', out);
    expect(made.status).toBe(0);
    expect(made.json).toMatchObject({ out, manifest: { counts: { keys: 2, instances: 3, sealedInstances: 3 } } });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(statSync(out).size).toBe(made.json.bytes);
    const verified = local('backup', 'verify', out);
    expect(verified.status).toBe(0);
    expect(verified.json).toMatchObject({ ok: true, signer: { source: 'hsm' }, instances: { checked: true, opened: 3 } });
    const human = cli(['--data', data, 'backup', 'verify', out]);
    expect(human.stdout).toContain('is intact');
    expect(human.stdout).toContain('every instance opens (3)');
  });

  it('verifies against a kept public key without the HSM, and says it opened no instance', () => {
    const out = join(dir, 'kept-key.srbk');
    expect(local('backup', 'create', '--out', out).status).toBe(0);
    const pem = cli(['--data', data, 'audit', 'public-key']);
    expect(pem.status).toBe(0);
    const keyFile = join(dir, 'signing-key.pem');
    writeFileSync(keyFile, pem.stdout);
    const verified = local('backup', 'verify', out, '--public-key', keyFile, '--no-hsm');
    expect(verified.status).toBe(0);
    expect(verified.json).toMatchObject({ signer: { source: 'file' }, instances: { checked: false } });
    // Without the HSM, the key to trust must come from somewhere.
    expect(local('backup', 'verify', out, '--no-hsm').json.error.code).toBe('INVALID_ARGUMENT');
  });

  it('fails a changed byte (BACKUP_TAMPERED) and a cut file (BACKUP_TRUNCATED) with exit 7', () => {
    const out = join(dir, 'damaged.srbk');
    expect(local('backup', 'create', '--out', out).status).toBe(0);
    const bytes = readFileSync(out);
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(out, bytes);
    const tampered = local('backup', 'verify', out);
    expect(tampered.status).toBe(7);
    expect(tampered.json.error.code).toBe('BACKUP_TAMPERED');
    truncateSync(out, bytes.length - 5000);
    const cut = local('backup', 'verify', out);
    expect(cut.status).toBe(7);
    expect(cut.json.error.code).toBe('BACKUP_TRUNCATED');
  });

  it('refuses an --out in a missing folder before a backup is made, and a folder given to verify, each with exit 2', () => {
    const backups = join(data, 'backups');
    const before = readdirSync(backups).sort();
    const missing = local('backup', 'create', '--out', join(dir, 'no-such-folder', 'b.srbk'));
    expect([missing.status, missing.json.error.code]).toEqual([2, 'INVALID_ARGUMENT']);
    expect(missing.json.error.message).toMatch(/does not exist/);
    // No backup was made that the operator would not know of.
    expect(readdirSync(backups).sort()).toEqual(before);
    const folder = local('backup', 'verify', dir);
    expect([folder.status, folder.json.error.code]).toEqual([2, 'INVALID_ARGUMENT']);
    expect(folder.json.error.message).toMatch(/is not a file/);
  });

  describe('over the wire', () => {
    let server: ServingCli;
    beforeAll(async () => {
      server = await startServe(data);
    });
    afterAll(async () => server?.stop());

    it('makes a backup on the running server with the officer certificate, copies and verifies it', () => {
      const out = join(dir, 'remote.srbk');
      const made = cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--json', 'backup', 'create', '--out', out]);
      expect(made.status).toBe(0);
      expect(made.json.manifest.counts).toMatchObject({ keys: 2, instances: 3 });
      expect(made.json.manifest.auditHead.seq).toBeGreaterThan(0);
      const verified = local('backup', 'verify', out);
      expect(verified.status).toBe(0);
      expect(verified.json.instances).toEqual({ checked: true, opened: 3 });
      expect(verified.json.manifest.auditHead).toEqual(made.json.manifest.auditHead);
    });

    it('lists the backups in backup_dir newest first: --json in local mode, a table over the wire', () => {
      const listed = local('backup', 'list');
      expect(listed.status).toBe(0);
      const onDisk = readdirSync(join(data, 'backups')).filter((n) => /^backup-.*\.srbk$/.test(n));
      expect(listed.json.total).toBe(onDisk.length);
      expect([...listed.json.backups.map((b: { name: string }) => b.name)].sort()).toEqual(onDisk.sort());
      expect(listed.json.backups[0]).toMatchObject({ error: null, manifest: { trigger: 'request', signedHere: true } });
      const human = cli(['--data', data, '--server', `127.0.0.1:${server.port}`, 'backup', 'list']);
      expect(human.status).toBe(0);
      expect(human.stdout).toMatch(/^NAME +MADE \(UTC\) +SIZE +BY +KEYCHAIN +AUDIT HEAD +TRUST +MASTER KEY +SIGNED BY/);
      expect(human.stdout).toContain(listed.json.backups[0].name);
      expect(human.stdout).toContain('this appliance');
    });

    it('uploads a copy held here under --name (verified), which restore then names; a tampered copy and a path as name are refused and leave nothing', () => {
      const remote = (...args: string[]) => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--json', ...args]);
      const copy = join(dir, 'laptop-copy.srbk');
      const made = remote('backup', 'create', '--out', copy);
      expect(made.status).toBe(0);
      const backups = join(data, 'backups');
      const uploaded = remote('backup', 'upload', copy, '--name', 'from-laptop.srbk');
      expect(uploaded.status).toBe(0);
      expect(uploaded.json).toMatchObject({ name: 'from-laptop.srbk', done: true, totalBytes: made.json.bytes, sha256: made.json.sha256 });
      expect(readFileSync(join(backups, 'from-laptop.srbk')).equals(readFileSync(copy))).toBe(true);
      const requested = remote('backup', 'restore', 'from-laptop.srbk');
      expect([requested.status, requested.json.error.code]).toEqual([12, 'APPROVAL_REQUIRED']);
      expect(remote('approvals', 'cancel', requested.json.error.details.requestId).status).toBe(0);

      const before = readdirSync(backups).sort();
      const bytes = readFileSync(copy);
      bytes[bytes.length - 10] ^= 0xff;
      const tampered = join(dir, 'laptop-tampered.srbk');
      writeFileSync(tampered, bytes);
      const refused = remote('backup', 'upload', tampered);
      expect([refused.status, refused.json.error.code]).toEqual([7, 'BACKUP_TAMPERED']);
      const path = remote('backup', 'upload', copy, '--name', '../keychain.srbk');
      expect([path.status, path.json.error.code]).toEqual([2, 'INVALID_ARGUMENT']);
      expect(readdirSync(backups).sort()).toEqual(before);
    });

    it('restores a backup once two other officers approve; serve restarts onto it on the same port', async () => {
      const remote = (cert: string | null) => (...args: string[]) =>
        cli(['--data', data, '--server', `127.0.0.1:${server.port}`, ...(cert ? ['--cert', join(data, 'pki', `${cert}.crt`), '--key', join(data, 'pki', `${cert}.key`)] : []), '--json', ...args]);
      const made = remote(null)('backup', 'create', '--out', join(dir, 'before-restore.srbk'));
      expect(made.status).toBe(0);
      expect(remote(null)('key', 'create', 'hr/after-backup').status).toBe(0);
      const requested = remote(null)('backup', 'restore', made.json.name);
      expect([requested.status, requested.json.error.code]).toEqual([12, 'APPROVAL_REQUIRED']);
      const { requestId, digest } = requested.json.error.details as { requestId: string; digest: string };
      expect(JSON.stringify(remote('officer-2')('approvals', 'show', requestId).json)).toContain(made.json.sha256);
      // Without --json, approvers read the target one fact a line, in show and below list's table.
      const human = (cert: string, ...args: string[]) => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--cert', join(data, 'pki', `${cert}.crt`), '--key', join(data, 'pki', `${cert}.key`), ...args]);
      const shown = human('officer-2', 'approvals', 'show', requestId).stdout;
      expect(shown).toContain(`Backup file    ${made.json.name}`);
      expect(shown).toContain(`SHA-256        ${made.json.sha256}`);
      expect(shown).toContain("(this appliance's key)");
      expect(human('officer-2', 'approvals', 'list', '--state', 'open').stdout).toContain(`Restore ${requestId} (pending, 0/2) replaces the keychain with:`);
      expect(remote('officer-2')('approvals', 'approve', requestId, '--digest', digest).json.request.state).toBe('pending');
      expect(remote('officer-3')('approvals', 'approve', requestId, '--digest', digest).status).toBe(0);
      await server.waitForStdout('"restarted":"backup-restore"');
      expect(remote(null)('key', 'show', 'hr/payroll').status).toBe(0);
      expect(remote(null)('key', 'show', 'hr/after-backup').status).toBe(3);
      expect(remote(null)('backup', 'restore', 'backup-20200101T000000Z-00000000.srbk').json.error.code).toBe('BACKUP_NOT_FOUND');
      // A path to a kept copy is the usual mistake: the answer says restore reads backup_dir only.
      const path = remote(null)('backup', 'restore', join(dir, 'before-restore.srbk'));
      expect([path.status, path.json.error.code]).toEqual([2, 'INVALID_ARGUMENT']);
      expect(path.json.error.message).toMatch(/not a path/);
      expect(local('backup', 'restore', made.json.name).json.error.code).toBe('DUAL_CONTROL_LOCAL_MODE');
    });
  });
});
