/**
 * What officers approve: a SHA-256 digest over a canonical encoding of the
 * request (its id, operation, arguments, requester, class and creation time,
 * and for an operation on a key, the key id, canonical name and instance its
 * reference resolved to: domain/approvals/approval-binding.ts).
 * An approver sends back the digest they were shown, so the operation that
 * runs is exactly the one they read: changing anything stored changes the
 * digest, and the executor re-derives it before running.
 *
 * Canonical JSON: object keys sorted at every depth, no whitespace, only
 * strings, finite numbers, booleans, null, arrays and plain objects. Binary
 * (a Buffer) is refused: arguments of a dual-controlled operation are stored
 * in the clear, so none may carry material.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../../common/errors';

/** Deepest nesting a stored request's arguments may have (they come from validated wire arguments, a few levels deep). */
const MAX_CANONICAL_DEPTH = 16;

export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_CANONICAL_DEPTH) throw new ValidationError('approval request arguments nest too deeply');
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError('approval request arguments hold a number that is not finite');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  // Plain objects, and the prototype-less ones the schema's string maps are (custom attributes).
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null)) {
    const entries = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k], depth + 1)}`);
    return `{${entries.join(',')}}`;
  }
  // Buffers, typed arrays, functions: a dual-controlled operation's arguments never hold binary.
  throw new ValidationError('approval request arguments must be plain JSON (no binary: a stored request never holds material)');
}

export interface DigestInput {
  readonly id: string;
  readonly operation: string;
  /** Canonical JSON of the arguments (canonicalJson). */
  readonly args: string;
  readonly requester: string;
  readonly dualControlClass: string;
  readonly createdAt: string;
  /** Canonical JSON of the key binding, or null (an operation that names no key, or a request stored before bindings). */
  readonly binding?: string | null;
}

/** Lower-case hex SHA-256 of the canonical request. */
export function approvalDigest(input: DigestInput): string {
  const canonical = canonicalJson({
    id: input.id,
    operation: input.operation,
    args: JSON.parse(input.args) as unknown,
    requester: input.requester,
    class: input.dualControlClass,
    createdAt: input.createdAt,
    // Absent rather than null when unbound, so that requests stored before bindings keep their digest.
    binding: input.binding == null ? undefined : (JSON.parse(input.binding) as unknown),
  });
  return createHash('sha256').update(`strongroom-approval-v1\n${canonical}`).digest('hex');
}
