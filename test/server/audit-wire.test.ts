/**
 * The audit trail and the compliance report over real mutual TLS, on
 * SoftHSM2 and SQLite: an auditor (and an officer) search, verify and get
 * the report with their own certificates; an app is refused. The figures
 * are the ones the scenario's requests left; the report holds no key
 * material (the bytes of every key fetched are looked for, in base64 and
 * hex, in every format). Grants of material are dual-controlled: the
 * fixture's two approver officers approve them, and the officer who fetches
 * a key does so through such a grant, as an operator would.
 */
import { canonicalEvent } from '../../domain/audit/audit-event';
import { auditLineOf } from '../../protocol/audit-line';
import { verifyAuditFile } from '../../domain/audit/audit-file-verify';
import { renderHtml } from '../../cli/report/render-html';
import { renderMarkdown } from '../../cli/report/render-markdown';
import { ComplianceReport } from '../../domain/report/report-model';
import { DecodedResponse } from '../../protocol/response';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

interface LineView { seq: number; prevHash: string; hash: string; event: { identity: { name: string } | null; endUser: string | null; operation: string | null; key: string | null; result: string; type: string } }
interface SearchResult { events: LineView[]; nextSeq: number | null; scanned: number; head: { seq: number; hash: string } | null }
interface ApprovalLine { event: { type: string; operation: string | null; identity: { name: string } | null; result: string; custom: Record<string, string> } }

const END_USER = '<script>alert(1)</script>';

describe('audit trail and report over the wire', () => {
  let app: TestAppliance;
  let auditor: RawConnection;
  let officer: RawConnection;
  let payroll: RawConnection;
  const material: Buffer[] = [];
  /** The dual-control requests the scenario made: the payroll group's grant, then the officer's own. */
  const grantRequests: string[] = [];

  async function ok<R>(conn: RawConnection, op: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>): Promise<R> {
    const res = await conn.request(op, args, meta);
    if (res.error) throw new Error(`${op}: ${res.error.code} ${res.error.message}`);
    return res.result as R;
  }
  const search = (conn: RawConnection, args: Record<string, unknown>): Promise<SearchResult> => ok<SearchResult>(conn, 'AuditSearch', args);
  /** A grant of material: held for approval, then approved by the fixture's two other officers. */
  async function approvedGrant(response: DecodedResponse): Promise<void> {
    expect(response.error?.details).toMatchObject({ operation: 'PolicyGrant', class: 'grant-material' });
    grantRequests.push((response.error?.details as { requestId: string }).requestId);
    expect((await app.approve(response)).state).toBe('executed');
  }

  beforeAll(async () => {
    app = await startTestAppliance();
    const issuedAuditor: Credentials = app.issue('auditor-1', 'auditor');
    const issuedApp: Credentials = app.issue('payroll-app', 'app', { groups: ['payroll'] });
    officer = await app.connect(app.officer);
    await ok(officer, 'Create', { name: 'hr/payroll', owner: 'hr' });
    await ok(officer, 'Create', { name: 'crm/pii', algorithm: 'HMAC-SHA256' });
    await ok(officer, 'ReKey', { name: 'hr/payroll' });
    await approvedGrant(await officer.request('PolicyGrant', { group: 'payroll', pattern: 'hr/*', permissions: ['get'] }));
    payroll = await app.connect(issuedApp);
    for (let i = 0; i < 3; i++) {
      const got = await ok<{ material: string }>(payroll, 'Get', { name: 'hr/payroll' }, { endUser: END_USER });
      material.push(Buffer.from(got.material, 'base64'));
    }
    expect((await payroll.request('Get', { name: 'crm/pii' })).error?.code).toBe('PERMISSION_DENIED');
    expect((await payroll.request('Get', { name: 'crm/pii' })).error?.code).toBe('PERMISSION_DENIED');
    // Officers get no material by role: the officer fetches crm/pii through an approved grant of its own.
    await approvedGrant(await officer.request('PolicyGrant', { client: 'test-officer', pattern: 'crm/*', permissions: ['get'] }));
    const officerGot = await ok<{ material: string }>(officer, 'Get', { name: 'crm/pii' });
    material.push(Buffer.from(officerGot.material, 'base64'));
    auditor = await app.connect(issuedAuditor);
  });

  afterAll(async () => app.stop());

  it('lets an auditor search with each filter narrowing to exactly its events', async () => {
    const gets = await search(auditor, { operation: 'Get' });
    expect(gets.events).toHaveLength(6);
    const byApp = await search(auditor, { identity: 'payroll-app' });
    expect(byApp.events.map((e) => [e.event.operation, e.event.key, e.event.result])).toEqual([
      ['Get', 'hr/payroll', 'ok'], ['Get', 'hr/payroll', 'ok'], ['Get', 'hr/payroll', 'ok'],
      ['Get', 'crm/pii', 'PERMISSION_DENIED'], ['Get', 'crm/pii', 'PERMISSION_DENIED'],
    ]);
    expect((await search(auditor, { key: 'crm/*', result: 'error' })).events).toHaveLength(2);
    // A change that commits with its event is that one event (the Create); one the dual-control gate stored for
    // approval (each PolicyGrant here) first had its intent made durable: the type tells them apart.
    expect((await search(auditor, { key: 'crm/pii', result: 'ok', type: 'operation' })).events.map((e) => [e.event.identity?.name, e.event.operation])).toEqual([['test-officer', 'Create'], ['test-officer', 'Get']]);
    expect((await search(auditor, { key: 'crm/pii', type: 'intent' })).events).toEqual([]);
    expect((await search(auditor, { operation: 'PolicyGrant', type: 'intent' })).events).toHaveLength(grantRequests.length);
    expect((await search(auditor, { key: 'hr/payroll', operation: 'ReKey', type: 'operation' })).events).toHaveLength(1);
    const refusals = await search(auditor, { result: 'PERMISSION_DENIED' });
    expect(refusals.events.every((e) => e.event.result === 'PERMISSION_DENIED' && e.event.key === 'crm/pii')).toBe(true);
    expect(refusals.events).toHaveLength(2);
    expect((await search(auditor, { from: '2000-01-01', to: '2000-01-02' })).events).toEqual([]);
    // Each grant's dual control is in the trail: its request, the two approvals, then its run as the requester.
    const steps = (found: SearchResult) => (found.events as unknown as ApprovalLine[]).map((e) => [e.event.custom.approvalRequest, e.event.custom.action, e.event.identity?.name, e.event.operation, e.event.result]);
    expect(steps(await search(auditor, { type: 'approval' }))).toEqual(grantRequests.flatMap((id) => [
      [id, 'requested', 'test-officer', 'PolicyGrant', 'ok'], [id, 'approved', 'approver-1', 'PolicyGrant', 'ok'], [id, 'approved', 'approver-2', 'PolicyGrant', 'ok'],
    ]));
    expect(steps(await search(auditor, { type: 'approved-operation' }))).toEqual(grantRequests.map((id) => [id, 'executed', 'test-officer', 'PolicyGrant', 'ok']));
  });

  it('pages with limit and fromSeq, and its events are export lines that verify', async () => {
    const lines: string[] = [];
    let fromSeq: number | undefined;
    for (let page = 0; page < 20; page++) {
      const found = await search(auditor, fromSeq === undefined ? { limit: 2 } : { limit: 2, fromSeq });
      expect(found.events.length).toBeLessThanOrEqual(2);
      for (const e of found.events) lines.push(auditLineOf({ seq: e.seq, event: canonicalEvent(e.event as never), prevHash: Buffer.from(e.prevHash, 'hex'), hash: Buffer.from(e.hash, 'hex') }));
      if (found.nextSeq === null) break;
      fromSeq = found.nextSeq;
    }
    async function* text(): AsyncGenerator<string> {
      yield `${lines.join('\n')}\n`;
    }
    const verdict = await verifyAuditFile(text(), { against: app.appliance.store.audit });
    expect(verdict).toMatchObject({ ok: true, firstSeq: 1, start: 'genesis' });
    expect(verdict.events).toBe(lines.length);
    expect(lines.length).toBeGreaterThanOrEqual(11);
  });

  it('refuses audit reading to an app (PERMISSION_DENIED), and records who read the trail', async () => {
    for (const op of ['AuditSearch', 'AuditVerify', 'Report']) {
      expect((await payroll.request(op, {})).error?.code).toBe('PERMISSION_DENIED');
    }
    const reads = await search(auditor, { identity: 'payroll-app', operation: 'AuditSearch' });
    expect(reads.events.map((e) => e.event.result)).toEqual(['PERMISSION_DENIED']);
    expect((await search(officer, { identity: 'auditor-1', operation: 'AuditSearch', limit: 1 })).events[0].event.result).toBe('ok');
  });

  it('refuses bad arguments with INVALID_REQUEST or INVALID_ARGUMENT', async () => {
    expect((await auditor.request('AuditSearch', { limit: 1001 })).error?.code).toBe('INVALID_REQUEST');
    expect((await auditor.request('AuditSearch', { fromSeq: 0 })).error?.code).toBe('INVALID_REQUEST');
    expect((await auditor.request('AuditSearch', { from: 'yesterday' })).error?.code).toBe('INVALID_ARGUMENT');
    expect((await auditor.request('Report', { from: '2026-02-01', to: '2026-01-01' })).error?.code).toBe('INVALID_ARGUMENT');
    // Each reads up to a whole trail: never 64 of them in one Batch.
    const batch = await auditor.request('Batch', { items: [{ op: 'AuditVerify' }, { op: 'AuditSearch', args: {} }, { op: 'Report' }, { op: 'Query' }] });
    const items = (batch.result as { items: Array<{ error?: { code: string }; result?: unknown }> }).items;
    expect(items.map((i) => i.error?.code ?? 'ok')).toEqual(['INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_REQUEST', 'ok']);
  });

  it('verifies the chain for an auditor', async () => {
    const status = await ok<{ ok: boolean; events: number; headSeq: number; headHash: string }>(auditor, 'AuditVerify');
    // The AuditVerify request itself is recorded after it ran: the head it saw is the event before it.
    const seen = app.appliance.store.audit.readAuditRecords(status.headSeq, 2);
    expect(seen.map((r) => r.seq)).toEqual([status.headSeq, status.headSeq + 1]);
    expect(JSON.parse(seen[1].event)).toMatchObject({ operation: 'AuditVerify', identity: { name: 'auditor-1' } });
    expect(status).toMatchObject({ ok: true, headHash: seen[0].hash.toString('hex') });
    expect(status.events).toBe(status.headSeq);
  });

  it('checks signed checkpoints with the HSM signing key over the wire', async () => {
    const checkpoint = await app.server.checkpointer.checkpoint();
    expect(checkpoint).not.toBeNull();
    const status = await ok<Record<string, unknown>>(auditor, 'AuditVerify');
    // The server signed one at its start, and this one.
    expect(status).toMatchObject({ ok: true, checkpoints: 2, lastCheckpointSeq: checkpoint!.seq, signaturesChecked: true, signingKey: { source: 'hsm', fingerprint: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/) } });
  });

  it('gives an auditor the report: inventory and access figures, and no key material in any format', async () => {
    const report = await ok<ComplianceReport>(auditor, 'Report');
    const names = report.keys.items.map((k) => k.name).sort();
    expect(names).toEqual(['crm/pii', 'hr/payroll']);
    expect(report.keys.items.find((k) => k.name === 'hr/payroll')).toMatchObject({ currentVersion: 2, instances: 2, states: { Active: 1, Deactivated: 1 }, owner: 'hr' });
    const row = (identity: string, key: string, operation: string) => report.access.rows.find((r) => r.identity === identity && r.key === key && r.operation === operation);
    expect(row('payroll-app', 'hr/payroll', 'Get')).toEqual({ key: 'hr/payroll', identity: 'payroll-app', role: 'app', endUser: END_USER, operation: 'Get', allowed: 3, refused: 0, refusals: {} });
    expect(row('payroll-app', 'crm/pii', 'Get')).toMatchObject({ allowed: 0, refused: 2, refusals: { PERMISSION_DENIED: 2 } });
    expect(row('test-officer', 'crm/pii', 'Get')).toMatchObject({ allowed: 1, refused: 0 });
    expect(row('test-officer', 'hr/payroll', 'ReKey')).toMatchObject({ allowed: 1 });
    expect(report.chain.ok).toBe(true);
    const usage = report.usage.buckets.reduce((sum, b) => sum + b.allowed + b.refused, 0);
    expect(usage).toBe(report.access.rows.filter((r) => r.key !== null).reduce((sum, r) => sum + r.allowed + r.refused, 0));
    const html = renderHtml(report);
    expect(html).not.toContain(END_USER);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(material).toHaveLength(4);
    for (const text of [JSON.stringify(report), renderMarkdown(report), html]) {
      for (const bytes of material) {
        expect(text).not.toContain(bytes.toString('base64'));
        expect(text).not.toContain(bytes.toString('hex'));
        expect(text).not.toContain(bytes.toString('base64url'));
      }
    }
  });

  // Read from the approval service's audit events (types approval and approved-operation, custom.approvalRequest and custom.action).
  it('lists in the report each dual-control request the scenario made, with its requester, steps and outcome', async () => {
    const report = await ok<ComplianceReport>(auditor, 'Report');
    expect(report.dualControl.requests).toEqual(grantRequests.map((requestId) => ({
      requestId,
      operation: 'PolicyGrant',
      key: null,
      requester: 'test-officer',
      outcome: 'executed',
      steps: [['requested', 'test-officer'], ['approved', 'approver-1'], ['approved', 'approver-2'], ['executed', 'test-officer']].map(([action, by]) => ({ time: expect.any(String), action, by })),
    })));
    expect(report.dualControl.byOutcome).toEqual({ executed: 2 });
  });
});
