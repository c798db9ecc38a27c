/** The dispatch table: every operation of docs/protocol.md §6 (Batch is the dispatcher's own). */
import { aliasList, aliasRemove, aliasSet, namespaceList, namespaceRemove, clientIssue, clientList, clientRevoke, policyGrant, policyList, policyRevoke } from './admin-operations';
import { decrypt, decryptDataKey, encrypt, generateDataKey, mac, macVerify } from './crypto-operations';
import { create, get, getAttributes, locate, reKey, register } from './key-operations';
import { activate, destroy, destroyCancel, revoke } from './lifecycle-operations';
import { Operation } from './operation';
import { makeQuery } from './query';
import { rolloverDue, rolloverRun, setRolloverPolicy, undoRollover } from './rollover-operations';
import { auditSearch, auditVerify, report } from './audit-operations';
import { masterKeyRotate, masterKeyStatus, seal, unsealReset, unsealStatus, unsealSubmit } from './unseal-operations';
import { approvalApprove, approvalCancel, approvalCollect, approvalDeny, approvalGet, approvalList, approvalQuorums, approvalQuorumSet } from './approval-operations';

export function allOperations(operationNames: () => readonly string[]): Operation[] {
  return [
    makeQuery(operationNames),
    create, register, get, locate, getAttributes, reKey,
    activate, revoke, destroy, destroyCancel,
    encrypt, decrypt, generateDataKey, decryptDataKey, mac, macVerify,
    clientIssue, clientList, clientRevoke, policyGrant, policyRevoke, policyList,
    setRolloverPolicy, rolloverDue, rolloverRun, undoRollover,
    aliasSet, aliasRemove, aliasList, namespaceList, namespaceRemove,
    auditSearch, auditVerify, report,
    unsealStatus, unsealSubmit, unsealReset, seal, masterKeyStatus, masterKeyRotate,
    approvalList, approvalGet, approvalApprove, approvalDeny, approvalCancel, approvalCollect, approvalQuorums, approvalQuorumSet,
  ];
}
