/**
 * The appliance's backups service (Services.backups): the backup maker on
 * the keychain file, the HSM and backup_dir, with each backup's outcome
 * recorded in the audit trail (`backup-created`, naming the file, its hash,
 * and the audit head and trust counter it holds; or the failure's code).
 */
import { Clock } from '../../common/clock';
import { setting } from '../../common/config';
import { applianceVersion } from '../../common/version';
import { AuditEvent, EventStamper } from '../../domain/audit/audit-event';
import { BackupMaker } from '../../domain/backup/backup-maker';
import { unsealAuditEvent } from '../../domain/unseal/unseal-audit';
import { snapshotOnWorker } from '../../storage/backup/worker-snapshot';
import { openBackupSnapshot } from '../../storage/backup/backup-snapshot-reader';
import { KeychainError } from '../../common/errors';
import { Services } from '../../operations/context';
import { Appliance } from './open-appliance';

/** Lets the server answer other requests between the steps of a snapshot's trust check. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The snapshot's rows against its own trust state, under the live
 * keychain's trust keys (the same keychain): a keychain file altered outside
 * the appliance between two checkpoints is refused here, not signed.
 */
async function checkSnapshotTrust(appliance: Appliance, path: string, counter: number | null): Promise<void> {
  const copy = openBackupSnapshot(path);
  try {
    const checked = await appliance.keychain.checkTrustOfCopy(copy.trust, yieldToEventLoop);
    if (checked === null) throw new KeychainError('SEALED', 'the keychain was sealed while its backup was checked: no backup was made');
    if (checked.counter !== counter) throw new KeychainError('INTEGRITY_FAILURE', 'the backup snapshot changed while it was checked');
  } finally {
    copy.close();
  }
}

export function backupService(appliance: Appliance, clock: Clock, stamper: EventStamper, record: (event: AuditEvent) => Promise<void>): NonNullable<Services['backups']> {
  const maker = new BackupMaker({
    keychainPath: setting(appliance.config, 'keychain_path'),
    backupDir: setting(appliance.config, 'backup_dir'),
    hsm: () => appliance.hsm(),
    clock,
    applianceVersion: applianceVersion(),
    snapshot: snapshotOnWorker,
    checkSnapshot: (path, facts) => checkSnapshotTrust(appliance, path, facts.trustCounter),
  });
  return {
    create: async (requester) => {
      const made = await maker.create().catch(async (err: unknown) => {
        await record(unsealAuditEvent(stamper, 'backup-created', requester, (err as { code?: string }).code ?? 'INTERNAL_ERROR', {}));
        throw err;
      });
      const { manifest } = made;
      await record(
        unsealAuditEvent(stamper, 'backup-created', requester, 'ok', {
          name: made.name,
          sha256: made.sha256,
          bytes: String(made.bytes),
          auditHeadSeq: String(manifest.auditHead?.seq ?? 0),
          trustCounter: String(manifest.trustCounter ?? ''),
        }),
      );
      return made;
    },
    read: (name, offset, length) => maker.read(name, offset, length),
  };
}
