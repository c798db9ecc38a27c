/**
 * Builds the server's ApprovalService from the configuration
 * (dual_control_quorum, approval_ttl, max_pending_approvals_per_requester)
 * and wires it to the store, the event bus, the audit trail and the approval
 * executor. Every state change of a request is an `approval` live event and
 * an audit event (type `approval`, the request id in custom.approvalRequest);
 * the approved operation's execution is one too, as its requester, with its
 * operation, key and result.
 */
import { Clock } from '../../common/clock';
import { ApplianceConfig, numberSetting, setting } from '../../common/config';
import { ConfigError } from '../../common/errors';
import { Actor } from '../../domain/approvals/approval-rules';
import { ApprovalBinding, parseBinding } from '../../domain/approvals/approval-binding';
import { ApprovalAction, ApprovalService } from '../../domain/approvals/approval-service';
import { parseApprovalTtl, parseQuorumSetting } from '../../domain/approvals/quorum-settings';
import { AuditEvent, EventStamper, stampOf } from '../../domain/audit/audit-event';
import { EventBus } from '../../domain/events/event-bus';
import { ApprovalRecord } from '../../storage/approval-store';
import { ApprovalStore } from '../../storage/approval-store';
import { DirectoryStore } from '../../storage/directory-store';
import { TransactionalStore } from '../../storage/transactional-store';

/** Largest max_pending_approvals_per_requester: the queue is for a handful of sensitive changes. */
export const MAX_PENDING_PER_REQUESTER = 1000;

export interface ApprovalWiring {
  readonly config: ApplianceConfig;
  /** Transactions of the keychain store. */
  readonly store: TransactionalStore;
  /** The authenticated directory and approvals (Keychain.directory, Keychain.approvals). */
  readonly directory: DirectoryStore;
  readonly approvals: ApprovalStore;
  readonly clock: Clock;
  /** New request ids and event ids. */
  readonly newId: () => string;
  readonly events: EventBus;
  /** Records an event; its promise (durable, or AUDIT_UNAVAILABLE) is handed to the caller of the change (ApprovalService.takeAudits). */
  readonly recordAudit: (event: AuditEvent) => Promise<void> | void;
  /** Appends an event inside the open store transaction, returning what publishes it once committed (ApprovalServiceOptions.auditWithin); absent: recordAudit after the commit. */
  readonly recordWithin?: (event: AuditEvent) => () => void;
  readonly execute: (record: ApprovalRecord) => unknown;
}

function maxPending(config: ApplianceConfig): number {
  const text = setting(config, 'max_pending_approvals_per_requester');
  const value = numberSetting(config, 'max_pending_approvals_per_requester');
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_PENDING_PER_REQUESTER) {
    throw new ConfigError(`max_pending_approvals_per_requester must be a whole number from 1 to ${MAX_PENDING_PER_REQUESTER}, not "${text}"`);
  }
  return value;
}

/** The key (and its namespace) a stored request is about, for events: the bound key if any, else the name it gives; null for none. */
function target(operation: string, args: Record<string, unknown>, binding: ApprovalBinding | null): { key: string | null; namespace: string | null } {
  if (binding !== null) return { key: binding.name, namespace: binding.name.split('/')[0] };
  // ClientRevoke's and ClientIssue's `name` is a client's, not a key's.
  if (typeof args.name !== 'string' || operation.startsWith('Client') || operation === 'PolicyGrant') return { key: null, namespace: null };
  const key = args.name.includes('/') ? args.name : `default/${args.name}`;
  return { key, namespace: key.split('/')[0] };
}

export function approvalEvent(stamper: EventStamper, directory: DirectoryStore, record: ApprovalRecord, action: ApprovalAction, actor: Actor | null): AuditEvent {
  const carriedOut = action === 'executed' || action === 'failed';
  const who = carriedOut ? directory.getClientByName(record.requester) : actor === null ? null : directory.getClientByName(actor.name);
  const args = JSON.parse(record.args) as Record<string, unknown>;
  const error = record.error === null ? null : (JSON.parse(record.error) as { code: string });
  // The bound key and instance are what the request is about; the reference typed (maybe an alias) is kept beside them.
  const binding = parseBinding(record.binding);
  const requestedName = typeof args.name === 'string' ? args.name : null;
  return {
    ...stampOf(stamper),
    type: carriedOut ? 'approved-operation' : 'approval',
    identity: who === null ? null : { name: who.name, role: who.role, fingerprint256: who.fingerprint256, subject: `CN=${who.name}` },
    endUser: null,
    purpose: null,
    source: null,
    operation: record.operation,
    key: binding?.name ?? requestedName,
    instance: binding?.instance ?? (typeof args.instance === 'string' ? args.instance : null),
    result: action === 'failed' ? (error?.code ?? 'INTERNAL_ERROR') : 'ok',
    requestId: null,
    custom: {
      approvalRequest: record.id,
      action,
      class: record.dualControlClass,
      approvals: String(record.votes.length),
      required: String(record.required),
      approvedBy: record.votes.map((v) => v.officer).join(','),
      digest: record.digest,
      ...(binding !== null && requestedName !== null ? { requestedName } : {}),
      ...wrappingFacts(args),
    },
  };
}

/**
 * For a wrapped export or import (docs/protocol.md §6.5): the method and
 * the wrapping key its approvers saw (the AES key's bound name and
 * instance, or the RSA key's SPKI fingerprint), so the trail says under
 * what a key left or came in. Never material: these are public facts.
 */
function wrappingFacts(args: Record<string, unknown>): Record<string, string> {
  const facts: Record<string, string> = {};
  const wrapBinding = args.wrapBinding as { name?: unknown; instance?: unknown } | undefined;
  const unwrappedBy = args.unwrappedBy as { method?: unknown; key?: unknown; instance?: unknown } | undefined;
  if (typeof args.wrapMethod === 'string') facts.wrapMethod = args.wrapMethod;
  if (typeof args.wrapFingerprint === 'string') facts.wrapFingerprint = args.wrapFingerprint;
  if (typeof wrapBinding?.name === 'string' && typeof wrapBinding.instance === 'string') Object.assign(facts, { wrapKey: wrapBinding.name, wrapInstance: wrapBinding.instance });
  if (typeof unwrappedBy?.key === 'string' && typeof unwrappedBy.instance === 'string') {
    Object.assign(facts, { wrapMethod: String(unwrappedBy.method), wrapKey: unwrappedBy.key, wrapInstance: unwrappedBy.instance });
  }
  if (typeof args.kcv === 'string') facts.kcv = args.kcv;
  return facts;
}

/** The caller runs start() once the audit trail is ready (it seeds quorums and fails interrupted requests, with audit events). */
export function makeApprovalService(wiring: ApprovalWiring): ApprovalService {
  const { config, store, clock, recordWithin } = wiring;
  const service = new ApprovalService({
    approvals: wiring.approvals,
    transaction: (fn) => store.transaction(fn),
    clock,
    newId: wiring.newId,
    ttlMs: parseApprovalTtl(setting(config, 'approval_ttl')),
    maxOpenPerRequester: maxPending(config),
    defaultQuorums: parseQuorumSetting(setting(config, 'dual_control_quorum')),
    execute: wiring.execute,
    publish: (event) => wiring.events.publish(event),
    audit: (record, action, actor) => wiring.recordAudit(approvalEvent(wiring, wiring.directory, record, action, actor)),
    auditWithin: recordWithin === undefined ? undefined : (record, action, actor) => recordWithin(approvalEvent(wiring, wiring.directory, record, action, actor)),
    target,
  });
  return service;
}
