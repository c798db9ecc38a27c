/**
 * The compliance report's model (domain/report/): over the scenario of
 * test/support/report-scenario.ts, the exact figures every format must
 * show (the renderers' own test is test/cli/report/render-report.test.ts).
 */
import { ManualClock } from '../../common/clock';
import { reportPeriod } from '../../domain/report/report-builder';
import { ComplianceReport } from '../../domain/report/report-model';
import { MemoryStore } from '../../storage/memory-store';
import { codeOf } from '../support/error-code';
import { brokenChainReport, END_USER_MARKUP, EVENTS, OWNER_MARKUP, reportScenario, ReportScenario, shortPeriodReport } from '../support/report-scenario';

describe('compliance report', () => {
  let scenario: ReportScenario;
  let clock: ManualClock;
  let store: MemoryStore;
  let report: ComplianceReport;
  let payrollV2CreatedAt: string;

  beforeAll(async () => {
    scenario = await reportScenario();
    ({ clock, store, report, payrollV2CreatedAt } = scenario);
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

  it('round-trips as JSON', () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('has no dual-control requests in a period without any, and charts by the hour for short periods', async () => {
    const short = await shortPeriodReport(scenario);
    expect(short.dualControl.requests).toEqual([]);
    expect(short.usage.bucketMs).toBe(3_600_000);
    expect(short.usage.buckets).toHaveLength(24);
    expect(short.usage.buckets.filter((b) => b.allowed > 0).map((b) => b.start)).toEqual(['2026-11-05T09:00:00.000Z', '2026-11-05T10:00:00.000Z', '2026-11-05T11:00:00.000Z']);
  });

  it('names the first broken event of the chain', async () => {
    const r = await brokenChainReport(scenario);
    expect(r.chain).toMatchObject({ ok: false, firstBadSeq: 2, events: 1, headSeq: 2 });
  });

  it('refuses a period that ends before it starts, or is too long, with INVALID_ARGUMENT', () => {
    expect(codeOf(() => reportPeriod(clock, '2026-11-02', '2026-11-01'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => reportPeriod(clock, '1990-01-01'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => reportPeriod(clock, 'last week'))).toBe('INVALID_ARGUMENT');
  });
});
