/**
 * Binds a dual-controlled request on a key to what its reference resolves to
 * (domain/approvals/approval-binding.ts): the dispatcher's gate stores the
 * binding with the request, and the executor resolves the reference again
 * and runs the operation on the bound key and instance only. Operations that
 * take a key reference (`{name?, instance?}`) and can be dual-controlled
 * (Get as a key export, Destroy) name this as their `approvalBinding`.
 */
import { ApprovalError, KeychainError } from '../common/errors';
import { ApprovalBinding, assertSameTarget } from '../domain/approvals/approval-binding';
import { canonicalName, KeyRefArgs, OperationContext } from './context';

/**
 * What `ref` resolves to now: the key behind a name or alias, or the owner of
 * a named instance; the instance named, else the key's current one.
 * KEY_NOT_FOUND / INSTANCE_NOT_FOUND when there is none.
 */
export function resolveBinding(ctx: OperationContext, ref: KeyRefArgs): ApprovalBinding {
  const { keychain } = ctx.services;
  const owner = ref.name !== undefined ? keychain.resolveName(canonicalName(ref.name)) : keychain.keyNameOfInstance(ref.instance);
  if (owner === null) throw new KeychainError('INSTANCE_NOT_FOUND', `no instance named "${ref.instance ?? ''}"`);
  const key = keychain.describeKey(owner).key;
  // Checks the instance belongs to this key (INSTANCE_NOT_FOUND otherwise).
  const instance = keychain.describeInstance({ fullName: key.fullName, instance: ref.instance ?? key.currentInstance });
  return { keyId: key.id, name: key.fullName, instance: instance.name };
}

/**
 * At execution: the stored reference resolved again must be the bound key
 * and instance (a reference without an instance is held to the bound one, not
 * the key's current one: that is what was approved). Throws
 * APPROVAL_TARGET_CHANGED otherwise, or when the request carries no binding
 * (stored before requests were bound: what its approvers saw is unknown).
 */
export function assertStillBound(ctx: OperationContext, requestId: string, ref: KeyRefArgs, bound: ApprovalBinding | null): ApprovalBinding {
  if (bound === null) {
    throw new ApprovalError('APPROVAL_TARGET_CHANGED', `request "${requestId}" was stored without the key it resolved to, so what was approved cannot be checked; nothing was run: make the request again`, {
      details: { id: requestId },
    });
  }
  let now: ApprovalBinding;
  try {
    now = resolveBinding(ctx, ref.name !== undefined ? { name: ref.name, instance: ref.instance ?? bound.instance } : ref);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'KEY_NOT_FOUND' && code !== 'INSTANCE_NOT_FOUND') throw err;
    // The reference resolves to nothing, or the bound instance is not its key's: the target changed.
    now = { keyId: '', name: '', instance: '' };
  }
  assertSameTarget(requestId, bound, now);
  return bound;
}
