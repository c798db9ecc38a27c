/**
 * The compliance report's scenario, shared by the builder's test
 * (test/report/) and the renderers' (test/cli/report/): three keys with
 * rollovers, allowed and refused operations by two identities, a refused
 * connection and two dual-control requests, inside and outside the period
 * 2026-11-01T00:00Z .. 2026-11-10T12:00Z. An owner and an end user are
 * written as markup, for the renderers' escaping.
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
import { makeRolloverPolicy } from '../../domain/rollover-policy';
import { parseAlgorithm } from '../../domain/algorithms';
import { SoftHsm } from '../../hsm/soft-hsm';
import { AuditHead } from '../../storage/audit-store';
import { MemoryStore } from '../../storage/memory-store';

export const OWNER_MARKUP = '<script>alert(1)</script>';
export const END_USER_MARKUP = '<img src=x onerror=alert(2)>';
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
export const EVENTS: AuditEvent[] = [
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

export interface ReportScenario {
  readonly clock: ManualClock;
  readonly store: MemoryStore;
  readonly keychain: Keychain;
  /** The report of the period, compiled at its end. */
  readonly report: ComplianceReport;
  /** When hr/payroll's second instance was made (its last rollover). */
  readonly payrollV2CreatedAt: string;
}

/** The keychain and trail of the scenario, and its report. */
export async function reportScenario(): Promise<ReportScenario> {
  const clock = new ManualClock(new Date('2026-11-01T00:00:00Z'));
  const hsm = new SoftHsm({ label: 'report' });
  const store = new MemoryStore();
  await initializeKeychain(store, hsm, clock, randomIds);
  const keychain = new Keychain({ store, clock });
  await keychain.unseal(hsm);
  keychain.createKey({ fullName: 'hr/payroll', algorithm: parseAlgorithm('AES-256'), owner: OWNER_MARKUP, rollover: makeRolloverPolicy('auto', 'P90D') });
  keychain.createKey({ fullName: 'crm/pii', algorithm: parseAlgorithm('HMAC-SHA256'), owner: 'crm' });
  keychain.createKey({ fullName: 'lab/tmp', algorithm: parseAlgorithm('AES-128') });
  clock.set(new Date('2026-11-03T00:00:00Z'));
  const payrollV2CreatedAt = keychain.rollover('hr/payroll').instances.find((i) => i.current)?.createdAt as string;
  keychain.rollover('lab/tmp');
  keychain.rollover('lab/tmp');
  let head: AuditHead | null = null;
  for (const event of EVENTS) {
    const record = nextRecord(head, canonicalEvent(event));
    store.audit.appendAuditRecords([record]);
    head = record;
  }
  clock.set(new Date('2026-11-10T12:00:00Z'));
  const report = await compileReport({ keychain, audit: store.audit, clock }, reportPeriod(clock, '2026-11-01'));
  return { clock, store, keychain, report, payrollV2CreatedAt };
}

/** The report of one day of the scenario (2026-11-05): no dual-control request, charted by the hour. */
export function shortPeriodReport(scenario: ReportScenario): Promise<ComplianceReport> {
  const { keychain, store, clock } = scenario;
  return compileReport({ keychain, audit: store.audit, clock }, reportPeriod(clock, '2026-11-05T00:00:00Z', '2026-11-06T00:00:00Z'));
}

/** A report over a trail whose second event was swapped for another (the chain breaks at seq 2). */
export function brokenChainReport(scenario: ReportScenario): Promise<ComplianceReport> {
  const { keychain, clock } = scenario;
  const broken = new MemoryStore();
  const first = nextRecord(null, canonicalEvent(EVENTS[0]));
  const second = nextRecord(first, canonicalEvent(EVENTS[1]));
  broken.audit.appendAuditRecords([first, { ...second, event: canonicalEvent(EVENTS[2]) }]);
  return compileReport({ keychain, audit: broken.audit, clock }, reportPeriod(clock));
}
