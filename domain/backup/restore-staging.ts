/**
 * Stages a verified backup for `backup restore` (docs/backup.md §5): its
 * snapshot copied out beside keychain.db (same folder, so the swap is a
 * rename), then made the newest copy of its keychain: its trust state,
 * checked in full under its own keychain key (unwrapped by this HSM), is
 * sealed again at a counter above every counter the token or the replaced
 * file has seen, and a `backup-restored` event, recording both audit heads
 * and both counters, is chained onto its trail and signed at once by this
 * HSM's key (a checkpoint): the trail this appliance serves from then on
 * starts from a head it signed itself, and a backup of another appliance,
 * whose checkpoints its key signed, is handed over to this one by that
 * event (domain/audit/signer-handover.ts). The file is then folded
 * out of WAL, fsynced and hashed: the hash the restore intent names and the
 * swap (restore-swap.ts) checks.
 *
 * Nothing here touches keychain.db: a failure leaves only the staged file,
 * which the caller (or the next start) removes.
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { systemClock } from '../../common/clock';
import { StrongroomError } from '../../common/errors';
import { HsmPort } from '../../hsm/hsm-port';
import { openSqliteStore } from '../../storage/sqlite-store';
import { openUntrustedSqlite } from '../../storage/sqlite-untrusted-file';
import { AuditEvent, canonicalEvent } from '../audit/audit-event';
import { signCheckpoint } from '../audit/audit-checkpoint';
import { chainEvents } from '../audit/audit-writer';
import { TrustLedger } from '../trust/trust-ledger';
import { parseBackupHeader } from './backup-file';
import { extractSnapshot } from './backup-verify';
import { fileSha256, fsyncPath } from './restore-swap';
import { checkRowMacs } from './snapshot-row-macs';
import { hsmKeychainKeys, KeychainKeySource } from './share-bound-keys';
import { withKeychainKeys } from './with-keychain-keys';

/** Copies the backup's snapshot to `stagedPath` (created exclusively, 0600): BACKUP_TAMPERED unless it hashes to the signed value. */
export function extractStaged(backupPath: string, stagedPath: string): void {
  const fd = openSync(backupPath, 'r');
  try {
    const parsed = parseBackupHeader(fstatSync(fd).size, (offset, length) => {
      const out = Buffer.alloc(length);
      return out.subarray(0, readSync(fd, out, 0, length, offset));
    });
    extractSnapshot(fd, parsed, stagedPath);
  } finally {
    closeSync(fd);
  }
}

/**
 * Each row of the staged file against its MAC (snapshot-row-macs.ts), under
 * its own keychain key unwrapped by this HSM: INTEGRITY_FAILURE names the
 * first row edited in place. Read only.
 */
export async function checkStagedRows(stagedPath: string, hsm: HsmPort, keychainKeys: KeychainKeySource = hsmKeychainKeys): Promise<{ rows: number }> {
  const store = openSqliteStore(stagedPath, { readonly: true });
  try {
    return await withKeychainKeys(keychainKeys, store, hsm, ({ unsealed, current, trust }) => checkRowMacs(store, unsealed.keychainId, current, trust));
  } finally {
    store.close();
  }
}

export interface SealedStaging {
  readonly sha256: string;
  readonly bytes: number;
  /** The restored trail's head after the backup-restored event. */
  readonly headSeq: number;
  readonly counter: number;
}

/**
 * Re-seals the staged file's trust state at `counter` and appends `event`
 * (built from the restored trail's head before it: `eventFor(headSeq)`).
 * The staged keychain's keys come from `keychainKeys`: the HSM alone, or
 * for a share-bound keychain the keys its custodians unsealed, lent by the
 * running keychain (share-bound-keys.ts). Its wrapped rows are left as they
 * are: the restored file unseals with the same custodians' shares.
 */
export async function sealStaged(
  stagedPath: string,
  hsm: HsmPort,
  counter: number,
  eventFor: (restoredHead: { seq: number; hash: string }) => AuditEvent,
  keychainKeys: KeychainKeySource = hsmKeychainKeys,
): Promise<SealedStaging> {
  const store = openSqliteStore(stagedPath);
  try {
    const trust = store.trust;
    if (trust === null) throw new StrongroomError('STORAGE_ERROR', 'the staged keychain opened without its trust journal');
    const keychainId = await withKeychainKeys(keychainKeys, store, hsm, ({ unsealed, trust: keys }) => {
      new TrustLedger(trust, () => keys, systemClock).resealAt(keys, counter);
      return unsealed.keychainId;
    });
    const head = store.audit.auditHead();
    const event = canonicalEvent(eventFor({ seq: head?.seq ?? 0, hash: head?.hash.toString('hex') ?? '' }));
    const [appended] = store.audit.appendAuditRecordsFromHead((now) => chainEvents(now, [event]));
    // This appliance verified the trail in full (under the signer the approved request trusts) before staging it:
    // its own checkpoint over the new head is what its checkpointer starts from after the swap.
    store.audit.appendAuditCheckpoint(await signCheckpoint(hsm, keychainId, { seq: appended.seq, hash: appended.hash }, systemClock));
    store.close();
    // Out of WAL mode: one self-contained file, hashable, that no stale -wal can ever meet.
    const db = openUntrustedSqlite(stagedPath, { fileMustExist: true });
    try {
      db.pragma('journal_mode = DELETE');
    } finally {
      db.close();
    }
    fsyncPath(stagedPath);
    return { sha256: fileSha256(stagedPath), bytes: fstatSize(stagedPath), headSeq: appended.seq, counter };
  } catch (err) {
    try {
      store.close();
    } catch {
      /* already closed */
    }
    throw err;
  }
}

function fstatSize(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}
