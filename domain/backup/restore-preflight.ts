/**
 * The first half of `backup restore` (docs/backup.md §5): whether a verified
 * backup may replace the current keychain, decided before anything changes.
 *
 * The backup must have been verified with the HSM that will serve it, its
 * instances opened (verifyBackup with `hsm`): a foreign HSM's backup fails
 * there (its keychain keys do not unwrap), a tampered or foreign-signed one
 * earlier. What is left is freshness, the rollback protection a restore
 * must not become a way around:
 *
 * - the HSM token's freshness anchor for the backup's keychain
 *   (domain/trust/freshness-anchor.ts) is above the backup's trust counter:
 *   the token saw this keychain at a later state;
 * - or the backup is of the current keychain and its audit head is below the
 *   current trail's newest signed checkpoint.
 *
 * Either makes the backup older than the current keychain's signed state:
 * BACKUP_OLDER_THAN_CURRENT, unless the (approved, audited) request chose it
 * with `allowOlder`; the plan then says `older`, and the restore must raise
 * the anchor past the current one rather than lower it (§5).
 */
import { StrongroomError } from '../../common/errors';
import { BackupVerdict } from './backup-verify';

export interface CurrentKeychainState {
  /** The current keychain's id, null when this appliance has none yet (a fresh second appliance). */
  readonly keychainId: string | null;
  /** The seq of the current trail's newest signed checkpoint, null without one. */
  readonly lastCheckpointSeq: number | null;
  /** The HSM token's freshness anchor for the BACKUP's keychain id, null when the token has none. */
  readonly anchorForBackup: number | null;
}

export interface RestorePlan {
  readonly keychainId: string;
  /** The backup is of the keychain this appliance holds now (else: a new or another keychain). */
  readonly sameKeychain: boolean;
  /** The backup is older than the current signed state, and the request chose to restore it anyway. */
  readonly older: boolean;
  /** The counter the restored trust state must carry: above both the backup's and the token's. */
  readonly nextTrustCounter: number;
}

export function planRestore(verdict: BackupVerdict, current: CurrentKeychainState, allowOlder: boolean): RestorePlan {
  const { manifest } = verdict;
  if (!verdict.instances.checked || !verdict.trust.checked) {
    const reason = verdict.instances.checked ? (verdict.trust as { reason: string }).reason : verdict.instances.reason;
    throw new StrongroomError('WRONG_STATE', `a backup is restored only once this HSM has opened every instance of it and checked its trust state (${reason})`);
  }
  const sameKeychain = current.keychainId === manifest.keychainId;
  const backupCounter = manifest.trustCounter ?? 0;
  const backupHead = manifest.auditHead?.seq ?? 0;
  const behindAnchor = current.anchorForBackup !== null && backupCounter < current.anchorForBackup;
  const behindCheckpoint = sameKeychain && current.lastCheckpointSeq !== null && backupHead < current.lastCheckpointSeq;
  const older = behindAnchor || behindCheckpoint;
  if (older && !allowOlder) {
    const why = behindAnchor
      ? `its trust counter ${backupCounter} is below ${current.anchorForBackup}, the change the HSM token last saw of this keychain`
      : `its audit trail ends at event ${backupHead}, before the current trail's newest signed checkpoint at ${current.lastCheckpointSeq}`;
    throw new StrongroomError('BACKUP_OLDER_THAN_CURRENT', `the backup is older than the current keychain: ${why}. Restoring it rolls the keychain back; do it only on purpose (--older, approved and audited)`, {
      details: { backupCounter, anchor: current.anchorForBackup ?? -1, backupHeadSeq: backupHead, lastCheckpointSeq: current.lastCheckpointSeq ?? -1 },
    });
  }
  return { keychainId: manifest.keychainId, sameKeychain, older, nextTrustCounter: Math.max(backupCounter, current.anchorForBackup ?? 0) + 1 };
}
