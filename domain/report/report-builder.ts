/**
 * Builds the compliance report (report-model.ts) by streamed aggregation:
 * keys are added one by one (addKey), audit events one by one (addEvent),
 * and only counts are kept, so the work is one pass over the trail and the
 * memory is bounded by the report's own limits, not by the trail's length.
 * Pure: the caller reads the keychain and the store and passes the chain
 * verdict; the clock is the caller's (reportPeriod).
 *
 * Upcoming rollovers (and their recorded notices) are gathered by
 * upcoming-rollovers.ts. Dual-control requests are read from the audit events the approval service
 * records (types `approval` and `approved-operation`): `custom.approvalRequest`
 * groups them, `operation` is the requested operation, `custom.action` the
 * step (requested, approved, denied, cancelled, expired, executed, failed).
 */
import { Clock } from '../../common/clock';
import { ValidationError } from '../../common/errors';
import { DEFAULT_REPORT_DAYS } from '../../protocol/op-schemas';
import { AuditEvent } from '../audit/audit-event';
import { parseInstant } from '../audit/audit-filter';
import { DEFAULT_NAMESPACE } from '../key-names';
import { KeyDescription } from '../keychain';
import {
  AccessRow, ChainStatus, ComplianceReport, DualControlRequest, DualControlStep, KeyInventoryItem, REPORT_VERSION, ReportPeriod, UsageBucket,
} from './report-model';
import { UpcomingRolloversBuilder } from './upcoming-rollovers';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Longest period: ten years of daily buckets would still be a readable chart at MAX_CHART_BUCKETS. */
export const MAX_REPORT_DAYS = 3660;
/** Most bars in the usage chart: days are merged into wider buckets past it. */
export const MAX_CHART_BUCKETS = 366;
/** Periods up to this long are charted by the hour. */
const HOURLY_UP_TO_MS = 2 * DAY_MS;
/** Most keys listed in the inventory (all are counted): bounds the report's size. */
export const MAX_REPORT_KEYS = 2000;
/** Most access rows (key × identity × end user × operation); later combinations are counted, not listed. */
export const MAX_ACCESS_ROWS = 2000;
/** Most dual-control requests listed, and steps kept per request. */
export const MAX_REPORT_REQUESTS = 500;
const MAX_STEPS_PER_REQUEST = 20;

/** The period from --from/--to (ISO 8601), by default the last DEFAULT_REPORT_DAYS days up to now. */
export function reportPeriod(clock: Clock, from?: string, to?: string): ReportPeriod {
  const toMs = to === undefined ? clock.nowMs() : parseInstant(to, 'to');
  const fromMs = from === undefined ? toMs - DEFAULT_REPORT_DAYS * DAY_MS : parseInstant(from, 'from');
  if (fromMs >= toMs) throw new ValidationError('the report period must end after it starts (--from before --to)', { details: { field: 'from' } });
  if (toMs - fromMs > MAX_REPORT_DAYS * DAY_MS) throw new ValidationError(`the report period is longer than ${MAX_REPORT_DAYS} days; report on a shorter one`, { details: { field: 'from' } });
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
}

function fullKeyName(name: string): string {
  return name.includes('/') ? name : `${DEFAULT_NAMESPACE}/${name}`;
}

function bump(counts: Record<string, number>, name: string, by = 1): void {
  counts[name] = (counts[name] ?? 0) + by;
}

interface MutableRow {
  key: string | null;
  identity: string;
  role: string;
  endUser: string | null;
  operation: string;
  allowed: number;
  refused: number;
  refusals: Record<string, number>;
}

interface MutableRequest {
  requestId: string;
  operation: string | null;
  key: string | null;
  requester: string | null;
  outcome: string;
  steps: DualControlStep[];
}

export class ReportBuilder {
  private readonly fromMs: number;
  private readonly toMs: number;
  private readonly bucketMs: number;
  private readonly firstBucketMs: number;
  private readonly usage: Array<{ allowed: number; refused: number }>;
  private readonly items: KeyInventoryItem[] = [];
  private keyTotal = 0;
  private readonly byAlgorithm: Record<string, number> = {};
  private readonly instancesByState: Record<string, number> = {};
  private readonly rows = new Map<string, MutableRow>();
  private readonly access = { events: 0, allowed: 0, refused: 0, authFailures: 0, omittedEvents: 0 };
  private readonly requests = new Map<string, MutableRequest>();
  private omittedRequests = 0;
  private readonly upcoming: UpcomingRolloversBuilder;

  /**
   * `nowMs`: when the report is made, from which upcoming rollovers are
   * counted (default: the period's end); `genuineNotice`: whether a
   * rollover notice is the appliance's (default: not checked).
   */
  constructor(private readonly period: ReportPeriod, nowMs?: number, genuineNotice?: (event: AuditEvent) => boolean | null) {
    this.fromMs = Date.parse(period.from);
    this.toMs = Date.parse(period.to);
    this.upcoming = new UpcomingRolloversBuilder(nowMs ?? this.toMs, genuineNotice);
    const span = this.toMs - this.fromMs;
    this.bucketMs = span <= HOURLY_UP_TO_MS ? HOUR_MS : DAY_MS * Math.ceil(span / DAY_MS / MAX_CHART_BUCKETS);
    // Buckets start on UTC hour or day boundaries, so bars line up with the calendar.
    this.firstBucketMs = Math.floor(this.fromMs / this.bucketMs) * this.bucketMs;
    const count = Math.ceil((this.toMs - this.firstBucketMs) / this.bucketMs);
    this.usage = Array.from({ length: count }, () => ({ allowed: 0, refused: 0 }));
  }

  addKey(description: KeyDescription): void {
    const { key, instances } = description;
    this.keyTotal++;
    bump(this.byAlgorithm, key.algorithm);
    this.upcoming.addKey(key);
    const states: Record<string, number> = {};
    for (const instance of instances) {
      bump(states, instance.state);
      bump(this.instancesByState, instance.state);
    }
    if (this.items.length >= MAX_REPORT_KEYS) return;
    const current = instances.find((i) => i.current);
    this.items.push({
      name: key.fullName,
      algorithm: key.algorithm,
      owner: key.owner,
      rolloverPolicy: key.rolloverPolicy,
      cryptoperiod: key.cryptoperiod,
      currentVersion: key.currentVersion,
      lastRolloverAt: key.currentVersion > 1 && current ? current.createdAt : null,
      nextRolloverAt: key.nextRolloverAt,
      instances: instances.length,
      states,
    });
  }

  /** Counts one audit event; events outside the period are ignored. */
  addEvent(event: AuditEvent): void {
    const ms = Date.parse(event.time);
    if (Number.isNaN(ms) || ms < this.fromMs || ms >= this.toMs) return;
    if (event.type === 'operation') this.addOperation(event, ms);
    else if (event.type === 'auth-failure') this.access.authFailures++;
    else if (event.type === 'approval' || event.type === 'approved-operation') this.addApproval(event);
    else this.upcoming.addEvent(event);
  }

  private addOperation(event: AuditEvent, ms: number): void {
    const ok = event.result === 'ok';
    this.access.events++;
    if (ok) this.access.allowed++;
    else this.access.refused++;
    if (event.key !== null) {
      const bucket = this.usage[Math.floor((ms - this.firstBucketMs) / this.bucketMs)];
      if (bucket) {
        if (ok) bucket.allowed++;
        else bucket.refused++;
      }
    }
    const key = event.key === null ? null : fullKeyName(event.key);
    const identity = event.identity?.name ?? '';
    const role = event.identity?.role ?? '';
    const operation = event.operation ?? '';
    const id = JSON.stringify([key, identity, role, event.endUser, operation]);
    let row = this.rows.get(id);
    if (!row) {
      if (this.rows.size >= MAX_ACCESS_ROWS) {
        this.access.omittedEvents++;
        return;
      }
      row = { key, identity, role, endUser: event.endUser, operation, allowed: 0, refused: 0, refusals: {} };
      this.rows.set(id, row);
    }
    if (ok) row.allowed++;
    else {
      row.refused++;
      bump(row.refusals, event.result);
    }
  }

  /**
   * One step of a dual-control request, as server/compose/approval-wiring.ts records
   * it: the request id in custom.approvalRequest, the step in custom.action
   * (requested, approved, denied, cancelled, expired, executed, failed), and
   * who acted as the identity (the requester for the run itself).
   */
  private addApproval(event: AuditEvent): void {
    const requestId = event.custom.approvalRequest ?? '';
    const action = event.custom.action ?? event.result;
    let request = this.requests.get(requestId);
    if (!request) {
      if (this.requests.size >= MAX_REPORT_REQUESTS) {
        this.omittedRequests++;
        return;
      }
      request = { requestId, operation: event.operation, key: event.key, requester: null, outcome: action, steps: [] };
      this.requests.set(requestId, request);
    }
    request.operation ??= event.operation;
    request.key ??= event.key;
    if (action === 'requested') request.requester = event.identity?.name ?? null;
    request.outcome = action;
    if (request.steps.length < MAX_STEPS_PER_REQUEST) request.steps.push({ time: event.time, action, by: event.identity?.name ?? null });
  }

  build(chain: ChainStatus, generatedAt: string): ComplianceReport {
    const requests: DualControlRequest[] = [...this.requests.values()].map((r) => ({ ...r, steps: [...r.steps] }));
    const byOutcome: Record<string, number> = {};
    for (const request of requests) bump(byOutcome, request.outcome);
    const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    const rows: AccessRow[] = [...this.rows.values()]
      .map((r) => ({ ...r, refusals: { ...r.refusals } }))
      .sort((a, b) => compare(a.key ?? '', b.key ?? '') || compare(a.identity, b.identity) || compare(a.endUser ?? '', b.endUser ?? '') || compare(a.operation, b.operation));
    const buckets: UsageBucket[] = this.usage.map((b, i) => ({ start: new Date(this.firstBucketMs + i * this.bucketMs).toISOString(), allowed: b.allowed, refused: b.refused }));
    return {
      reportVersion: REPORT_VERSION,
      generatedAt,
      period: { ...this.period },
      keys: {
        total: this.keyTotal,
        items: [...this.items],
        omitted: this.keyTotal - this.items.length,
        byAlgorithm: { ...this.byAlgorithm },
        instancesByState: { ...this.instancesByState },
      },
      access: { ...this.access, rows },
      dualControl: { requests, byOutcome, omitted: this.omittedRequests },
      upcomingRollovers: this.upcoming.build(),
      usage: { bucketMs: this.bucketMs, buckets },
      chain: { ...chain },
    };
  }
}
