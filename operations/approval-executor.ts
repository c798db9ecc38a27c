/**
 * Runs an approved request (domain/approvals/approval-service.ts `execute`):
 * the stored operation, through the same operation code the dispatcher runs,
 * as its requester. The requester's record is read again (a revoked client's
 * requests fail, PERMISSION_DENIED), the access rule and the stored
 * arguments' schema are checked again, and the operation's own authorisation
 * runs with the requester's current role and groups, so approval adds
 * nothing but the dual-control consent (and, for a key export, the one Get).
 *
 * A request on a key is bound to the key id, canonical name and instance its
 * reference resolved to when it was made (operations/approval-binding.ts):
 * the reference is resolved again, a different answer (an alias re-pointed,
 * the key replaced) is APPROVAL_TARGET_CHANGED with nothing run, and the
 * operation runs on the bound name and instance, never on the alias typed.
 */
import { AccessError } from '../common/errors';
import { ProtocolError } from '../protocol/protocol-error';
import { ApprovalRecord } from '../storage/approval-store';
import { assertAccess, assertServedWhileSealed } from './access';
import { KeyRefArgs, OperationContext, Services } from './context';
import { assertStillBound } from './approval-binding';
import { parseBinding } from '../domain/approvals/approval-binding';
import { OperationTable, TableOperationName } from './operation';
import { ClientIdentity } from '../domain/policy/identity';
import { isOperationName, validateArgs } from '../protocol/op-schemas';

export function approvalExecutor(table: OperationTable, services: () => Services): (record: ApprovalRecord) => unknown {
  return (record) => {
    const op = record.operation;
    if (!isOperationName(op) || op === 'Batch') throw new ProtocolError('INVALID_REQUEST', `${record.operation} is not available here`);
    const client = services().directory.getClientByName(record.requester);
    if (!client || client.revokedAt !== null) {
      throw new AccessError('PERMISSION_DENIED', `the requester "${record.requester}" is no longer an active client; the request was not carried out`);
    }
    const identity: ClientIdentity = { name: client.name, role: client.role, groups: client.groups, fingerprint256: client.fingerprint256, subject: `CN=${client.name}` };
    const binding = parseBinding(record.binding);
    return runStored(table, op, record, { identity, meta: {}, services: services(), approval: { requestId: record.id, dualControlClass: record.dualControlClass, binding } });
  };
}

/** The stored request's operation, its access rule and sealed rule, its arguments validated again, run as the requester. */
function runStored<Op extends TableOperationName>(table: OperationTable, op: Op, record: ApprovalRecord, ctx: OperationContext): unknown {
  const operation = table[op];
  assertAccess(operation, ctx.identity);
  assertServedWhileSealed(operation, ctx.services.keychain.isSealed);
  const stored = JSON.parse(record.args) as Record<string, unknown>;
  // An operation that stored its arguments in its own form (a key import's sealed material) restores them, validated.
  const args = operation.approvalArgs === undefined ? validateArgs(op, stored) : operation.approvalArgs.restore(stored, { id: record.id, requester: record.requester }, ctx);
  if (operation.approvalBinding === undefined) return operation.run(args, ctx);
  const bound = assertStillBound(ctx, record.id, args as KeyRefArgs, ctx.approval?.binding ?? null);
  return operation.run({ ...args, name: bound.name, instance: bound.instance }, ctx);
}
