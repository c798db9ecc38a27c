/**
 * Certificate renewal on real parts (SoftHSM2 token, SQLite keychain, real
 * TLS sockets, the compiled CLI): a client renewed with a new key pair
 * connects with the new files while its old certificate is refused at the
 * next handshake and its open connection is closed; an officer's renewal is
 * dual-controlled; the server certificate is renewed under an open
 * connection, which keeps working with the old certificate while a new
 * connection is served the new one (told apart by the peer certificate's
 * serial and fingerprint), the KMIP and event-stream listeners serve the new
 * one too, and a restart serves it.
 */
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCertificate } from '../../domain/pki/certificate-info';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { assertCliBuilt, cliAsync, CliRun } from '../support/cli-runner';
import { generateClientKeyPair } from '../../client/credentials';

/** The fingerprint of the certificate a listener presents at the handshake (the connection then ends). */
function servedOn(port: number, credentials: Credentials): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: credentials.caPem, cert: credentials.certificatePem, key: credentials.privateKeyPem, servername: 'localhost' });
    socket.once('secureConnect', () => {
      const der = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(describeCertificate(new X509Certificate(der).toString()).fingerprint256);
    });
    socket.once('error', reject);
  });
}

/** The certificate the server presented on this connection (getPeerCertificate: Node's getPeerX509Certificate answers only once). */
function served(connection: RawConnection): { fingerprint256: string; serialNumber: string } {
  const { fingerprint256, serialNumber } = describeCertificate(new X509Certificate(connection.socket.getPeerCertificate().raw).toString());
  return { fingerprint256, serialNumber };
}

describe('certificate renewal', () => {
  let app: TestAppliance;
  let officer: RawConnection;
  let dir: string;

  const officerCli = (...args: string[]): Promise<CliRun> =>
    cliAsync(['--data', join(dir, 'data'), '--server', `127.0.0.1:${app.port}`, '--cert', join(dir, 'officer.crt'), '--key', join(dir, 'officer.key'), '--ca', join(dir, 'ca.pem'), ...args]);

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-renew-'));
    app = await startTestAppliance();
    officer = await app.connect(app.officer);
    writeFileSync(join(dir, 'officer.crt'), app.officer.certificatePem);
    writeFileSync(join(dir, 'officer.key'), app.officer.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), app.officer.caPem);
  });

  afterAll(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renews an app with `client renew` over the wire: the new files connect, the old certificate is refused at once', async () => {
    const old = app.issue('billing', 'app', { groups: ['finance'] });
    const before = await app.connect(old);
    expect((await before.request('Query')).result).toMatchObject({ identity: { name: 'billing', role: 'app' } });

    const run = await officerCli('--json', 'client', 'renew', 'billing', '--out', join(dir, 'billing'));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const renewed: Credentials = {
      certificatePem: readFileSync(join(dir, 'billing', 'billing.crt'), 'utf8'),
      privateKeyPem: readFileSync(join(dir, 'billing', 'billing.key'), 'utf8'),
      caPem: readFileSync(join(dir, 'billing', 'ca.pem'), 'utf8'),
    };
    const info = describeCertificate(renewed.certificatePem);
    expect(run.json.client).toMatchObject({ name: 'billing', role: 'app', groups: ['finance'], serialNumber: info.serialNumber, fingerprint256: info.fingerprint256 });
    expect(run.json.previous.serialNumber).toBe(describeCertificate(old.certificatePem).serialNumber);
    // A new key pair, not the old key re-certified.
    expect(new X509Certificate(renewed.certificatePem).publicKey.export({ type: 'spki', format: 'pem' })).not.toBe(new X509Certificate(old.certificatePem).publicKey.export({ type: 'spki', format: 'pem' }));

    const after = await app.connect(renewed);
    expect((await after.request('Query')).result).toMatchObject({ identity: { name: 'billing', role: 'app', groups: ['finance'] } });
    // The connection opened with the old certificate is closed, as a revocation closes it…
    await before.waitClosed();
    // …and a new one with it at the handshake.
    const again = await app.connect(old);
    expect((await again.next()).error?.code).toBe('UNAUTHENTICATED');
    // The renewal is in the trail, by the officer.
    const trail = await officer.request('AuditSearch', { type: 'operation', operation: 'ClientRenew', limit: 10 });
    expect((trail.result as { events: Array<{ event: { result: string; identity: { name: string } } }> }).events.map((e) => [e.event.identity.name, e.event.result])).toEqual([['test-officer', 'ok']]);
  });

  it("dual-controls an officer's renewal, its own too: one officer cannot take an officer identity alone", async () => {
    const pair = generateClientKeyPair();
    const asked = await officer.request('ClientRenew', { name: 'test-officer', publicKeyPem: pair.publicKeyPem });
    expect(asked.error?.code).toBe('APPROVAL_REQUIRED');
    const other = await officer.request('ClientRenew', { name: 'approver-1', publicKeyPem: generateClientKeyPair().publicKeyPem });
    expect(other.error?.code).toBe('APPROVAL_REQUIRED');
    await officer.request('ApprovalCancel', { id: (other.error!.details as { requestId: string }).requestId });

    const done = await app.approve(asked);
    expect(done.state).toBe('executed');
    const result = done.result as { certificatePem: string; client: { name: string; role: string } };
    expect(result.client).toMatchObject({ name: 'test-officer', role: 'officer' });
    const renewed = await app.connect({ certificatePem: result.certificatePem, privateKeyPem: pair.privateKeyPem, caPem: app.officer.caPem });
    expect((await renewed.request('Query')).result).toMatchObject({ identity: { name: 'test-officer', role: 'officer' } });
    // The requester collects the certificate for the key its CLI kept, as after a dual-controlled issue.
    const collected = await renewed.request('ApprovalCollect', { id: done.id });
    expect((collected.result as { certificatePem: string }).certificatePem).toBe(result.certificatePem);
    officer = renewed;
    writeFileSync(join(dir, 'officer.crt'), result.certificatePem);
    writeFileSync(join(dir, 'officer.key'), pair.privateKeyPem, { mode: 0o600 });
  });

  it('refuses to renew a revoked or unknown client, and storing nothing for it', async () => {
    app.issue('gone', 'auditor');
    const revoked = await app.approve(await officer.request('ClientRevoke', { name: 'gone' }));
    expect(revoked.state).toBe('executed');
    const publicKeyPem = generateClientKeyPair().publicKeyPem;
    const refused = await officer.request('ClientRenew', { name: 'gone', publicKeyPem });
    expect(refused.error?.code).toBe('WRONG_STATE');
    expect(refused.error?.message).toMatch(/revoked .*issue a new name/);
    expect((await officer.request('ClientRenew', { name: 'nobody', publicKeyPem })).error?.code).toBe('CLIENT_NOT_FOUND');
    const pending = await officer.request('ApprovalList', { state: 'pending' });
    expect((pending.result as { requests: Array<{ operation: string }> }).requests.filter((r) => r.operation === 'ClientRenew')).toEqual([]);
  });

  it('renews the server certificate without downtime: an open connection goes on, a new one gets the new certificate, and so does a restart', async () => {
    const app2 = await app.connect(app.issue('watcher', 'auditor'));
    const { fingerprint256: oldFingerprint, serialNumber: oldSerial } = served(app2);

    const run = await officerCli('--json', 'server-cert', 'renew', '--validity-days', '397');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const renewed = run.json as { certificate: { serialNumber: string; fingerprint256: string; notAfter: string }; previous: { serialNumber: string } };
    expect(renewed.previous.serialNumber).toBe(oldSerial);
    expect(renewed.certificate.serialNumber).not.toBe(oldSerial);

    // The connection opened before is served on, over the old certificate.
    expect((await app2.request('Query')).result).toMatchObject({ identity: { name: 'watcher' } });
    expect(served(app2).fingerprint256).toBe(oldFingerprint);
    // A new one is served the new certificate, which the same CA vouches for.
    const fresh = await app.connect(await freshOfficer());
    expect(served(fresh)).toEqual({ fingerprint256: renewed.certificate.fingerprint256, serialNumber: renewed.certificate.serialNumber });
    expect((await fresh.request('Query')).error).toBeUndefined();
    // Every listener serves it: KMIP and the event stream too.
    for (const port of [app.server.kmipPort, app.server.eventsPort]) {
      expect(await servedOn(port as number, await freshOfficer())).toBe(renewed.certificate.fingerprint256);
    }

    // The renewal is audited; a restart serves the new certificate (its HSM-sealed copy was replaced too).
    const trail = await fresh.request('AuditSearch', { type: 'operation', operation: 'ServerCertRenew', limit: 10 });
    expect((trail.result as { events: Array<{ event: { result: string } }> }).events.map((e) => e.event.result)).toEqual(['ok']);
    await app.restart();
    const afterRestart = await app.connect(await freshOfficer());
    expect(served(afterRestart).fingerprint256).toBe(renewed.certificate.fingerprint256);
    officer = afterRestart;
  });

  /** The officer's current (renewed) credentials, from the files the dual-control test wrote. */
  async function freshOfficer(): Promise<Credentials> {
    return { certificatePem: readFileSync(join(dir, 'officer.crt'), 'utf8'), privateKeyPem: readFileSync(join(dir, 'officer.key'), 'utf8'), caPem: app.officer.caPem };
  }
});
