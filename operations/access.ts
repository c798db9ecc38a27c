/**
 * The access rule of an operation's `access` field (operation.ts), in one
 * place: the dispatcher checks it before every run, and the approval
 * executor again before an approved request runs (its requester may have
 * lost the role meanwhile).
 */
import type { SealReason } from '../domain/unseal/hsm-health';
import { AccessError, ApprovalError, KeychainError } from '../common/errors';
import { ClientIdentity } from '../domain/policy/identity';
import { ArgsOf } from '../protocol/op-schemas';
import { OperationContext } from './context';
import { DualControlClass, Operation, TableOperationName } from './operation';

/** What the access rules read of an operation: its name and access class. */
type AccessRule = Pick<Operation, 'name' | 'access'>;

export function assertAccess(operation: AccessRule, identity: ClientIdentity): void {
  if (operation.access === 'officer' && identity.role !== 'officer') {
    throw new AccessError('PERMISSION_DENIED', `${operation.name} is for officers; "${identity.name}" is ${identity.role === 'app' ? 'an app' : 'an auditor'}`);
  }
  if (operation.access === 'audit' && identity.role !== 'officer' && identity.role !== 'auditor') {
    throw new AccessError('PERMISSION_DENIED', `${operation.name} is for officers and auditors; "${identity.name}" is an app`);
  }
  if (operation.access === 'key' && identity.role === 'auditor') {
    throw new AccessError('PERMISSION_DENIED', `auditors do not use keys; ${operation.name} refused for "${identity.name}"`);
  }
}

/**
 * What a sealed appliance still answers; everything else is SEALED.
 * MasterKeyStatus (officers) reads the token's versions, not the keys: it is
 * what an officer needs when an appliance will not unseal (a version missing
 * from the token).
 */
export const ALLOWED_WHILE_SEALED: ReadonlySet<string> = new Set(['Query', 'UnsealStatus', 'UnsealSubmit', 'UnsealReset', 'Seal', 'MasterKeyStatus']);

/**
 * While the keychain is sealed only ALLOWED_WHILE_SEALED run: client, grant
 * and master-key administration wait for the unseal too, not only key
 * operations (a sealed appliance changes nothing). The dispatcher checks it
 * before the dual-control gate, so a sealed appliance answers SEALED rather
 * than storing an approval request that officers would approve for nothing
 * and that would run the moment it is unsealed, long after anyone looked.
 */
export function assertServedWhileSealed(operation: AccessRule, sealed: boolean, reason: SealReason | null = null): void {
  if (sealed && reason === 'hsm-unavailable' && !ALLOWED_WHILE_SEALED.has(operation.name)) {
    throw new KeychainError('SEALED', `the appliance sealed itself because its HSM is unavailable: ${operation.name} was refused, and nothing was kept to run later; bring the HSM (token, module, its folder) back, then send it again (strongroom status shows the HSM's state and whether the custodians must unseal)`, {
      details: { reason },
    });
  }
  if (sealed && !ALLOWED_WHILE_SEALED.has(operation.name)) {
    throw new KeychainError('SEALED', `the appliance is sealed: ${operation.name} was refused, and nothing was kept to run later; unseal it with strongroom --server HOST:PORT unseal (unseal --status says what it needs), then send it again`);
  }
}

/**
 * What the local operator (the CLI without --server) may not do: take part
 * in dual control (vote, cancel, collect) or in the unseal ceremony, which
 * are acts of a certificate holder. Its dual-controlled requests are refused
 * too (assertLocalOperatorMay).
 */
export const NOT_FOR_THE_LOCAL_OPERATOR: ReadonlySet<string> = new Set([
  'ApprovalApprove',
  'ApprovalDeny',
  'ApprovalCancel',
  'ApprovalCollect',
  'UnsealSubmit',
  'UnsealReset',
  'Seal',
]);

function localRefusal(what: string): ApprovalError {
  return new ApprovalError(
    'DUAL_CONTROL_LOCAL_MODE',
    `${what} is dual-controlled: local mode has no officer certificate to count approvals against; run it with --server and an officer certificate`,
  );
}

/**
 * Refuses what the local operator may not run: the acts above, and any
 * request that would need officers' approval. Checked before the sealed
 * rule (nothing is stored for the local operator either way, and "use
 * --server" is the answer whatever the keychain's state); the dual-control
 * class may read the keychain, so a sealed one answers why it is sealed.
 */
export function assertLocalOperatorMay<Op extends TableOperationName>(operation: Operation<Op>, identity: ClientIdentity, args: ArgsOf<Op>, ctx: OperationContext): void {
  if (!identity.local) return;
  if (NOT_FOR_THE_LOCAL_OPERATOR.has(operation.name) || dualControlClassOf(operation, args, ctx) !== null) throw localRefusal(operation.name);
}

/** The dual-control class this request falls under, or null when it runs at once. */
export function dualControlClassOf<Op extends TableOperationName>(operation: Operation<Op>, args: ArgsOf<Op>, ctx: OperationContext): DualControlClass | null {
  const mark = operation.dualControl;
  if (mark === undefined) return null;
  return typeof mark === 'string' ? mark : mark(args, ctx);
}
