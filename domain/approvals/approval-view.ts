/**
 * How a stored approval request is shown to officers, auditors and its
 * requester (the wire's ApprovalGet/ApprovalList and the CLI): everything
 * that will run, its digest, the votes and the outcome. Also how an
 * operation's result is made storable: JSON without any binary (a Buffer in
 * a result would be material or a plaintext; it is replaced by a marker).
 */
import { ApprovalRecord } from '../../storage/approval-store';
import { ApprovalBinding, parseBinding } from './approval-binding';

export interface ApprovalView {
  readonly id: string;
  readonly operation: string;
  readonly args: Record<string, unknown>;
  /** For an operation on a key: the key id, canonical name and instance that will be used, whatever the arguments name (an alias); null otherwise. */
  readonly binding: ApprovalBinding | null;
  readonly class: string;
  readonly requester: string;
  readonly required: number;
  readonly approvals: number;
  readonly approvedBy: readonly string[];
  readonly digest: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly state: string;
  readonly result: unknown;
  readonly error: { code: string; message: string } | null;
  readonly finishedAt: string | null;
  readonly finishedBy: string | null;
  readonly reason: string | null;
}

export function approvalView(record: ApprovalRecord): ApprovalView {
  return {
    id: record.id,
    operation: record.operation,
    args: JSON.parse(record.args) as Record<string, unknown>,
    binding: parseBinding(record.binding),
    class: record.dualControlClass,
    requester: record.requester,
    required: record.required,
    approvals: record.votes.length,
    approvedBy: record.votes.map((v) => v.officer),
    digest: record.digest,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    state: record.state,
    result: record.result === null ? null : (JSON.parse(record.result) as unknown),
    error: record.error === null ? null : (JSON.parse(record.error) as { code: string; message: string }),
    finishedAt: record.finishedAt,
    finishedBy: record.finishedBy,
    reason: record.reason,
  };
}

/** Deepest result tree stored: results are views of keys, clients and grants, a few levels deep. */
const MAX_RESULT_DEPTH = 12;

/** A copy of `value` fit to store: Buffers (material, plaintexts) become the string "[binary withheld]". */
export function storableResult(value: unknown, depth = 0): unknown {
  if (depth > MAX_RESULT_DEPTH) return '[too deep]';
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return '[binary withheld]';
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' || typeof value === 'function' ? null : value;
  if (Array.isArray(value)) return value.map((v) => storableResult(v, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, storableResult(v, depth + 1)]));
}
