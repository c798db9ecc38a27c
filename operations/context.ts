/**
 * What every operation receives: the caller's identity and request meta, and
 * the services (nothing ambient). Also the authorisation helpers operations
 * call with the key they are about to touch.
 */
import { RestoreRequest, RestoreTarget } from '../domain/backup/backup-restorer';
import type { UploadChunk, UploadProgress } from '../domain/backup/backup-upload';
import type { HsmHealthView } from '../domain/unseal/hsm-health';
import { GcmStreams } from '../domain/gcm-streams';
import { Clock } from '../common/clock';
import { AccessError, KeychainError } from '../common/errors';
import { CryptoService } from '../domain/crypto-service';
import { formatKeyName, parseKeyName } from '../domain/key-names';
import { ActivationRecord, Keychain, KeyRef } from '../domain/keychain';
import { LifecycleService } from '../domain/lifecycle-service';
import { EventBus } from '../domain/events/event-bus';
import { AuditEvent } from '../domain/audit/audit-event';
import { ChainTrust } from '../domain/report/compile-report';
import { IdentityConfirmation } from '../domain/policy/identity-confirmation';
import { DirectoryStore } from '../storage/directory-store';
import { AuditStore } from '../storage/audit-store';
import { PkiService } from '../domain/pki/pki-service';
import { ClientIdentity } from '../domain/policy/identity';
import { Permission } from '../domain/policy/permissions';
import { PolicyIndex } from '../domain/policy/policy-index';
import { RequestMeta } from './request';
import { SinkStats } from '../sinks/siem-transport';
import { UnsealService } from '../domain/unseal/unseal-service';
import { MasterKeyStatus, RotationOptions, RotationResult } from '../domain/master-key-rotation';
import type { ClusterStatusView } from '../server/cluster/cluster-status';
import { ApprovalService } from '../domain/approvals/approval-service';
import { ApprovalBinding } from '../domain/approvals/approval-binding';
import type { ServerLimits } from './server-limits';
import type { MadeBackup } from '../domain/backup/backup-maker';
import type { ClearKeyImport } from '../common/config';
import type { BackupSchedule } from '../domain/backup/backup-schedule';
import type { BackupListing } from '../domain/backup/backup-list';
import type { CertificateLifecycle } from '../domain/pki/certificate-expiry';

export type { ServerLimits } from './server-limits';


export interface Services {
  readonly keychain: Keychain;
  readonly crypto: CryptoService;
  /** Open streamed AES-GCM encryptions, in memory only (domain/gcm-streams.ts). */
  readonly gcmStreams: GcmStreams;
  readonly lifecycle: LifecycleService;
  readonly pki: PkiService;
  readonly directory: DirectoryStore;
  readonly policy: PolicyIndex;
  /** Holds each request's identity to its verified client row once unsealed (domain/policy/identity-confirmation.ts). */
  readonly identities: IdentityConfirmation;
  readonly clock: Clock;
  readonly limits: ServerLimits;
  readonly version: string;
  /** Closes every open connection of a client (after its revocation). */
  readonly disconnectClient: (name: string) => void;
  readonly newId: () => string;
  /** How long a Destroy waits before the material goes (destruction_wait). */
  readonly destructionWaitMs: number;
  /** Live events (durable audit events, approval requests, rollover notices) for the event stream and sinks. */
  readonly events: EventBus;
  /**
   * Appends an event to the audit chain (group commit); resolves once it is
   * durable, rejects with AUDIT_UNAVAILABLE. For admin actions beyond the
   * operation itself (an approved request being carried out, seal, unseal):
   * the dispatcher already records every operation's own outcome.
   */
  readonly recordAudit: (event: AuditEvent) => Promise<void>;
  /**
   * Appends events inside the open store transaction (a sweep's batch),
   * returning what publishes them once it committed: a change and its
   * events commit together. Absent (unit tests of the table), recordAudit
   * records them after the commit.
   */
  readonly recordWithin?: (events: readonly AuditEvent[]) => () => void;
  /**
   * recordWithin for a batch committed without its own fsync (RolloverRun's
   * rollovers): what it returns, called after the commit, flushes the batch
   * and its events off the event loop and resolves once both are durable
   * (domain/rollover-scheduler.ts recordFlushedLater).
   */
  readonly recordFlushedLater?: (events: readonly AuditEvent[]) => () => Promise<void>;
  /** The audit trail, read by AuditSearch, AuditVerify and Report (officers and auditors). */
  readonly auditTrail: AuditStore;
  /** The keychain id and the HSM signing key that audit checkpoints are verified against. */
  readonly auditTrust: () => Promise<ChainTrust>;
  /** Delivery counters of each SIEM sink (audit_sinks), for Query and `strongroom status`. */
  readonly auditSinkStats?: () => readonly SinkStats[];
  /** The HSM's health (server/compose/hsm-watch.ts): Query shows it, the sealed gate names its reason; absent without a watch. */
  readonly hsmHealth?: HsmHealthView;
  /** Split-knowledge unsealing, seal (appliance-server); absent in a server without it. */
  readonly unsealing?: UnsealService;
  /** Master-key rotation and its status, on the appliance's store and HSM. */
  /** ClusterStatus (server/cluster/cluster-status.ts); absent in a server without it. */
  readonly cluster?: { status(): Promise<ClusterStatusView> };
  readonly masterKeys?: {
    status(): Promise<MasterKeyStatus>;
    rotate(options: Pick<RotationOptions, 'destroyOld'>): Promise<RotationResult>;
  };
  /** Certificate expiry and server-certificate renewal (server/compose/server-certificates.ts); absent without listeners. */
  readonly certificates?: CertificateLifecycle;
  /** Signed backups in backup_dir (domain/backup/backup-maker.ts); absent in a server without them. */
  readonly backups?: {
    /** Makes one (requester null: the server, on its schedule), then applies backup_retention. */
    create(requester: ClientIdentity | null): Promise<MadeBackup>;
    read(name: string, offset: number, length: number): { data: Buffer; fileBytes: number };
    /** What backup_dir holds, newest first, read from each file's signed manifest (domain/backup/backup-list.ts). */
    list(): Promise<BackupListing>;
    /** The server's own backups (backup_schedule), or null when off; started and stopped by the server. */
    readonly schedule: BackupSchedule | null;
    /** backup_retention: how many backups the folder keeps. */
    readonly retention: number;
    /** Restore (docs/backup.md §5): the checks before a request is stored, and the approved restore. */
    readonly restore?: {
      prepare(request: RestoreRequest): Promise<RestoreTarget>;
      execute(request: RestoreRequest, requester: ClientIdentity | null, requestId: string | null): Promise<RestoreTarget>;
    };
    /** One chunk of a backup an officer sends into backup_dir (domain/backup/backup-upload.ts); the last one verifies the file and puts it in place. */
    readonly upload?: (requester: ClientIdentity, chunk: UploadChunk) => Promise<UploadProgress>;
    /** Abandons the uploads in progress (the server closing). */
    readonly closeUploads?: () => void;
  };
  /** Dual control: approval requests, votes and quorums (domain/approvals). */
  readonly approvals: ApprovalService;
  /** Register of clear material of a generated algorithm: refused (off, also when absent) or a key import (dual-control); clear_key_import. */
  readonly clearKeyImport?: ClearKeyImport;
  /** Whether the Interop operation (a test harness's case markers) is served: kmip_interop = on. */
  readonly interopServed?: boolean;
}

/**
 * What an operation touched, filled in by authorizeName / authorizeRef as it
 * resolves a reference (the key's canonical name, an alias followed; the
 * instance when one is named or resolved), so that the audit event names the
 * key and instance, not the alias or the bare instance the caller typed.
 */
export interface Touched {
  key: string | null;
  instance: string | null;
}

export interface OperationContext {
  readonly identity: ClientIdentity;
  readonly meta: RequestMeta;
  readonly services: Services;
  /** Where the operation records what it resolved (the dispatcher reads it for the event); absent where nobody audits the run. */
  readonly touched?: Touched;
  /**
   * Hands the dispatcher an audit event's promise that the response must
   * wait for (an approval's own event, recorded by the service it calls):
   * if it cannot be made durable the caller gets AUDIT_UNAVAILABLE.
   */
  readonly awaitAudit?: (pending: Promise<void>) => void;
  /**
   * Set when the operation runs because an approval request met its quorum
   * (operations/approval-executor.ts): the dispatcher's gate is behind it, and an
   * approved key export may give the requester the material they asked for.
   */
  readonly approval?: { readonly requestId: string; readonly dualControlClass: string; readonly binding: ApprovalBinding | null };
  /** The request's in-process receiver of what an activation changed (DispatchOptions.captureActivation, never from a wire), for a KMIP batch's undo. */
  readonly captureActivation?: (record: ActivationRecord) => void;
}

/**
 * A key reference as the schemas type it (protocol/op-schemas.ts: `name?`,
 * `instance?`, at least one): a name, with or without an instance, or an
 * instance alone.
 */
export type KeyRefArgs = { readonly name: string; readonly instance?: string } | { readonly name?: undefined; readonly instance: string };

function denied(ctx: OperationContext, permission: Permission, what: string, keyName?: string): AccessError {
  const why = ctx.identity.role === 'officer' ? ' (officers administer keys; using one, or getting its material, needs a grant)' : '';
  // The next step, in the words an officer types: the grant that would allow it (only for a name the caller gave, never an alias's target).
  if (ctx.identity.local) {
    return new AccessError('PERMISSION_DENIED', `the local operator may not ${permission} ${what}: it is an officer without a certificate and holds no key use; run it with --server and the certificate of a client granted ${permission}`, {
      details: { permission },
    });
  }
  const grant = keyName === undefined ? 'a grant of it on the key' : `a grant of ${permission} on a pattern matching ${keyName}, e.g. \`strongroom policy grant --client ${ctx.identity.name} --pattern '${keyName}' --permissions ${permission}\` by an officer`;
  return new AccessError('PERMISSION_DENIED', `client "${ctx.identity.name}" may not ${permission} ${what}${why}: it needs ${grant} (\`strongroom policy check\` shows what it holds)`, {
    details: { permission },
  });
}

/** The canonical full name (`payroll` is `default/payroll`); INVALID_ARGUMENT for a malformed name. */
export function canonicalName(name: string): string {
  const known = canonicalNames.get(name);
  if (known !== undefined) return known;
  const canonical = formatKeyName(parseKeyName(name));
  // Bounded: names a client makes up cannot grow it without end; full, it starts again.
  if (canonicalNames.size >= MAX_CANONICAL_NAMES) canonicalNames.clear();
  canonicalNames.set(name, canonical);
  return canonical;
}

/**
 * Names already parsed, and their canonical form: every request that names
 * a key passes here (authorizeName), and parsing it again (a split and a
 * pattern per segment) was 1.5% of a Get. A memo of a pure function: only
 * valid names are kept (a bad one throws before), so it answers what
 * parsing answers.
 */
const canonicalNames = new Map<string, string>();
const MAX_CANONICAL_NAMES = 10_000;

/**
 * Checks `permission` on a key name; returns the canonical name. An alias is
 * checked as the key it points to, so an alias can never widen a grant.
 */
export function authorizeName(ctx: OperationContext, permission: Permission, name: string): string {
  const { requested, fullName } = keyNameToCheck(ctx, name);
  // Recorded before the check: a refused access is recorded against the key it aimed at, too.
  if (ctx.touched) ctx.touched.key = fullName;
  // The message names what was asked for: naming an alias's target would reveal it.
  if (!allowed(ctx, permission, fullName)) throw denied(ctx, permission, requested, requested);
  return fullName;
}

/**
 * The name a permission on `name` is checked against: the canonical name,
 * an alias followed to its key (authorizeName, and PolicyCheck, which must
 * check exactly what an operation would).
 */
export function keyNameToCheck(ctx: OperationContext, name: string): { requested: string; fullName: string } {
  const requested = canonicalName(name);
  return { requested, fullName: resolveAlias(ctx, requested) };
}

/**
 * Checks `permission` on the key a `{name?, instance?}` reference points to.
 * An instance named alone is resolved to its key first; to a client without
 * the permission, an unknown instance is PERMISSION_DENIED too, so that
 * probing reveals nothing; to an officer, or a client granted the permission
 * on `*`, it is INSTANCE_NOT_FOUND (whatever exists, it could reach).
 */
function resolveAlias(ctx: OperationContext, fullName: string): string {
  try {
    return ctx.services.keychain.resolveName(fullName);
  } catch (err) {
    // A name that is neither a key nor an alias: checked as given (a Create, or KEY_NOT_FOUND later).
    if ((err as { code?: string }).code === 'KEY_NOT_FOUND') return fullName;
    throw err;
  }
}

export function authorizeRef(ctx: OperationContext, permission: Permission, ref: KeyRefArgs): KeyRef {
  if (ref.instance !== undefined && ctx.touched) ctx.touched.instance = ref.instance;
  if (ref.name !== undefined) return { fullName: authorizeName(ctx, permission, ref.name), instance: ref.instance };
  const instance = ref.instance;
  const owner = ctx.services.keychain.keyNameOfInstance(instance);
  if (owner !== null && ctx.touched) ctx.touched.key = owner;
  if (owner === null) {
    // Told plainly to whoever could reach any instance that exists (an officer, or a grant on `*`): it learns nothing by it.
    if (ctx.identity.role === 'officer' || ctx.services.policy.holdsEverywhere(ctx.identity, permission)) {
      throw new KeychainError('INSTANCE_NOT_FOUND', `no instance named "${instance}"`);
    }
    throw denied(ctx, permission, `instance ${instance}`);
  }
  if (!allowed(ctx, permission, owner)) throw denied(ctx, permission, `instance ${instance}`);
  return { fullName: owner, instance };
}

/** The policy's answer, or an approved key export: the one Get its officers approved, of the key it is bound to, for its requester. */
function allowed(ctx: OperationContext, permission: Permission, fullName: string): boolean {
  if (ctx.services.policy.allows(ctx.identity, permission, fullName)) return true;
  const approval = ctx.approval;
  return permission === 'get' && approval?.dualControlClass === 'key-export' && ctx.identity.role === 'officer' && approval.binding?.name === fullName;
}
