/**
 * The live event stream over real mutual TLS, on a real appliance (SoftHSM2,
 * SQLite, certificates made now): officers and auditors receive the audit
 * events of an app's requests in chain order, filtered by kind, audit type
 * and namespace; approval and rollover-notice events as they are published;
 * every refused subscriber is in the audit trail; revocation ends a stream;
 * nothing streamed carries key material.
 */
import { ApprovalLiveEvent } from '../../../domain/events/event-bus';
import { createCa } from '../../../domain/pki/ca';
import { issueClientCertificate } from '../../../domain/pki/issue';
import { generateClientKeyPair } from '../../../client/credentials';
import { systemClock } from '../../../common/clock';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { auditEvents, openStream, readFor, readUntil, refusalCode, verifyStreamChain, waitForAudit } from './event-support';

/** Long enough for an event published now to cross a loopback socket; used only to show that something does NOT arrive. */
const QUIET_MS = 300;

describe('live event stream', () => {
  let app: TestAppliance;
  let hrApp: Credentials;
  let auditor: Credentials;
  let appConn: RawConnection;

  beforeAll(async () => {
    app = await startTestAppliance();
    hrApp = app.issue('hr-app', 'app', { groups: ['staff'] });
    auditor = app.issue('auditor-1', 'auditor');
    const officer = await app.connect(app.officer);
    for (const name of ['hr/payroll', 'payroll/run']) expect((await officer.request('Create', { name })).error).toBeUndefined();
    // A grant of material is dual-controlled: the fixture's two approver officers approve it.
    expect((await app.approve(await officer.request('PolicyGrant', { group: 'staff', pattern: '*', permissions: ['get'] }))).state).toBe('executed');
    officer.destroy();
    appConn = await app.connect(hrApp);
  });

  afterAll(async () => app.stop());

  it('streams the audit events of an app\'s Gets to an officer and an auditor, in seq order, with hashes that chain, and no key material', async () => {
    const officerStream = await openStream(app, app.officer);
    const auditorStream = await openStream(app, auditor);
    expect(officerStream.subscription).toMatchObject({ kind: 'subscribed', identity: { name: 'test-officer', role: 'officer' }, filter: { types: ['audit', 'approval', 'rollover-notice', 'certificate-expiry'], auditTypes: null, namespaces: null } });
    expect(auditorStream.subscription.identity).toEqual({ name: 'auditor-1', role: 'auditor' });
    const materials: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const got = await appConn.request('Get', { name: 'hr/payroll' }, { endUser: `user-${i}` });
      materials.push(Buffer.from((got.result as { material: string }).material, 'base64'));
    }
    const isGet = (e: { kind: string; event?: unknown }): boolean => e.kind === 'audit' && (e.event as { operation?: string }).operation === 'Get';
    for (const stream of [officerStream, auditorStream]) {
      const { events } = await readUntil(stream, (seen) => seen.filter(isGet).length >= 5);
      const gets = auditEvents(events).filter(isGet);
      expect(gets.map((e) => e.event.endUser)).toEqual(['user-0', 'user-1', 'user-2', 'user-3', 'user-4']);
      expect(gets.every((e) => e.event.key === 'hr/payroll' && (e.event.identity as { name: string }).name === 'hr-app' && e.event.result === 'ok')).toBe(true);
      const seqs = auditEvents(events).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      // Unfiltered, the stream is the chain itself: contiguous and every hash recomputes.
      expect(verifyStreamChain(events)).toEqual({ ok: true, events: auditEvents(events).length });
      // And it is the chain the keychain holds.
      const stored = app.appliance.store.audit.readAuditRecords(gets[0].seq, 1)[0];
      expect(stored.hash.toString('hex')).toBe(gets[0].hash);
      const text = JSON.stringify(events);
      for (const material of materials) {
        for (const needle of [material.toString('base64'), material.toString('hex'), material.toString('base64url')]) expect(text).not.toContain(needle);
        expect(Buffer.from(text, 'latin1').includes(material)).toBe(false);
        expect(Buffer.from(text, 'utf8').includes(material)).toBe(false);
      }
      await stream.close();
    }
  });

  it('filters by namespace: an hr-only subscriber gets no payroll events, a payroll-only one no hr events', async () => {
    const hrStream = await openStream(app, auditor, { namespaces: ['hr'] });
    const payStream = await openStream(app, app.officer, { types: ['audit'], namespaces: ['payroll'] });
    for (const name of ['payroll/run', 'hr/payroll', 'payroll/run', 'hr/payroll']) expect((await appConn.request('Get', { name })).error).toBeUndefined();
    const hr = await readUntil(hrStream, (seen) => seen.length >= 2);
    const pay = await readUntil(payStream, (seen) => seen.length >= 2);
    expect(auditEvents(hr.events).map((e) => e.event.key)).toEqual(['hr/payroll', 'hr/payroll']);
    expect(auditEvents(pay.events).map((e) => e.event.key)).toEqual(['payroll/run', 'payroll/run']);
    // Nothing else follows: no payroll event, and no event about no key, reaches the hr subscriber.
    expect(await readFor(hrStream, QUIET_MS)).toEqual([]);
    await hrStream.close();
    await payStream.close();
  });

  it('filters by kind and audit type, and a subscribe message replaces the filter', async () => {
    const failures = await openStream(app, auditor, { types: ['audit'], auditTypes: ['auth-failure'] });
    const approvalsOnly = await openStream(app, app.officer, { types: ['approval'] });
    expect((await appConn.request('Get', { name: 'hr/payroll' })).error).toBeUndefined();
    // A refused connection to the key server is an auth-failure.
    await app.connect(null).then((c) => c.waitClosed(), () => undefined);
    const got = await readUntil(failures, (seen) => seen.length >= 1);
    expect(auditEvents(got.events).map((e) => e.event.type)).toEqual(['auth-failure']);
    expect(await readFor(approvalsOnly, QUIET_MS)).toEqual([]);
    const confirmed = await approvalsOnly.subscribe({ types: ['audit'], auditTypes: ['operation'], namespaces: ['hr'] });
    expect(confirmed.filter).toEqual({ types: ['audit'], auditTypes: ['operation'], namespaces: ['hr'] });
    expect((await appConn.request('Get', { name: 'hr/payroll' })).error).toBeUndefined();
    const after = await readUntil(approvalsOnly, (seen) => seen.length >= 1);
    expect(auditEvents(after.events).map((e) => [e.event.operation, e.event.key])).toEqual([['Get', 'hr/payroll']]);
    await failures.close();
    await approvalsOnly.close();
  });

  it('delivers an approval request as it is made, and rollover notices, filtered by namespace', async () => {
    const all = await openStream(app, app.officer, { types: ['approval', 'rollover-notice'] });
    const hrOnly = await openStream(app, auditor, { types: ['approval', 'rollover-notice'], namespaces: ['hr'] });
    const approval: ApprovalLiveEvent = {
      kind: 'approval',
      action: 'requested',
      requestId: 'req-1',
      operation: 'Destroy',
      namespace: 'payroll',
      key: 'payroll/run',
      requester: 'test-officer',
      actor: null,
      approvals: 0,
      required: 2,
      digest: 'ab'.repeat(32),
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      time: new Date().toISOString(),
    };
    app.server.services.events.publish(approval);
    const got = await readUntil(all, (seen) => seen.length >= 1);
    expect(got.events).toEqual([approval]);
    app.server.services.events.publish({ kind: 'rollover-notice', key: 'hr/payroll', namespace: 'hr', dueAt: '2030-01-01T00:00:00.000Z', time: new Date().toISOString() });
    const notices = await readUntil(hrOnly, (seen) => seen.length >= 1);
    // The payroll approval did not reach the hr-only subscriber; the hr notice did.
    expect(notices.events).toEqual([expect.objectContaining({ kind: 'rollover-notice', key: 'hr/payroll', dueAt: '2030-01-01T00:00:00.000Z' })]);
    expect((await readUntil(all, (seen) => seen.length >= 1)).events[0]).toMatchObject({ kind: 'rollover-notice', key: 'hr/payroll' });
    await all.close();
    await hrOnly.close();
  });

  it('refuses bad filters with INVALID_ARGUMENT, before and after the stream opened', async () => {
    for (const filter of [{ types: ['audits'] }, { types: [] }, { namespaces: ['hr/../x'] }, { namespaces: ['-hr'] }, { types: ['approval'], auditTypes: ['operation'] }, { auditTypes: ['Auth Failure'] }, { namespaces: Array.from({ length: 33 }, (_, i) => `ns${i}`) }]) {
      expect(await refusalCode(openStream(app, app.officer, filter))).toBe('INVALID_ARGUMENT');
    }
    const stream = await openStream(app, app.officer);
    await expect(stream.subscribe({ types: ['nonsense'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { closeCode: 4400 } });
    const end = await readUntil(stream, () => false);
    expect(end.end?.code).toBe('INVALID_ARGUMENT');
  });

  it('refuses an app, another CA, no certificate and a revoked client, and records every refusal', async () => {
    const otherCa = createCa({ commonName: 'Evil CA', validityDays: 30, clock: systemClock });
    const pair = generateClientKeyPair();
    const foreign = issueClientCertificate({ ca: otherCa, name: 'test-officer', role: 'officer', groups: [], publicKeyPem: pair.publicKeyPem, validityDays: 30, clock: systemClock });
    const revoked = app.issue('gone-auditor', 'auditor');
    const officer = await app.connect(app.officer);
    expect((await app.approve(await officer.request('ClientRevoke', { name: 'gone-auditor' }))).result).toMatchObject({ client: { name: 'gone-auditor', revokedAt: expect.any(String) } });
    officer.destroy();
    const before = app.appliance.store.audit.auditHead()?.seq ?? 0;

    expect(await refusalCode(openStream(app, hrApp))).toBe('PERMISSION_DENIED');
    expect(await refusalCode(openStream(app, { certificatePem: foreign.certificatePem, privateKeyPem: pair.privateKeyPem }))).toBe('UNAUTHENTICATED');
    expect(await refusalCode(openStream(app, null))).toBe('UNAUTHENTICATED');
    expect(await refusalCode(openStream(app, revoked))).toBe('UNAUTHENTICATED');

    const failures = await waitForAudit(app, before, (events) => events.filter((e) => e.type === 'auth-failure').length >= 4);
    const reasons = failures.filter((e) => e.type === 'auth-failure').map((e) => `${e.result} ${e.identity?.fingerprint256 ?? '-'}`);
    const fingerprintOf = (name: string): string => app.appliance.keychain.directory.getClientByName(name)?.fingerprint256 as string;
    expect(reasons).toEqual(
      expect.arrayContaining([
        `PERMISSION_DENIED: the event stream is for officers and auditors; "hr-app" is an app ${fingerprintOf('hr-app')}`,
        expect.stringMatching(/^UNAUTHENTICATED: UNABLE_TO_VERIFY_LEAF_SIGNATURE [0-9a-f]{64}$/),
        expect.stringMatching(/^UNAUTHENTICATED: .+ -$/),
        `UNAUTHENTICATED: unknown or revoked certificate ${fingerprintOf('gone-auditor')}`,
      ]),
    );
  });

  it('ends the stream of a client revoked while subscribed', async () => {
    const doomed = app.issue('doomed-auditor', 'auditor');
    const stream = await openStream(app, doomed);
    const officer = await app.connect(app.officer);
    expect((await app.approve(await officer.request('ClientRevoke', { name: 'doomed-auditor' }))).result).toMatchObject({ client: { name: 'doomed-auditor', revokedAt: expect.any(String) } });
    officer.destroy();
    const end = await readUntil(stream, () => false);
    expect(end.end?.code).toBe('UNAUTHENTICATED');
  });

  it('records each subscription opening and closing, never streaming a subscription its own events', async () => {
    const watcher = await openStream(app, app.officer, { types: ['audit'], auditTypes: ['events-subscribe'] });
    const other = await openStream(app, auditor, { types: ['audit'] });
    const otherId = other.subscription.subscription;
    await other.close();
    const seen = await readUntil(watcher, (events) => events.length >= 2);
    const about = auditEvents(seen.events).map((e) => e.event as { custom: Record<string, string>; identity: { name: string }; result: string });
    expect(about.map((e) => [e.custom.action, e.custom.subscription, e.identity.name, e.result])).toEqual([
      ['open', otherId, 'auditor-1', 'ok'],
      ['close', otherId, 'auditor-1', 'ok'],
    ]);
    expect(about[0].custom.types).toBe('audit');
    // Exactly one open and one close for it: the stream does not feed on itself.
    expect(await readFor(watcher, QUIET_MS)).toEqual([]);
    await watcher.close();
    const stored = app.appliance.store.audit.readAuditRecords(1, 100_000).map((r) => JSON.parse(r.event)).filter((e) => e.custom?.subscription === otherId);
    expect(stored.map((e) => e.custom.action)).toEqual(['open', 'close']);
  });
});
