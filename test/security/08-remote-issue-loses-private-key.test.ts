/**
 * Lesser attack of the trust review (issue 12): a remote `client issue` that
 * needs approval threw the new private key away. The CLI makes the key pair
 * and sends only the public key; when the appliance answered
 * APPROVAL_REQUIRED the command ended with the private key in memory only,
 * so the certificate the officers then approved was for a key nobody held:
 * unusable, and an invitation to re-issue outside the process.
 *
 * Now the private key is written (0600) to --out before the request leaves
 * and kept there while the request waits; `approvals collect ID --out DIR`,
 * run by the requester once the officers approved, checks it belongs to the
 * certificate and writes the certificate (and ca.pem, and NAME.p12 with
 * --p12) beside it. Runs the compiled CLI against a real appliance (mutual
 * TLS, SoftHSM2 token, SQLite keychain), and connects with what it wrote.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cliAsync, CliRun } from '../support/cli-runner';
import { Credentials, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

describe('attack: a remote client issue that needs approval loses its private key', () => {
  let app: TestAppliance;
  let dir: string;
  let officerArgs: string[];

  const writeCredentials = (name: string, credentials: Credentials): string[] => {
    writeFileSync(join(dir, `${name}.crt`), credentials.certificatePem);
    writeFileSync(join(dir, `${name}.key`), credentials.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'officer-ca.pem'), credentials.caPem);
    return ['--cert', join(dir, `${name}.crt`), '--key', join(dir, `${name}.key`), '--ca', join(dir, 'officer-ca.pem')];
  };
  const asOfficer = (...args: string[]): Promise<CliRun> =>
    cliAsync(['--data', join(dir, 'data'), '--server', `127.0.0.1:${app.port}`, ...officerArgs, '--json', ...args], { STRONGROOM_P12_PASSPHRASE: 'collect-passphrase' });
  const mode = (path: string): number => statSync(path).mode & 0o777;

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-sec08-'));
    app = await startTestAppliance();
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/payroll', algorithm: 'AES-256' })).error).toBeUndefined();
    // The group holds a material grant, so issuing an app into it waits for officers.
    expect((await app.approve(await officer.request('PolicyGrant', { group: 'payroll', pattern: 'hr/*', permissions: ['get'] }))).state).toBe('executed');
    officer.destroy();
    officerArgs = writeCredentials('officer', app.officer);
  });

  afterAll(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the private key (0600) while the request waits, and collect writes a certificate that connects over mTLS', async () => {
    const certs = join(dir, 'certs');
    const issued = await asOfficer('client', 'issue', 'payroll-app', '--role', 'app', '--groups', 'payroll', '--out', certs);
    expect([issued.status, issued.json.error.code]).toEqual([12, 'APPROVAL_REQUIRED']);
    const { requestId, digest, privateKey } = issued.json.error.details as { requestId: string; digest: string; privateKey: string };
    expect(privateKey).toBe(join(certs, 'payroll-app.key'));
    expect(mode(privateKey)).toBe(0o600);
    expect(issued.json.error.message).toContain(`strongroom approvals collect ${requestId} --out ${certs}`);
    expect(existsSync(join(certs, 'payroll-app.crt'))).toBe(false);

    // Before the quorum there is nothing to collect; and only the requester collects.
    const early = await asOfficer('approvals', 'collect', requestId, '--out', certs);
    expect([early.status, early.json.error.code]).toEqual([12, 'APPROVAL_REQUIRED']);
    for (const approver of app.approvers) {
      const conn = await app.connect(approver);
      expect((await conn.request('ApprovalApprove', { id: requestId, digest })).error).toBeUndefined();
      conn.destroy();
    }
    const stranger = await app.connect(app.approvers[0]);
    expect((await stranger.request('ApprovalCollect', { id: requestId })).error?.code).toBe('APPROVAL_NOT_REQUESTER');
    stranger.destroy();

    const collected = await asOfficer('approvals', 'collect', requestId, '--out', certs, '--p12');
    expect(collected.status).toBe(0);
    expect(collected.json.client).toMatchObject({ name: 'payroll-app', role: 'app', groups: ['payroll'] });
    for (const file of ['payroll-app.crt', 'ca.pem', 'payroll-app.p12']) expect(mode(join(certs, file))).toBe(0o600);
    const credentials: Credentials = {
      certificatePem: readFileSync(join(certs, 'payroll-app.crt'), 'utf8'),
      privateKeyPem: readFileSync(privateKey, 'utf8'),
      caPem: readFileSync(join(certs, 'ca.pem'), 'utf8'),
    };
    const conn = await app.connect(credentials);
    const got = await conn.request('Get', { name: 'hr/payroll' });
    expect(got.error).toBeUndefined();
    expect(Buffer.from((got.result as { material: string }).material, 'base64')).toHaveLength(32);
    // The PKCS#12 packs the same key and certificate, under the passphrase given.
    expect(() => createSecureContext({ pfx: readFileSync(join(certs, 'payroll-app.p12')), passphrase: 'collect-passphrase' })).not.toThrow();
  });

  it('refuses to collect into a folder whose key is not the one the certificate was issued for', async () => {
    const certs = join(dir, 'certs-2');
    const issued = await asOfficer('client', 'issue', 'payroll-app-2', '--role', 'app', '--groups', 'payroll', '--out', certs);
    const { requestId, digest } = issued.json.error.details as { requestId: string; digest: string };
    for (const approver of app.approvers) {
      const conn = await app.connect(approver);
      expect((await conn.request('ApprovalApprove', { id: requestId, digest })).error).toBeUndefined();
      conn.destroy();
    }
    // Another key in its place: the certificate is not written beside it.
    writeFileSync(join(certs, 'payroll-app-2.key'), readFileSync(join(dir, 'officer.key')), { mode: 0o600 });
    const wrong = await asOfficer('approvals', 'collect', requestId, '--out', certs);
    expect([wrong.status, wrong.json.error.code]).toEqual([2, 'INVALID_ARGUMENT']);
    expect(existsSync(join(certs, 'payroll-app-2.crt'))).toBe(false);
  });

  it('removes the key (and the folder) it wrote when the issue fails for another reason', async () => {
    const certs = join(dir, 'certs-3');
    const again = await asOfficer('client', 'issue', 'payroll-app', '--role', 'app', '--out', certs);
    expect([again.status, again.json.error.code]).toEqual([4, 'CLIENT_EXISTS']);
    expect(existsSync(join(certs, 'payroll-app.key'))).toBe(false);
    // And the folder it made for the key.
    expect(existsSync(certs)).toBe(false);
  });
});
