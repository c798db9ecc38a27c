/**
 * Certificates near their end, on real parts (SoftHSM2 token, SQLite
 * keychain and trail, mTLS, the compiled CLI): `status --server` names a
 * client certificate issued close to its end (text and --json) and not the
 * others; the daily check, on timers the test drives, records ONE
 * `certificate-expiry-warning` audit event per certificate and tells the
 * live event stream once, whatever the number of checks; a renewed
 * certificate is not warned of; a server certificate renewed locally while
 * serving (stored for the next start) does not hide the end of the one
 * still served.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { AuditEvent } from '../../domain/audit/audit-event';
import { LiveEvent } from '../../domain/events/event-bus';
import { describeCertificate } from '../../domain/pki/certificate-info';
import { parseSans, PkiService } from '../../domain/pki/pki-service';
import { CERTIFICATE_CHECK_INTERVAL_MS, CERTIFICATE_EXPIRY_EVENT, ServerCertificates } from '../../server/compose/server-certificates';
import { generateClientKeyPair } from '../../client/credentials';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { assertCliBuilt, cliAsync, CliRun } from '../support/cli-runner';
import { ManualTimers } from '../support/manual-timers';

describe('certificate expiry warnings', () => {
  let app: TestAppliance;
  let officer: RawConnection;
  let dir: string;
  let soonSerial: string;

  const officerCli = (...args: string[]): Promise<CliRun> =>
    cliAsync(['--data', join(dir, 'data'), '--server', `127.0.0.1:${app.port}`, '--cert', join(dir, 'officer.crt'), '--key', join(dir, 'officer.key'), '--ca', join(dir, 'ca.pem'), ...args]);
  const warningsInTrail = async (): Promise<AuditEvent[]> => {
    const answer = await officer.request('AuditSearch', { type: CERTIFICATE_EXPIRY_EVENT, limit: 100 });
    expect(answer.error).toBeUndefined();
    return (answer.result as { events: Array<{ event: AuditEvent }> }).events.map((e) => e.event);
  };

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-expiry-'));
    app = await startTestAppliance({ cert_expiry_warning: 'P30D' });
    officer = await app.connect(app.officer);
    writeFileSync(join(dir, 'officer.crt'), app.officer.certificatePem);
    writeFileSync(join(dir, 'officer.key'), app.officer.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), app.officer.caPem);
    // Issued a day ago for 15 days: 13 whole days left, well within P30D.
    soonSerial = describeCertificate(app.issue('soon-app', 'app', { validityDays: 15, issuedDaysAgo: 1 }).certificatePem).serialNumber;
  });

  afterAll(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('`status --server` warns of the certificate near its end, in text and --json, and of no other', async () => {
    const json = await officerCli('--json', 'status');
    expect(json.status).toBe(0);
    const certificates = json.json.certificates as { warningPeriod: string; certificates: Array<{ certificate: string; name: string; warning: boolean; daysLeft: number; serialNumber: string }> };
    expect(certificates.warningPeriod).toBe('P30D');
    expect(certificates.certificates.filter((c) => c.warning)).toEqual([expect.objectContaining({ certificate: 'client', name: 'soon-app', daysLeft: 13, serialNumber: soonSerial })]);
    expect(certificates.certificates.map((c) => c.certificate)).toEqual(expect.arrayContaining(['ca', 'server', 'client']));

    const text = await officerCli('status');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/certificates: 1 ends within P30D:\n\s+WARNING client soon-app \(serial [0-9a-f]+\) expires \S+, in 13 days/);
  });

  it('the daily check records one audit event and one live event per certificate, however many checks run', async () => {
    const timers = new ManualTimers(new ManualClock(Date.now()));
    const live: LiveEvent[] = [];
    const unsubscribe = app.server.services.events.subscribe((event) => live.push(event));
    const watch = new ServerCertificates(app.appliance, {
      clock: timers.clock,
      timers,
      log: silentLogger,
      stamper: { clock: timers.clock, newId: () => app.appliance.ids.newId() },
      events: app.server.services.events,
      record: app.server.services.recordAudit,
    });
    try {
      watch.start();
      expect(timers.delays()).toEqual([CERTIFICATE_CHECK_INTERVAL_MS]);
      await watch.check(); // the start's own check, awaited
      await timers.advance(CERTIFICATE_CHECK_INTERVAL_MS);
      await timers.advance(CERTIFICATE_CHECK_INTERVAL_MS);
      await watch.check();
    } finally {
      await watch.stop();
      unsubscribe();
    }
    const recorded = (await warningsInTrail()).filter((e) => e.custom.serialNumber === soonSerial);
    expect(recorded).toEqual([
      expect.objectContaining({ type: CERTIFICATE_EXPIRY_EVENT, result: 'ok', custom: expect.objectContaining({ certificate: 'client', name: 'soon-app', warningPeriod: 'P30D', daysLeft: '13' }) }),
    ]);
    expect(live.filter((e) => e.kind === 'certificate-expiry')).toEqual([expect.objectContaining({ kind: 'certificate-expiry', certificate: 'client', name: 'soon-app', serialNumber: soonSerial, daysLeft: 13 })]);
    // It is an audit event like any other: the stream's audit kind carried it too.
    expect(live.filter((e) => e.kind === 'audit' && e.event.type === CERTIFICATE_EXPIRY_EVENT && e.event.custom.serialNumber === soonSerial)).toHaveLength(1);
    // Nothing else was near its end.
    expect(live.filter((e) => e.kind === 'certificate-expiry')).toHaveLength(1);
  });

  it('once renewed, the certificate is no longer near its end: status and the check are quiet about it', async () => {
    const renewed = await officer.request('ClientRenew', { name: 'soon-app', publicKeyPem: generateClientKeyPair().publicKeyPem });
    expect(renewed.error).toBeUndefined();
    const status = await officerCli('--json', 'status');
    expect((status.json.certificates.certificates as Array<{ warning: boolean }>).filter((c) => c.warning)).toEqual([]);
    const before = (await warningsInTrail()).length;
    const timers = new ManualTimers(new ManualClock(Date.now()));
    const watch = new ServerCertificates(app.appliance, { clock: timers.clock, timers, log: silentLogger, stamper: { clock: timers.clock, newId: () => app.appliance.ids.newId() }, events: app.server.services.events, record: app.server.services.recordAudit });
    await watch.check();
    expect(await warningsInTrail()).toHaveLength(before);
  });

  it('warns of the server certificate being served, not of one renewed locally for the next start', async () => {
    // What a local `server-cert renew` does while the server runs: stored in the keychain, served from the next start.
    const renewLocally = (validityDays: number): void =>
      void new PkiService(app.appliance.keychain, app.appliance.keychain.directory, new ManualClock(Date.now())).renewServerCertificate({ sans: parseSans('localhost,127.0.0.1'), validityDays });
    const serverCertificate = async (): Promise<Array<{ serialNumber: string; warning: boolean }>> =>
      ((await officerCli('--json', 'status')).json.certificates.certificates as Array<{ certificate: string; serialNumber: string; warning: boolean }>).filter((c) => c.certificate === 'server');
    // The one the listeners started with is far from its end: a short one stored for later raises no alarm.
    renewLocally(10);
    expect(await serverCertificate()).toEqual([expect.objectContaining({ warning: false })]);
    // A short one served now is warned of, and a long one stored for later does not hide it.
    const short = await officer.request('ServerCertRenew', { validityDays: 10 });
    expect(short.error).toBeUndefined();
    const servedSerial = (short.result as { certificate: { serialNumber: string } }).certificate.serialNumber;
    renewLocally(825);
    expect(await serverCertificate()).toEqual([expect.objectContaining({ serialNumber: servedSerial, warning: true })]);
  });
});
