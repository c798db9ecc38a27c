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
import { Services } from './context';
import { Operation } from './operation';
import { ClientIdentity } from '../domain/policy/identity';
import { isOperationName, validateArgs } from '../protocol/op-schemas';

export function approvalExecutor(operations: readonly Operation[], services: () => Services): (record: ApprovalRecord) => unknown {
  const table = new Map(operations.map((op) => [op.name as string, op]));
  return (record) => {
    const operation = table.get(record.operation);
    if (!operation || !isOperationName(record.operation)) throw new ProtocolError('INVALID_REQUEST', `${record.operation} is not available here`);
    const client = services().directory.getClientByName(record.requester);
    if (!client || client.revokedAt !== null) {
      throw new AccessError('PERMISSION_DENIED', `the requester "${record.requester}" is no longer an active client; the request was not carried out`);
    }
    const identity: ClientIdentity = { name: client.name, role: client.role, groups: client.groups, fingerprint256: client.fingerprint256, subject: `CN=${client.name}` };
    assertAccess(operation, identity);
    assertServedWhileSealed(operation, services().keychain.isSealed);
    const args = validateArgs(record.operation, JSON.parse(record.args) as unknown);
    return operation.run(args, { identity, meta: {}, services: services(), approval: { requestId: record.id, dualControlClass: record.dualControlClass } });
  };
}
