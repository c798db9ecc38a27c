/**
 * The access rule of an operation's `access` field (operation.ts), in one
 * place: the dispatcher checks it before every run, and the approval
 * executor again before an approved request runs (its requester may have
 * lost the role meanwhile).
 */
import { KeychainError } from '../common/errors';
import { ClientIdentity } from '../domain/policy/identity';
import { ArgsOf } from '../protocol/op-schemas';
import { OperationContext } from './context';
import { DualControlClass, Operation, TableOperationName } from './operation';

/** What the access rules read of an operation: its name and access class. */
type AccessRule = Pick<Operation, 'name' | 'access'>;

export function assertAccess(operation: AccessRule, identity: ClientIdentity): void {
  if (operation.access === 'officer' && identity.role !== 'officer') {
    throw new KeychainError('PERMISSION_DENIED', `${operation.name} is for officers; "${identity.name}" is ${identity.role === 'app' ? 'an app' : 'an auditor'}`);
  }
  if (operation.access === 'audit' && identity.role !== 'officer' && identity.role !== 'auditor') {
    throw new KeychainError('PERMISSION_DENIED', `${operation.name} is for officers and auditors; "${identity.name}" is an app`);
  }
  if (operation.access === 'key' && identity.role === 'auditor') {
    throw new KeychainError('PERMISSION_DENIED', `auditors do not use keys; ${operation.name} refused for "${identity.name}"`);
  }
}

/** What a sealed appliance still answers; everything else is SEALED. */
export const ALLOWED_WHILE_SEALED: ReadonlySet<string> = new Set(['Query', 'UnsealStatus', 'UnsealSubmit', 'UnsealReset', 'Seal']);

/**
 * While the keychain is sealed only ALLOWED_WHILE_SEALED run: client, grant
 * and master-key administration wait for the unseal too, not only key
 * operations (a sealed appliance changes nothing). The dispatcher checks it
 * before the dual-control gate, so a sealed appliance answers SEALED rather
 * than storing an approval request that officers would approve for nothing
 * and that would run the moment it is unsealed, long after anyone looked.
 */
export function assertServedWhileSealed(operation: AccessRule, sealed: boolean): void {
  if (sealed && !ALLOWED_WHILE_SEALED.has(operation.name)) {
    throw new KeychainError('SEALED', `the appliance is sealed: ${operation.name} waits until it is unsealed (strongroom unseal)`);
  }
}

/** The dual-control class this request falls under, or null when it runs at once. */
export function dualControlClassOf<Op extends TableOperationName>(operation: Operation<Op>, args: ArgsOf<Op>, ctx: OperationContext): DualControlClass | null {
  const mark = operation.dualControl;
  if (mark === undefined) return null;
  return typeof mark === 'string' ? mark : mark(args, ctx);
}
