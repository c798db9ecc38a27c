/**
 * `strongroom policy check --client NAME --key NAME` (the compiled CLI in a
 * child process) against a real appliance: an officer and an auditor over
 * mutual TLS (their own key file given as the global --key before the
 * command, the key to check as the command's --key), the grant or group
 * grant or role behind each permission, an alias checked as its key, a
 * revoked client holding nothing, an app refused; and the answer agreeing
 * with what the app's own requests then meet. Locally too, on a demo data
 * folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliAsync, CliRun } from '../support/cli-runner';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

/** Runs the CLI without blocking this process (the appliance serves from it). */
const run = (args: string[]): Promise<CliRun> => cliAsync(args);

/** Permission → the grant ids (or "role:officer") PolicyCheck names for it. */
function sourcesByPermission(result: { permissions: Array<{ permission: string; allowed: boolean; sources: Array<{ kind: string; grant?: string; role?: string }> }> }): Record<string, string[]> {
  return Object.fromEntries(result.permissions.map((p) => [p.permission, p.sources.map((s) => (s.kind === 'role' ? `role:${s.role}` : (s.grant as string)))]));
}

describe('strongroom policy check', () => {
  let app: TestAppliance;
  let dir: string;
  let asOfficer: string[];
  let asAuditor: string[];
  let asApp: string[];
  let appConn: RawConnection;

  const write = (name: string, credentials: Credentials): string[] => {
    writeFileSync(join(dir, `${name}.crt`), credentials.certificatePem);
    writeFileSync(join(dir, `${name}.key`), credentials.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), credentials.caPem);
    return ['--data', join(dir, 'data'), '--server', `127.0.0.1:${app.port}`, '--cert', join(dir, `${name}.crt`), '--key', join(dir, `${name}.key`), '--ca', join(dir, 'ca.pem')];
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-policy-check-'));
    app = await startTestAppliance();
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/payroll' })).error).toBeUndefined();
    expect((await officer.request('AliasSet', { alias: 'pay/current', name: 'hr/payroll' })).error).toBeUndefined();
    officer.destroy();
    asOfficer = write('officer', app.officer);
    asAuditor = write('auditor', app.issue('auditor-1', 'auditor'));
    const payrollApp = app.issue('payroll-app', 'app', { groups: ['payroll'] });
    asApp = write('payroll-app', payrollApp);
    app.issue('gone-app', 'app');
    const directory = app.appliance.keychain.directory;
    const at = new Date().toISOString();
    directory.putGrant({ id: 'g-own', subjectKind: 'client', subject: 'payroll-app', pattern: 'hr/payroll', permissions: ['encrypt'], createdAt: at, createdBy: 'test' });
    directory.putGrant({ id: 'g-group', subjectKind: 'group', subject: 'payroll', pattern: 'hr/*', permissions: ['encrypt', 'locate', 'get-attributes'], createdAt: at, createdBy: 'test' });
    directory.putGrant({ id: 'g-other', subjectKind: 'client', subject: 'payroll-app', pattern: 'crm/*', permissions: ['decrypt'], createdAt: at, createdBy: 'test' });
    directory.putGrant({ id: 'g-gone', subjectKind: 'client', subject: 'gone-app', pattern: '*', permissions: ['encrypt'], createdAt: at, createdBy: 'test' });
    directory.revokeClient('gone-app', at);
    appConn = await app.connect(payrollApp);
  });

  afterAll(async () => {
    appConn?.destroy();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows each permission with the grant, group grant or role that gives it, to an officer (--json)', async () => {
    const checked = await run(['--json', ...asOfficer, 'policy', 'check', '--client', 'payroll-app', '--key', 'hr/payroll']);
    expect(checked.stderr).toBe('');
    expect(checked.status).toBe(0);
    expect(checked.json.client).toEqual({ name: 'payroll-app', role: 'app', groups: ['payroll'], revokedAt: null });
    expect(checked.json.key).toEqual({ requested: 'hr/payroll', name: 'hr/payroll', alias: false });
    const sources = sourcesByPermission(checked.json);
    expect(sources.encrypt).toEqual(['g-own', 'g-group']);
    expect(sources.locate).toEqual(['g-group']);
    expect(sources.decrypt).toEqual([]); // g-other is on crm/*
    expect(sources.get).toEqual([]);

    const officerItself = await run(['--json', ...asOfficer, 'policy', 'check', '-c', 'test-officer', '-k', 'hr/payroll']);
    expect(sourcesByPermission(officerItself.json)).toMatchObject({ rekey: ['role:officer'], encrypt: [] });
  });

  it('agrees with what the app\'s own requests meet', async () => {
    const checked = await run(['--json', ...asOfficer, 'policy', 'check', '--client', 'payroll-app', '--key', 'hr/payroll']);
    const allowed = new Map<string, boolean>(checked.json.permissions.map((p: { permission: string; allowed: boolean }) => [p.permission, p.allowed]));
    const encrypted = await appConn.request('Encrypt', { name: 'hr/payroll', plaintext: Buffer.from('x').toString('base64') });
    expect(encrypted.error === undefined).toBe(allowed.get('encrypt'));
    const ciphertext = (encrypted.result as { ciphertext: string }).ciphertext;
    expect((await appConn.request('Decrypt', { name: 'hr/payroll', ciphertext })).error?.code === undefined).toBe(allowed.get('decrypt'));
    expect((await appConn.request('Get', { name: 'hr/payroll' })).error === undefined).toBe(allowed.get('get'));
    expect((await appConn.request('GetAttributes', { name: 'hr/payroll' })).error === undefined).toBe(allowed.get('get-attributes'));
    expect((await appConn.request('ReKey', { name: 'hr/payroll' })).error === undefined).toBe(allowed.get('rekey'));
  });

  it('prints a table in text mode, checks an alias as its key, and works for an auditor', async () => {
    const text = await run([...asAuditor, 'policy', 'check', '--client', 'payroll-app', '--key', 'pay/current']);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('Client payroll-app (app, groups payroll) on pay/current (an alias of hr/payroll');
    expect(text.stdout).toContain('Allowed: locate, get-attributes, encrypt');
    expect(text.stdout).toMatch(/^encrypt +yes +grant g-own \(client payroll-app, pattern hr\/payroll\); grant g-group \(group payroll, pattern hr\/\*\)$/m);
    expect(text.stdout).toMatch(/^decrypt +no +-$/m);
  });

  it('says a revoked client holds nothing, and refuses an app and an unknown client with their codes', async () => {
    const gone = await run(['--json', ...asOfficer, 'policy', 'check', '--client', 'gone-app', '--key', 'hr/payroll']);
    expect(gone.json.client.revokedAt).toEqual(expect.any(String));
    expect(gone.json.permissions.every((p: { allowed: boolean }) => !p.allowed)).toBe(true);
    const byApp = await run(['--json', ...asApp, 'policy', 'check', '--client', 'payroll-app', '--key', 'hr/payroll']);
    expect(byApp.status).toBe(10);
    expect(byApp.json.error.code).toBe('PERMISSION_DENIED');
    const unknown = await run(['--json', ...asOfficer, 'policy', 'check', '--client', 'nobody', '--key', 'hr/payroll']);
    expect(unknown.status).toBe(3);
    expect(unknown.json.error.code).toBe('CLIENT_NOT_FOUND');
    const missing = await run(['--json', ...asOfficer, 'policy', 'check', '--client', 'payroll-app']);
    expect(missing.status).toBe(2);
  });

  it('works locally, as the local operator, on a demo data folder', async () => {
    const data = join(dir, 'local-data');
    expect((await run(['--json', '--data', data, 'init', '--demo-token'])).status).toBe(0);
    expect((await run(['--json', '--data', data, 'policy', 'grant', '--client', 'admin', '--pattern', 'ops/*', '--permissions', 'locate'])).status).toBe(0);
    const local = await run(['--json', '--data', data, 'policy', 'check', '--client', 'admin', '--key', 'ops/thing']);
    expect(local.status).toBe(0);
    const sources = sourcesByPermission(local.json);
    expect(sources.locate).toEqual(['role:officer', expect.any(String)]);
    expect(sources.encrypt).toEqual([]);
  });
});
