/**
 * The cluster's audit checkpoint signers (issue 17, docs/cluster/join.md).
 *
 * Every node of a cluster signs checkpoints with the EC key in its own HSM
 * token, and the keys never leave their tokens, so a node cannot check
 * another's checkpoint against a key of its own. The keychain therefore keeps
 * the list of keys the cluster trusts to sign (`audit_signers`): a node, or
 * an auditor's AuditVerify on any node, accepts a checkpoint signed by a key
 * on that list, from the point in the trail where the key was added.
 *
 * Why the list can be believed although the database cannot:
 * - each row carries a MAC under the rows key (domain/trust/trust-keys.ts),
 *   which only an appliance that unsealed the keychain with the master key
 *   holds: a row planted or edited in the database is INTEGRITY_FAILURE
 *   here, whoever reads it; and the row is journaled into the trust
 *   set-hash, so one deleted or written back from an older copy fails the
 *   next full check (domain/trust/trust-ledger.ts);
 * - adding a signer is an event in the chain (`audit-signer-added`, naming
 *   the fingerprint), committed in the same transaction as the row; a
 *   checkpoint signed by a listed key is accepted only at or after that
 *   event (signer-handover.ts), so a key added today vouches for no
 *   checkpoint of the past.
 */
import { createHmac } from 'node:crypto';
import { isoNow } from '../../common/clock';
import { KeychainError } from '../../common/errors';
import { AuditRecord, AuditSignerRecord, AuditStore } from '../../storage/audit-store';
import { TransactionalStore } from '../../storage/transactional-store';
import { encodeFields } from '../field-encoding';
import { assertRowMac } from '../trust/authorisation-row-macs';
import { TrustKeys } from '../trust/trust-keys';
import { nextRecord } from './audit-chain';
import { publicKeyFingerprint } from './audit-checkpoint';
import { adminEvent } from './audit-events';
import { canonicalEvent, EventStamper } from './audit-event';

/** The event that adds a signer: `custom.fingerprint` names the key, `custom.node` the node. */
export const AUDIT_SIGNER_ADDED = 'audit-signer-added';

/** A signer as the verifiers take it: its row authenticated. */
export interface ClusterSigner {
  readonly fingerprint: string;
  readonly publicKey: string;
  readonly node: string;
  readonly addedAt: string;
}

type Unmaced = Omit<AuditSignerRecord, 'rowMac'>;

export function auditSignerRowMac(keys: TrustKeys, s: Unmaced): Buffer {
  return createHmac('sha256', keys.rows).update(encodeFields(['strongroom/audit-signer-row/v1', keys.keychainId, s.fingerprint, s.publicKey, s.node, s.addedAt, s.addedBy])).digest();
}

function sealed(): KeychainError {
  return new KeychainError('SEALED', 'the keychain is sealed: the cluster\'s audit signers cannot be read or added; unseal it (strongroom unseal), then try again');
}

/**
 * The signer list, every row checked: INTEGRITY_FAILURE when any row fails
 * its MAC or names a fingerprint that is not its key's (fail closed: a list
 * the appliance did not write vouches for nothing).
 */
export function authenticatedSigners(audit: AuditStore, keys: TrustKeys | null): ClusterSigner[] {
  if (keys === null) throw sealed();
  return audit.listAuditSigners().map((row) => {
    assertRowMac(auditSignerRowMac(keys, row), row.rowMac, `audit signer ${row.fingerprint}`);
    if (fingerprintOrNull(row.publicKey) !== row.fingerprint) {
      throw new KeychainError('INTEGRITY_FAILURE', `the stored audit signer ${row.fingerprint} holds another key than its fingerprint names`);
    }
    return { fingerprint: row.fingerprint, publicKey: row.publicKey, node: row.node, addedAt: row.addedAt };
  });
}

export interface SignerEnrolment {
  readonly publicKey: string;
  readonly node: string;
  /** Who registers it: the local operator's name (and OS subject). */
  readonly operator: { readonly name: string; readonly subject: string };
}

export interface EnrolmentResult {
  readonly fingerprint: string;
  /** False when the key was on the list already (nothing written). */
  readonly added: boolean;
  /** The `audit-signer-added` event's seq (null when nothing was added). */
  readonly eventSeq: number | null;
}

/**
 * Adds `publicKey` to the list: the row (MACed) and its `audit-signer-added`
 * event in ONE transaction, the event's place read under the store's write
 * lock, so neither is ever in the database without the other. A key listed
 * already (an operator running join twice) changes nothing.
 */
export function enrolAuditSigner(store: TransactionalStore & { readonly audit: AuditStore }, keys: TrustKeys | null, stamper: EventStamper, enrolment: SignerEnrolment): EnrolmentResult {
  if (keys === null) throw sealed();
  const fingerprint = publicKeyFingerprint(enrolment.publicKey);
  return store.transaction(() => {
    if (authenticatedSigners(store.audit, keys).some((s) => s.fingerprint === fingerprint)) return { fingerprint, added: false, eventSeq: null };
    const row: Unmaced = { fingerprint, publicKey: enrolment.publicKey, node: enrolment.node, addedAt: isoNow(stamper.clock), addedBy: enrolment.operator.name };
    store.audit.addAuditSigner({ ...row, rowMac: auditSignerRowMac(keys, row) });
    const event = {
      ...adminEvent(stamper, AUDIT_SIGNER_ADDED, null, null),
      identity: { name: enrolment.operator.name, role: 'local', fingerprint256: '', subject: enrolment.operator.subject },
      source: 'local',
      custom: { fingerprint, node: enrolment.node },
    };
    const [record] = store.audit.appendAuditRecordsFromHead((head): AuditRecord[] => [nextRecord(head, canonicalEvent(event))]);
    return { fingerprint, added: true, eventSeq: record.seq };
  });
}

function fingerprintOrNull(pem: string): string | null {
  try {
    return publicKeyFingerprint(pem);
  } catch {
    return null;
  }
}
