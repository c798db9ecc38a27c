/**
 * Row MACs of the authorisation state: who a client is (role, groups,
 * certificate, revocation), what a grant gives, what a dual-control request
 * asks and how many approvals it needs (`required` is inside the MAC), who
 * voted for which digest, and each class's quorum. An HMAC-SHA256 over every
 * field, with the keychain id, under the rows key (trust-keys.ts): a row
 * written into the file, or one whose role, permissions or quorum was edited,
 * fails with INTEGRITY_FAILURE instead of being obeyed.
 *
 * Versioning: as in domain/row-mac.ts, a field added later needs a new label.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { KeychainError } from '../../common/errors';
import { ApprovalRecord, ApprovalVoteRecord, QuorumRecord } from '../../storage/approval-store';
import { ClientRecord, GrantRecord } from '../../storage/directory-store';
import { encodeFields, Field } from '../field-encoding';
import { TrustKeys } from './trust-keys';

type Unmaced<T> = Omit<T, 'rowMac'>;

function mac(keys: TrustKeys, label: string, fields: readonly Field[]): Buffer {
  return createHmac('sha256', keys.rows).update(encodeFields([label, keys.keychainId, ...fields])).digest();
}

export function clientRowMac(keys: TrustKeys, c: Unmaced<ClientRecord>): Buffer {
  return mac(keys, 'strongroom/client-row/v1', [c.name, c.role, JSON.stringify(c.groups), c.serialNumber, c.fingerprint256, c.notBefore, c.notAfter, c.createdAt, c.revokedAt]);
}

export function grantRowMac(keys: TrustKeys, g: Unmaced<GrantRecord>): Buffer {
  return mac(keys, 'strongroom/grant-row/v1', [g.id, g.subjectKind, g.subject, g.pattern, JSON.stringify(g.permissions), g.createdAt, g.createdBy]);
}

export function approvalRowMac(keys: TrustKeys, a: Unmaced<Omit<ApprovalRecord, 'votes'>>): Buffer {
  return mac(keys, 'strongroom/approval-row/v1', [
    a.id, a.operation, a.args, a.binding, a.dualControlClass, a.requester, a.required, a.digest,
    a.createdAt, a.expiresAt, a.state, a.result, a.error, a.finishedAt, a.finishedBy, a.reason,
  ]);
}

export function voteRowMac(keys: TrustKeys, requestId: string, v: Unmaced<ApprovalVoteRecord>): Buffer {
  return mac(keys, 'strongroom/vote-row/v1', [requestId, v.officer, v.digest, v.at]);
}

export function quorumRowMac(keys: TrustKeys, q: Unmaced<QuorumRecord>): Buffer {
  return mac(keys, 'strongroom/quorum-row/v1', [q.dualControlClass, q.required, q.updatedAt, q.updatedBy]);
}

/** INTEGRITY_FAILURE unless `stored` is the MAC `expected` (compared in constant time). */
export function assertRowMac(expected: Buffer, stored: Buffer | undefined, what: string): void {
  if (stored === undefined || stored.length !== expected.length || !timingSafeEqual(stored, expected)) {
    throw new KeychainError('INTEGRITY_FAILURE', `the stored ${what} failed authentication: it was written or altered outside the appliance`);
  }
}
