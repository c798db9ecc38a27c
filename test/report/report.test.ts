/**
 * The compliance report (domain/report/): a scenario of keys, rollovers,
 * allowed and refused operations by two identities, refused connections
 * and dual-control requests, inside and outside the period, and the exact
 * figures every format must show. HTML and Markdown escape what came from
 * users (an owner and an end user written as markup); the HTML is
 * self-contained (no script, no external reference).
 */
import { ManualClock } from '../../common/clock';
import { AuditEvent, canonicalEvent } from '../../domain/audit/audit-event';
import { nextRecord } from '../../domain/audit/audit-chain';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { compileReport } from '../../domain/report/compile-report';
import { reportPeriod } from '../../domain/report/report-builder';
import { ComplianceReport } from '../../domain/report/report-model';
import { renderHtml } from '../../domain/report/render-html';
import { renderMarkdown } from '../../domain/report/render-markdown';
import { makeRolloverPolicy } from '../../domain/rollover-policy';
import { parseAlgorithm } from '../../domain/algorithms';
import { SoftHsm } from '../../hsm/soft-hsm';
import { AuditHead } from '../../storage/audit-store';
import { MemoryStore } from '../../storage/memory-store';
import { codeOf } from '../support/error-code';

const OWNER_MARKUP = '<script>alert(1)</script>';
const END_USER_MARKUP = '<img src=x onerror=alert(2)>';
const APP = { name: 'payroll-app', role: 'app', fingerprint256: 'AA:01', subject: 'CN=payroll-app' };
const ADMIN = { name: 'admin', role: 'officer', fingerprint256: 'BB:02', subject: 'CN=admin' };
const OFFICER2 = { name: 'second-officer', role: 'officer', fingerprint256: 'CC:03', subject: 'CN=second-officer' };

function ev(time: string, over: Partial<AuditEvent>): AuditEvent {
  return {
    time, eventId: `${time}-${Math.random()}`, type: 'operation', identity: APP, endUser: null, purpose: null, source: '127.0.0.1',
    operation: 'Get', key: 'hr/payroll', instance: null, result: 'ok', requestId: 1, custom: {}, ...over,
  };
}

/** A dual-control step as server/compose/approval-wiring.ts records it. */
const approval = (time: string, requestId: string, action: string, identity: AuditEvent['identity'], key = 'lab/tmp'): AuditEvent =>
  ev(time, { type: action === 'executed' || action === 'failed' ? 'approved-operation' : 'approval', identity, operation: 'Destroy', key, result: 'ok', custom: { approvalRequest: requestId, action } });

/** Inside the period: 2026-11-01T00:00Z .. 2026-11-10T12:00Z. */
const EVENTS: AuditEvent[] = [
  ev('2026-10-20T08:00:00.000Z', {}), // before the period: not counted
  ev('2026-10-31T23:59:59.999Z', { result: 'PERMISSION_DENIED' }), // before the period
  ev('2026-11-05T09:00:00.000Z', { endUser: END_USER_MARKUP }),
  ev('2026-11-05T10:00:00.000Z', { endUser: END_USER_MARKUP }),
  ev('2026-11-05T11:00:00.000Z', { endUser: END_USER_MARKUP }),
  ev('2026-11-06T09:00:00.000Z', { key: 'crm/pii', result: 'PERMISSION_DENIED' }),
  ev('2026-11-06T09:30:00.000Z', { key: 'crm/pii', result: 'PERMISSION_DENIED' }),
  ev('2026-11-07T09:00:00.000Z', { identity: ADMIN, operation: 'ReKey' }),
  ev('2026-11-07T10:00:00.000Z', { type: 'auth-failure', identity: null, operation: null, key: null, result: 'TLS: CERT_REVOKED' }),
  approval('2026-11-08T09:00:00.000Z', 'req-1', 'requested', ADMIN),
  approval('2026-11-08T10:00:00.000Z', 'req-1', 'approved', OFFICER2),
  approval('2026-11-08T10:00:01.000Z', 'req-1', 'executed', null),
  approval('2026-11-09T09:00:00.000Z', 'req-2', 'requested', ADMIN, 'hr/payroll'),
  approval('2026-11-10T09:00:00.000Z', 'req-2', 'expired', null, 'hr/payroll'),
  ev('2026-11-10T12:00:00.000Z', {}), // the period's end is exclusive
];

describe('compliance report', () => {
  const clock = new ManualClock(new Date('2026-11-01T00:00:00Z'));
  let store: MemoryStore;
  let keychain: Keychain;
  let report: ComplianceReport;
  let payrollV2CreatedAt: string;

  beforeAll(async () => {
    const hsm = new SoftHsm({ label: 'report' });
    store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    keychain.createKey({ fullName: 'hr/payroll', algorithm: parseAlgorithm('AES-256'), owner: OWNER_MARKUP, rollover: makeRolloverPolicy('auto', 'P90D') });
    keychain.createKey({ fullName: 'crm/pii', algorithm: parseAlgorithm('HMAC-SHA256'), owner: 'crm' });
    keychain.createKey({ fullName: 'lab/tmp', algorithm: parseAlgorithm('AES-128') });
    clock.set(new Date('2026-11-03T00:00:00Z'));
    payrollV2CreatedAt = keychain.rollover('hr/payroll').instances.find((i) => i.current)?.createdAt as string;
    keychain.rollover('lab/tmp');
    keychain.rollover('lab/tmp');
    let head: AuditHead | null = null;
    for (const event of EVENTS) {
      const record = nextRecord(head, canonicalEvent(event));
      store.audit.appendAuditRecords([record]);
      head = record;
    }
    clock.set(new Date('2026-11-10T12:00:00Z'));
    report = await compileReport({ keychain, audit: store.audit, clock }, reportPeriod(clock, '2026-11-01'));
  });

  it('has the key inventory: algorithms, policies, versions, rollovers and instance states', () => {
    expect(report.period).toEqual({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-10T12:00:00.000Z' });
    expect(report.keys).toMatchObject({ total: 3, omitted: 0, byAlgorithm: { 'AES-256': 1, 'HMAC-SHA256': 1, 'AES-128': 1 }, instancesByState: { Active: 3, Deactivated: 3 } });
    const byName = Object.fromEntries(report.keys.items.map((k) => [k.name, k]));
    expect(byName['hr/payroll']).toMatchObject({ algorithm: 'AES-256', owner: OWNER_MARKUP, rolloverPolicy: 'auto', cryptoperiod: 'P90D', currentVersion: 2, lastRolloverAt: payrollV2CreatedAt, instances: 2, states: { Active: 1, Deactivated: 1 } });
    expect(byName['hr/payroll'].nextRolloverAt).toEqual(expect.stringMatching(/^2027-02-0\dT/));
    expect(byName['crm/pii']).toMatchObject({ currentVersion: 1, lastRolloverAt: null, nextRolloverAt: null, instances: 1, states: { Active: 1 } });
    expect(byName['lab/tmp']).toMatchObject({ currentVersion: 3, instances: 3, states: { Active: 1, Deactivated: 2 } });
  });

  it('counts who did what to which key in the period, with refusals by code', () => {
    expect(report.access).toMatchObject({ events: 6, allowed: 4, refused: 2, authFailures: 1, omittedEvents: 0 });
    expect(report.access.rows).toEqual([
      { key: 'crm/pii', identity: 'payroll-app', role: 'app', endUser: null, operation: 'Get', allowed: 0, refused: 2, refusals: { PERMISSION_DENIED: 2 } },
      { key: 'hr/payroll', identity: 'admin', role: 'officer', endUser: null, operation: 'ReKey', allowed: 1, refused: 0, refusals: {} },
      { key: 'hr/payroll', identity: 'payroll-app', role: 'app', endUser: END_USER_MARKUP, operation: 'Get', allowed: 3, refused: 0, refusals: {} },
    ]);
  });

  it('charts key usage per day of the period', () => {
    expect(report.usage.bucketMs).toBe(86_400_000);
    expect(report.usage.buckets).toHaveLength(10);
    const busy = report.usage.buckets.filter((b) => b.allowed + b.refused > 0);
    expect(busy).toEqual([
      { start: '2026-11-05T00:00:00.000Z', allowed: 3, refused: 0 },
      { start: '2026-11-06T00:00:00.000Z', allowed: 0, refused: 2 },
      { start: '2026-11-07T00:00:00.000Z', allowed: 1, refused: 0 },
    ]);
  });

  it('lists dual-control requests with their steps and outcome', () => {
    expect(report.dualControl.byOutcome).toEqual({ executed: 1, expired: 1 });
    expect(report.dualControl.requests).toEqual([
      {
        requestId: 'req-1', operation: 'Destroy', key: 'lab/tmp', requester: 'admin', outcome: 'executed',
        steps: [
          { time: '2026-11-08T09:00:00.000Z', action: 'requested', by: 'admin' },
          { time: '2026-11-08T10:00:00.000Z', action: 'approved', by: 'second-officer' },
          { time: '2026-11-08T10:00:01.000Z', action: 'executed', by: null },
        ],
      },
      {
        requestId: 'req-2', operation: 'Destroy', key: 'hr/payroll', requester: 'admin', outcome: 'expired',
        steps: [
          { time: '2026-11-09T09:00:00.000Z', action: 'requested', by: 'admin' },
          { time: '2026-11-10T09:00:00.000Z', action: 'expired', by: null },
        ],
      },
    ]);
  });

  it('states the audit chain: all verified, with its head', () => {
    const head = store.audit.auditHead();
    expect(report.chain).toEqual({
      ok: true, events: EVENTS.length, headSeq: EVENTS.length, headHash: head?.hash.toString('hex'),
      checkpoints: 0, lastCheckpointSeq: 0, unsignedTail: EVENTS.length, signaturesChecked: false, signingKey: { source: 'none', fingerprint: null }, lastCheckpoint: null, anchorsMatched: 0,
    });
  });

  it('renders Markdown with the same figures, escaping what users wrote', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| hr/payroll | AES-256 | &lt;script&gt;alert(1)&lt;/script&gt; | auto | P90D | 2 |');
    expect(md).toContain('| hr/payroll | payroll-app | app | &lt;img src=x onerror=alert(2)&gt; | Get | 3 | 0 | — |');
    expect(md).toContain('| crm/pii | payroll-app | app | — | Get | 0 | 2 | PERMISSION\\_DENIED 2 |');
    expect(md).toContain('6 operation(s): 4 allowed, 2 refused or failed; 1 refused connection(s).');
    expect(md).toContain('3 key(s). By algorithm: AES-128 1, AES-256 1, HMAC-SHA256 1. Instances by state: Active 3, Deactivated 3.');
    expect(md).toContain('| req-1 | Destroy | lab/tmp | admin | executed |');
    expect(md).toContain('| 2026-11-05T00:00:00.000Z | 3 | 0 |');
    expect(md).toContain(`intact: ${EVENTS.length} event(s) verified`);
    expect(md).not.toMatch(/<script|<img/);
  });

  it('renders self-contained HTML: same figures, every user string escaped, no script or external reference', () => {
    const html = renderHtml(report);
    expect(html).not.toMatch(/<script|<img|onerror=alert\(2\)>/i);
    expect(html).toContain('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(html).toContain('<td>hr/payroll</td><td>payroll-app</td><td>app</td><td>&lt;img src=x onerror=alert(2)&gt;</td><td>Get</td><td class="n">3</td><td class="n">0</td><td>—</td>');
    expect(html).toContain('<td>crm/pii</td><td>payroll-app</td><td>app</td><td>—</td><td>Get</td><td class="n">0</td><td class="n">2</td><td>PERMISSION_DENIED 2</td>');
    expect(html).toContain('6 operation(s): 4 allowed, 2 refused or failed; 1 refused connection(s).');
    // The chart: one bar per busy bucket and series, sized to the busiest day (3).
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    expect(svg.match(/<rect class="allowed"/g)).toHaveLength(2);
    expect(svg.match(/<rect class="refused"/g)).toHaveLength(1);
    expect(svg).toContain('<title>2026-11-05T00:00:00.000Z: 3 allowed, 0 refused</title>');
    // Offline: nothing to fetch (the SVG namespace is an identifier, not a fetch).
    expect(html.replace('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:|src=["']|<link|@import|url\(/i);
    expect(html).toContain("default-src 'none'");
  });

  it('round-trips as JSON', () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('says "none in the period" when there were no dual-control requests, and charts by the hour for short periods', async () => {
    const short = await compileReport({ keychain, audit: store.audit, clock }, reportPeriod(clock, '2026-11-05T00:00:00Z', '2026-11-06T00:00:00Z'));
    expect(short.dualControl.requests).toEqual([]);
    expect(renderMarkdown(short)).toContain('Dual-control requests: none in the period.');
    expect(renderHtml(short)).toContain('Dual-control requests: none in the period.');
    expect(short.usage.bucketMs).toBe(3_600_000);
    expect(short.usage.buckets).toHaveLength(24);
    expect(short.usage.buckets.filter((b) => b.allowed > 0).map((b) => b.start)).toEqual(['2026-11-05T09:00:00.000Z', '2026-11-05T10:00:00.000Z', '2026-11-05T11:00:00.000Z']);
  });

  it('names the first broken event of the chain', async () => {
    const broken = new MemoryStore();
    const first = nextRecord(null, canonicalEvent(EVENTS[0]));
    const second = nextRecord(first, canonicalEvent(EVENTS[1]));
    broken.audit.appendAuditRecords([first, { ...second, event: canonicalEvent(EVENTS[2]) }]);
    const r = await compileReport({ keychain, audit: broken.audit, clock }, reportPeriod(clock));
    expect(r.chain).toMatchObject({ ok: false, firstBadSeq: 2, events: 1, headSeq: 2 });
    expect(renderMarkdown(r)).toContain('BROKEN at event 2');
  });

  it('refuses a period that ends before it starts, or is too long, with INVALID_ARGUMENT', () => {
    expect(codeOf(() => reportPeriod(clock, '2026-11-02', '2026-11-01'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => reportPeriod(clock, '1990-01-01'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => reportPeriod(clock, 'last week'))).toBe('INVALID_ARGUMENT');
  });
});
