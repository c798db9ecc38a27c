/**
 * The access rule of an operation's `access` field (operation.ts), in one
 * place: the dispatcher checks it before every run, and the approval
 * executor again before an approved request runs (its requester may have
 * lost the role meanwhile).
 */
import { KeychainError } from '../../common/errors';
import { ClientIdentity } from '../policy/identity';
import { Args, OperationContext } from './context';
import { DualControlClass, Operation } from './operation';

export function assertAccess(operation: Operation, identity: ClientIdentity): void {
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

/** The dual-control class this request falls under, or null when it runs at once. */
export function dualControlClassOf(operation: Operation, args: Args, ctx: OperationContext): DualControlClass | null {
  const mark = operation.dualControl;
  if (mark === undefined) return null;
  return typeof mark === 'string' ? mark : mark(args, ctx);
}
