/**
 * What a dual-controlled request on a key is bound to: the key's id, its
 * canonical name and the instance its reference resolved to when the request
 * was made (for a reference without an instance, the key's current instance
 * then). Officers approve this, not the name the requester typed: an alias
 * re-pointed, or a key destroyed and created again under the same name,
 * after the request would otherwise turn the approval into consent for
 * another key. The executor (operations/approval-executor.ts) resolves the
 * reference again and refuses a different answer (APPROVAL_TARGET_CHANGED).
 */
import { ApprovalError } from '../../common/errors';

export interface ApprovalBinding {
  readonly keyId: string;
  /** Canonical full name (namespace/name), never an alias. */
  readonly name: string;
  /** The instance's name. */
  readonly instance: string;
}

/** The binding stored with a request (canonical JSON text, or null), parsed; INTEGRITY is the digest's job, shape is checked here. */
export function parseBinding(text: string | null): ApprovalBinding | null {
  if (text === null) return null;
  const value = JSON.parse(text) as Partial<ApprovalBinding> | null;
  if (typeof value?.keyId !== 'string' || typeof value.name !== 'string' || typeof value.instance !== 'string') {
    throw new ApprovalError('APPROVAL_TARGET_CHANGED', 'the stored request\'s key binding is malformed; nothing was run');
  }
  return { keyId: value.keyId, name: value.name, instance: value.instance };
}

/** Throws APPROVAL_TARGET_CHANGED unless `now` (the reference resolved again) is exactly `bound`. */
export function assertSameTarget(requestId: string, bound: ApprovalBinding, now: ApprovalBinding): void {
  if (now.keyId === bound.keyId && now.name === bound.name && now.instance === bound.instance) return;
  // Details name only what was approved: what the reference points at now is the requester's to look up.
  throw new ApprovalError(
    'APPROVAL_TARGET_CHANGED',
    `request "${requestId}" was approved for ${bound.name} instance ${bound.instance}, and its key reference no longer resolves to that; nothing was run`,
    { details: { id: requestId, name: bound.name, instance: bound.instance } },
  );
}
