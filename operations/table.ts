/** The dispatch table: every operation of docs/protocol.md §6 (Batch is the dispatcher's own). */
import { aliasList, aliasRemove, aliasSet, namespaceList, namespaceRemove, clientIssue, clientList, clientRevoke, policyGrant, policyList, policyRevoke } from './admin-operations';
import { decrypt, decryptDataKey, encrypt, generateDataKey, mac, macVerify, randomBytes } from './crypto-operations';
import { create, get, getAttributes, locate, reKey, register, setCustomAttributes } from './key-operations';
import { activate, destroy, destroyCancel, revoke } from './lifecycle-operations';
import { check } from './check-operation';
import { interop } from './interop-operations';
import { exportKey } from './key-export';
import { log } from './log-operations';
import { policyCheck } from './policy-check';
import { OperationTable } from './operation';
import { makeQuery } from './query';
import { rolloverDue, rolloverRun, setRolloverPolicy, undoRollover } from './rollover-operations';
import { auditSearch, auditVerify, report } from './audit-operations';
import { masterKeyRotate, masterKeyStatus, seal, unsealReset, unsealStatus, unsealSubmit } from './unseal-operations';
import { backupCreate, backupRead } from './backup-operations';
import { clientRenew, serverCertRenew } from './certificate-operations';
import { backupRestore } from './backup-restore';
import { backupList } from './backup-list';
import { backupUpload } from './backup-upload';
import { clusterStatus } from './cluster-operations';
import { approvalApprove, approvalCancel, approvalCollect, approvalDeny, approvalGet, approvalList, approvalQuorums, approvalQuorumSet } from './approval-operations';

/** Every operation by its name; Query's list of operation names follows this order. */
export function allOperations(operationNames: () => readonly string[]): OperationTable {
  return {
    Query: makeQuery(operationNames),
    Create: create, Register: register, Get: get, Locate: locate, GetAttributes: getAttributes, SetCustomAttributes: setCustomAttributes, ReKey: reKey,
    Activate: activate, Revoke: revoke, Destroy: destroy, DestroyCancel: destroyCancel,
    Encrypt: encrypt, Decrypt: decrypt, GenerateDataKey: generateDataKey, DecryptDataKey: decryptDataKey, MAC: mac, MACVerify: macVerify, RandomBytes: randomBytes,
    ClientIssue: clientIssue, ClientList: clientList, ClientRevoke: clientRevoke, PolicyGrant: policyGrant, PolicyRevoke: policyRevoke, PolicyList: policyList, PolicyCheck: policyCheck,
    SetRolloverPolicy: setRolloverPolicy, RolloverDue: rolloverDue, RolloverRun: rolloverRun, UndoRollover: undoRollover,
    AliasSet: aliasSet, AliasRemove: aliasRemove, AliasList: aliasList, NamespaceList: namespaceList, NamespaceRemove: namespaceRemove,
    AuditSearch: auditSearch, AuditVerify: auditVerify, Report: report,
    UnsealStatus: unsealStatus, UnsealSubmit: unsealSubmit, UnsealReset: unsealReset, Seal: seal, MasterKeyStatus: masterKeyStatus, MasterKeyRotate: masterKeyRotate,
    ApprovalList: approvalList, ApprovalGet: approvalGet, ApprovalApprove: approvalApprove, ApprovalDeny: approvalDeny,
    ApprovalCancel: approvalCancel, ApprovalCollect: approvalCollect, ApprovalQuorums: approvalQuorums, ApprovalQuorumSet: approvalQuorumSet,
    Interop: interop, Log: log, Export: exportKey, Check: check,
    BackupCreate: backupCreate, BackupRead: backupRead, BackupRestore: backupRestore, BackupUpload: backupUpload,
    BackupList: backupList,
    ClientRenew: clientRenew, ServerCertRenew: serverCertRenew,
    ClusterStatus: clusterStatus,
  };
}
