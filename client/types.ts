/**
 * The argument and result types of the operations of docs/protocol.md §6:
 * what the typed client methods take and return, and the result shapes of
 * the officer and auditor operations that callers (the strongroom CLI among
 * them) send with request(). Binary values are Buffers here and base64 on
 * the wire (§3.4); the client converts both ways. Views are the server's
 * (§6 "Views returned"), shared with the server as type-only imports.
 */
import type { RequestMeta } from '../protocol/request';
import type { ArgsOf, CLIENT_ROLES, REVOCATION_REASONS } from '../protocol/op-schemas';

export type { RequestMeta };

/** Per call, for a write (docs/protocol.md §3.5). */
export interface WriteOptions {
  /**
   * The caller's idempotency key (8–128 printable ASCII characters), for a
   * write it may send again: the appliance runs it once and answers a
   * repeat from its record. Only on the writes that take one.
   */
  readonly idempotencyKey?: string;
}

// The server's views (§6 "Views returned"), imported as types only: the
// client carries no server code at run time, and the two cannot drift apart.
export type { KeyView, InstanceView } from '../domain/view-types';
import type { KeyView, InstanceView } from '../domain/view-types';
import type { ServerLimits } from '../operations/server-limits';
/** ApprovalList, ApprovalGet and the votes (§6.3). */
export type { ApprovalView } from '../domain/approvals/approval-view-shape';
/** Report and AuditVerify (§6.2). */
export type {
  ComplianceReport, ChainStatus, ReportPeriod, KeyInventory, KeyInventoryItem, AccessSummary, AccessRow,
  DualControlSummary, DualControlRequest, DualControlStep, UsageSeries, UsageBucket,
  UpcomingRollovers, ScheduledRollover, RecordedRolloverNotice,
} from '../domain/report/report-model';
/** UnsealStatus, UnsealSubmit, UnsealReset and Seal (§6.4). */
export type { UnsealStatus } from '../domain/unseal/unseal-status';
/** MasterKeyStatus and MasterKeyRotate (§6.4). */
export type { MasterKeyStatus, RotationResult } from '../domain/master-key-status';
/** A certificate as ServerCertRenew describes it: the domain's own shape, so the two cannot drift. */
export type { CertificateInfo as CertificateView } from '../domain/pki/certificate-info';
export type { MaterialDigest, MaterialFacts } from '../domain/keys/material-facts';
/** An audit event, and the export line AuditSearch, the event stream and the SIEM sinks carry it in (§6.2, §8). */
export type { AuditEvent } from '../protocol/audit-event';
export type { AuditLine } from '../protocol/audit-line';
import type { AuditLine } from '../protocol/audit-line';

/** `name` alone: the key's current instance; `instance` alone: that instance; both: that instance, which must be the key's. */
export interface KeyRef {
  readonly name?: string;
  readonly instance?: string;
}

export interface QueryResult {
  readonly server: string;
  readonly version: string;
  readonly protocol: number;
  readonly operations: string[];
  readonly limits: ServerLimits;
  readonly identity: { readonly name: string; readonly role: string; readonly groups: string[] };
}

export interface CreateArgs {
  readonly name: string;
  readonly algorithm?: string;
  readonly usage?: string[];
  readonly description?: string;
  readonly owner?: string;
  readonly attributes?: Readonly<Record<string, string>>;
  readonly rollover?: 'auto' | 'manual' | 'none';
  readonly cryptoperiod?: string;
  /** ISO 8601 date-time with a zone, in the future: the first instance is PreActive until then, when the server activates it. */
  readonly activateAt?: string;
}

export interface RegisterArgs extends CreateArgs {
  readonly material: Buffer;
}

export interface KeyWithInstances {
  readonly key: KeyView;
  readonly instances: InstanceView[];
}

/** What get() returns. The caller owns `material` and should zero it after use. */
export interface RetrievedKey {
  readonly key: KeyView;
  readonly instance: InstanceView;
  readonly material: Buffer;
}

export interface LocateArgs {
  readonly pattern?: string;
  readonly namespace?: string;
  readonly algorithm?: string;
  readonly limit?: number;
  readonly offset?: number;
}

export type RevocationReason = (typeof REVOCATION_REASONS)[number];
export type ClientRole = (typeof CLIENT_ROLES)[number];

export interface RevokeArgs extends KeyRef {
  readonly reason: RevocationReason;
  readonly compromiseDate?: string;
}

export interface EncryptArgs { readonly name: string; readonly plaintext: Buffer; readonly aad?: Buffer }
export interface DecryptArgs { readonly name: string; readonly ciphertext: Buffer; readonly aad?: Buffer }
export interface GenerateDataKeyArgs { readonly name: string; readonly algorithm?: 'AES-128' | 'AES-256'; readonly aad?: Buffer }
export interface DecryptDataKeyArgs { readonly name: string; readonly wrapped: Buffer; readonly aad?: Buffer }
export interface MacArgs { readonly name: string; readonly data: Buffer }
export interface MacVerifyArgs { readonly name: string; readonly data: Buffer; readonly mac: Buffer; readonly instance?: string }

/** `instance` is the name of the instance that did the work; `key` the full name of its key (an alias resolved). */
export interface CiphertextResult { readonly ciphertext: Buffer; readonly instance: string; readonly key: string }
/** The caller owns `plaintext` and should zero it after use. */
export interface PlaintextResult { readonly plaintext: Buffer; readonly instance: string }
export interface DataKeyResult { readonly plaintext: Buffer; readonly wrapped: Buffer; readonly instance: string }
export interface MacResult { readonly mac: Buffer; readonly instance: string }

/** A Batch item (§4). Buffers in `args` are sent as base64; results come back as the server sent them (base64 strings). */
export interface BatchItem {
  readonly op: string;
  readonly args?: Readonly<Record<string, unknown>>;
}
export type BatchItemResult = { readonly result: unknown } | { readonly error: { readonly code: string; readonly message: string } };

export interface ClientIssueArgs {
  readonly name: string;
  readonly role: ClientRole;
  readonly groups?: string[];
  readonly publicKeyPem: string;
  readonly validityDays?: number;
}

export interface PolicyGrantArgs {
  readonly client?: string;
  readonly group?: string;
  readonly pattern: string;
  readonly permissions: string[];
}

/** A client as ClientIssue, ClientList and ClientRevoke answer it. */
export interface ClientRecord {
  readonly name: string;
  readonly role: ClientRole;
  readonly groups: readonly string[];
  /** Hex serial number of the client's certificate. */
  readonly serialNumber: string;
  /** SHA-256 of the certificate's DER, lower-case hex: how the server recognises the client. */
  readonly fingerprint256: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** A grant as PolicyGrant, PolicyRevoke and PolicyList answer it. */
export interface GrantRecord {
  readonly id: string;
  readonly subjectKind: 'client' | 'group';
  readonly subject: string;
  /** Glob on full key names: `*` matches any run of characters. */
  readonly pattern: string;
  readonly permissions: readonly string[];
  readonly createdAt: string;
  readonly createdBy: string;
}

/** What gives a permission in PolicyCheck's answer: the officer role, or one grant. */
export type PermissionSource =
  | { readonly kind: 'role'; readonly role: 'officer' }
  | { readonly kind: 'grant'; readonly grant: string; readonly subjectKind: 'client' | 'group'; readonly subject: string; readonly pattern: string };

/** PolicyCheck's answer (§6): a client's effective permissions on a key, each with every source that gives it (none: denied). */
export interface PolicyCheckResult {
  readonly client: { readonly name: string; readonly role: string; readonly groups: readonly string[]; readonly revokedAt: string | null };
  /** The name as given (canonical), and the key it is checked as (an alias's target). */
  readonly key: { readonly requested: string; readonly name: string; readonly alias: boolean };
  readonly permissions: ReadonlyArray<{ readonly permission: string; readonly allowed: boolean; readonly sources: readonly PermissionSource[] }>;
}

/**
 * AuditSearch's filters (§6.2), as the caller typed them: from/to (ISO 8601,
 * from inclusive), identity (a client name or certificate fingerprint), key
 * (a name or a glob on full names), operation, result (`ok`, `error`, or one
 * code), type (or a glob), fromSeq and limit. Derived from the wire's schema,
 * so it cannot drift from what the server checks.
 */
export type AuditSearchArgs = ArgsOf<'AuditSearch'>;

/** One AuditSearch page: export lines' fields, so a remote export is byte for byte a local one. */
export interface AuditSearchResult {
  readonly events: AuditLine[];
  /** Where the next page starts, or null at the end of the trail. */
  readonly nextSeq: number | null;
  /** Events read to find these. */
  readonly scanned: number;
  readonly head: { readonly seq: number; readonly hash: string } | null;
}
