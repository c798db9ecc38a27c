/**
 * Runs an approved request (domain/approvals/approval-service.ts `execute`):
 * the stored operation, through the same operation code the dispatcher runs,
 * as its requester. The requester's record is read again (a revoked client's
 * requests fail, PERMISSION_DENIED), the access rule and the stored
 * arguments' schema are checked again, and the operation's own authorisation
 * runs with the requester's current role and groups, so approval adds
 * nothing but the dual-control consent (and, for a key export, the one Get).
 */
import { AccessError } from '../common/errors';
import { ProtocolError } from '../protocol/protocol-error';
import { ApprovalRecord } from '../storage/approval-store';
import { assertAccess, assertServedWhileSealed } from './access';
import { OperationContext, Services } from './context';
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
    return runStored(table, op, record, { identity, meta: {}, services: services(), approval: { requestId: record.id, dualControlClass: record.dualControlClass } });
  };
}

/** The stored request's operation, its access rule and sealed rule, its arguments validated again, run as the requester. */
function runStored<Op extends TableOperationName>(table: OperationTable, op: Op, record: ApprovalRecord, ctx: OperationContext): unknown {
  const operation = table[op];
  assertAccess(operation, ctx.identity);
  assertServedWhileSealed(operation, ctx.services.keychain.isSealed);
  const args = validateArgs(op, JSON.parse(record.args) as unknown);
  return operation.run(args, ctx);
}
