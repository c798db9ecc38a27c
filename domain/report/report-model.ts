/**
 * The compliance report's model: what `strongroom report` renders as
 * Markdown, HTML or JSON, and what the Report operation returns. Metadata
 * and counts only — never key material (the builder never sees any).
 */

export const REPORT_VERSION = 1;

export interface ReportPeriod {
  /** ISO 8601 UTC, inclusive. */
  readonly from: string;
  /** ISO 8601 UTC, exclusive. */
  readonly to: string;
}

export interface KeyInventoryItem {
  readonly name: string;
  readonly algorithm: string;
  readonly owner: string;
  readonly rolloverPolicy: string;
  readonly cryptoperiod: string | null;
  readonly currentVersion: number;
  /** When the current instance was made by a rollover (null: the key was never rolled over). */
  readonly lastRolloverAt: string | null;
  readonly nextRolloverAt: string | null;
  readonly instances: number;
  /** Instance counts by lifecycle state. */
  readonly states: Readonly<Record<string, number>>;
}

export interface KeyInventory {
  /** Keys in the keychain. */
  readonly total: number;
  readonly items: KeyInventoryItem[];
  /** Keys left out of `items` past the report's key limit. */
  readonly omitted: number;
  readonly byAlgorithm: Readonly<Record<string, number>>;
  readonly instancesByState: Readonly<Record<string, number>>;
}

/** Who did which operation on which key in the period, how often allowed and refused. */
export interface AccessRow {
  readonly key: string | null;
  readonly identity: string;
  readonly role: string;
  readonly endUser: string | null;
  readonly operation: string;
  readonly allowed: number;
  readonly refused: number;
  /** Refusals and failures by error code. */
  readonly refusals: Readonly<Record<string, number>>;
}

export interface AccessSummary {
  /** Operation events in the period. */
  readonly events: number;
  readonly allowed: number;
  readonly refused: number;
  /** Refused connections (bad or revoked certificates) in the period. */
  readonly authFailures: number;
  readonly rows: AccessRow[];
  /** Events counted above whose row was left out past the report's row limit. */
  readonly omittedEvents: number;
}

export interface DualControlStep {
  readonly time: string;
  /** requested, approved, denied, cancelled, expired, executed or failed. */
  readonly action: string;
  readonly by: string | null;
}

export interface DualControlRequest {
  readonly requestId: string;
  readonly operation: string | null;
  readonly key: string | null;
  readonly requester: string | null;
  /** The last action recorded in the period. */
  readonly outcome: string;
  readonly steps: DualControlStep[];
}

export interface DualControlSummary {
  readonly requests: DualControlRequest[];
  readonly byOutcome: Readonly<Record<string, number>>;
  /** Requests left out past the report's limit. */
  readonly omitted: number;
}

export interface UsageBucket {
  /** ISO 8601 UTC start of the bucket. */
  readonly start: string;
  readonly allowed: number;
  readonly refused: number;
}

export interface UsageSeries {
  readonly bucketMs: number;
  readonly buckets: UsageBucket[];
}

export interface ChainStatus {
  readonly ok: boolean;
  /** Events verified from the first (up to the break, when broken). */
  readonly events: number;
  readonly headSeq: number | null;
  readonly headHash: string | null;
  /** Signed checkpoints verified, the newest one's seq (0: none), and events after it (chain only). */
  readonly checkpoints: number;
  readonly lastCheckpointSeq: number;
  readonly unsignedTail: number;
  /** Whether checkpoint signatures were checked, and against which key (domain/audit/audit-verify.ts). */
  readonly signaturesChecked: boolean;
  readonly signingKey: { readonly source: string; readonly fingerprint: string | null };
  /** The newest checkpoint, `seq:hash`: the anchor an auditor keeps for `audit verify --expect`. */
  readonly lastCheckpoint: { readonly seq: number; readonly hash: string; readonly signedAt: string } | null;
  /** Anchors (`--expect`) found as kept. */
  readonly anchorsMatched: number;
  readonly firstBadSeq?: number;
  readonly reason?: string;
}

/** A key whose automatic rollover comes within `withinDays` of the report's generation (or is overdue: it rolls at the next check). */
export interface ScheduledRollover {
  readonly key: string;
  /** The instance the rollover replaces. */
  readonly instance: string;
  readonly dueAt: string;
  readonly cryptoperiod: string | null;
  /** When its genuine notice was recorded in the audit trail (`rollover-notice`, within the period), or null. */
  readonly noticedAt: string | null;
}

/** A rollover notice the appliance recorded in the period (audit event `rollover-notice`). */
export interface RecordedRolloverNotice {
  readonly noticedAt: string;
  readonly key: string | null;
  readonly instance: string | null;
  readonly dueAt: string | null;
  readonly cryptoperiod: string | null;
  /** Whether the appliance recorded it (its MAC is the keychain's); false: written into the trail by someone else; null: not checked (sealed). */
  readonly genuine: boolean | null;
}

export interface UpcomingRollovers {
  readonly withinDays: number;
  /** Soonest first. */
  readonly scheduled: ScheduledRollover[];
  /** Scheduled rollovers left out past the report's limit. */
  readonly omittedScheduled: number;
  /** The notices recorded in the period, oldest first. */
  readonly notices: RecordedRolloverNotice[];
  readonly omittedNotices: number;
}

export interface ComplianceReport {
  readonly reportVersion: number;
  readonly generatedAt: string;
  readonly period: ReportPeriod;
  readonly keys: KeyInventory;
  readonly access: AccessSummary;
  readonly dualControl: DualControlSummary;
  /** Rollovers to come, and the notices of them the trail holds. */
  readonly upcomingRollovers: UpcomingRollovers;
  /** Key operations per bucket (hour or day) of the period: the chart. */
  readonly usage: UsageSeries;
  readonly chain: ChainStatus;
}
