/**
 * How a stored approval request is shown to officers, auditors and its
 * requester (the wire's ApprovalGet/ApprovalList and the CLI): everything
 * that will run, its digest, the votes and the outcome. Also how an
 * operation's result is made storable: JSON without any binary (a Buffer in
 * a result would be material or a plaintext; it is replaced by a marker).
 */
import { ApprovalRecord } from '../../storage/approval-store';
import { parseBinding } from './approval-binding';
import type { ApprovalView } from './approval-view-shape';
import { withoutSealed } from './sealed-args';

export type { ApprovalView } from './approval-view-shape';


export function approvalView(record: ApprovalRecord): ApprovalView {
  return {
    id: record.id,
    operation: record.operation,
    // Sealed material (a key import's) is never shown: approvers compare its key check value.
    args: withoutSealed(JSON.parse(record.args) as Record<string, unknown>),
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
