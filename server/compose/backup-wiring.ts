/**
 * The appliance's backups service (Services.backups): the backup maker on
 * the keychain file, the HSM and backup_dir, with each backup's outcome
 * recorded in the audit trail (`backup-created`, naming the file, its hash,
 * and the audit head and trust counter it holds; or the failure's code),
 * then retention (backup_retention: `backup-deleted` for each old backup
 * removed), and the server's own schedule (backup_schedule), which makes
 * its backups through the same `create` with the server as the actor;
 * uploads into backup_dir (backup-upload-wiring.ts) and restore
 * (domain/backup/backup-restorer.ts).
 */
import { Clock } from '../../common/clock';
import { setting } from '../../common/config';
import { backupRetention, backupScheduleMs } from '../../common/backup-settings';
import { Logger } from '../../common/logger';
import { Timers } from '../../common/timers';
import { applianceVersion } from '../../common/version';
import { AuditEvent, EventStamper } from '../../domain/audit/audit-event';
import { INTENT_EVENT } from '../../domain/audit/audit-events';
import { BackupMaker, MadeBackup } from '../../domain/backup/backup-maker';
import { backupsBeyondRetention, newestBackupMs, removeBackup } from '../../domain/backup/backup-retention';
import { removeDeadWritersFiles } from '../../domain/backup/backup-writer-files';
import { listBackupFiles } from '../../domain/backup/backup-list';
import { BackupSchedule } from '../../domain/backup/backup-schedule';
import { BackupRestorer } from '../../domain/backup/backup-restorer';
import { backupUploadService } from './backup-upload-wiring';
import { ClientIdentity } from '../../domain/policy/identity';
import { unsealAuditEvent } from '../../domain/unseal/unseal-audit';
import { snapshotOnWorker } from '../../storage/backup/worker-snapshot';
import { openBackupSnapshot } from '../../storage/backup/backup-snapshot-reader';
import { KeychainError, StorageError, StrongroomError } from '../../common/errors';
import { Services } from '../../operations/context';
import { Appliance } from './open-appliance';
import { postgresBackupRefusals } from './postgres-backups';

/** Open requests read when retention decides what to keep (every open request of every officer fits: each officer has a bounded number open). */
const MAX_OPEN_RESTORES_READ = 10_000;

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

/**
 * The backups named by restore requests not yet carried out (pending,
 * approved or executing): retention keeps them. Read from the rows as
 * stored, unauthenticated: a forged row can only make retention keep more.
 */
function backupsAwaitingRestore(appliance: Appliance): Set<string> {
  const names = new Set<string>();
  for (const record of appliance.store.approvals.listApprovals({ states: ['pending', 'approved', 'executing'], limit: MAX_OPEN_RESTORES_READ })) {
    if (record.operation !== 'BackupRestore') continue;
    const name = (JSON.parse(record.args) as { name?: unknown }).name;
    if (typeof name === 'string') names.add(name);
  }
  return names;
}

/**
 * A failed backup as a StrongroomError with a stable code: a file-system
 * error of the write (a full disk while the file is assembled) is
 * STORAGE_FULL or STORAGE_ERROR, not an errno in the trail or an
 * INTERNAL_ERROR to the officer.
 */
function backupFailure(err: unknown): unknown {
  if (err instanceof StrongroomError) return err;
  const errno = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof errno !== 'string' || !/^E[A-Z]+$/.test(errno)) return err;
  const full = errno === 'ENOSPC' || errno === 'EDQUOT';
  const remedy = full ? '; free space there (or keep fewer backups: backup_retention), then retry' : '';
  return new StorageError(full ? 'STORAGE_FULL' : 'STORAGE_ERROR', `the backup could not be written to backup_dir (${errno}): no backup was made${remedy}`, { cause: err });
}

export interface BackupWiring {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly stamper: EventStamper;
  /** Records an event, resolving once it is durable. */
  readonly record: (event: AuditEvent) => Promise<void>;
  /** Resolves once every event recorded so far is durable (before a restore seals the keychain it replaces). */
  readonly drain?: () => Promise<void>;
  /** A restore is staged and its intent recorded: the server must restart to open it (appliance-server.ts). */
  readonly onRestoreStaged?: (outcome: { readonly name: string; readonly keptAs: string }) => void;
}

export function backupService(appliance: Appliance, wiring: BackupWiring): NonNullable<Services['backups']> {
  // Snapshots and restores of the keychain file: a PostgreSQL keychain refuses them all (postgres-backups.ts).
  if (appliance.storage === 'postgres') return postgresBackupRefusals(appliance);
  const { clock, timers, log, stamper, record } = wiring;
  const backupDir = setting(appliance.config, 'backup_dir');
  const retention = backupRetention(setting(appliance.config, 'backup_retention'));
  const maker = new BackupMaker({
    keychainPath: setting(appliance.config, 'keychain_path'),
    backupDir,
    hsm: () => appliance.hsm(),
    clock,
    applianceVersion: applianceVersion(),
    snapshot: snapshotOnWorker,
    checkSnapshot: (path, facts) => checkSnapshotTrust(appliance, path, facts.trustCounter),
  });

  /**
   * Removes the backups beyond backup_retention, the server acting on its
   * setting. Fail closed: nothing is removed unless the trail holds the
   * intent; each removal is then its own event. A removal that fails is
   * logged and audited with its code; the new backup stands either way.
   */
  async function applyRetention(made: MadeBackup): Promise<void> {
    const beyond = backupsBeyondRetention(backupDir, retention, made.name, backupsAwaitingRestore(appliance));
    if (beyond.length === 0) return;
    await record(unsealAuditEvent(stamper, INTENT_EVENT, null, 'ok', { retention: String(retention), remove: beyond.join(','), after: made.name }));
    for (const name of beyond) {
      let result = 'ok';
      try {
        removeBackup(backupDir, name);
        log.info('backup removed by retention', { name, retention });
      } catch (err) {
        result = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'BACKUP_NOT_FOUND' : 'STORAGE_ERROR';
        log.error('backup retention could not remove a backup', { name, error: String(err) });
      }
      await record(unsealAuditEvent(stamper, 'backup-deleted', null, result, { name, reason: 'retention', retention: String(retention), after: made.name }));
    }
  }

  /**
   * What a backup writer killed mid-way left in backup_dir (its snapshot is
   * a whole copy of the keychain file): removed once its writer is gone,
   * never a live writer's file (backup-writer-files.ts). Logged; a failure
   * to tidy is logged and does not stop the backup.
   */
  function removeKilledWritersFiles(): void {
    try {
      for (const name of removeDeadWritersFiles(backupDir)) log.info('removed what a killed backup writer left in backup_dir', { name });
    } catch (err) {
      log.error('could not remove what a killed backup writer left in backup_dir', { error: String(err) });
    }
  }

  // At the server's start too: a copy a killed verification or restore request left must not wait for the next backup.
  removeKilledWritersFiles();

  const create = async (requester: ClientIdentity | null): Promise<MadeBackup> => {
    const trigger = requester === null ? 'schedule' : 'request';
    const made = await (async () => {
      // The dispatcher refuses a sealed appliance's request; the schedule is refused here, before any snapshot is taken.
      if (appliance.keychain.isSealed) throw new KeychainError('SEALED', 'the keychain is sealed: no backup was made');
      removeKilledWritersFiles();
      return maker.create(trigger);
    })().catch(async (cause: unknown) => {
      const err = backupFailure(cause);
      await record(unsealAuditEvent(stamper, 'backup-created', requester, err instanceof StrongroomError ? err.code : 'INTERNAL_ERROR', { trigger }));
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
        trigger,
      }),
    );
    try {
      await applyRetention(made);
    } catch (err) {
      // The backup is made and recorded; the old ones stay until the next backup's retention can be recorded.
      log.error('backup retention skipped: the folder could not be listed or its intent recorded', { error: String(err) });
    }
    return made;
  };

  const scheduleText = setting(appliance.config, 'backup_schedule');
  const periodMs = backupScheduleMs(scheduleText);
  const schedule =
    periodMs === null
      ? null
      : new BackupSchedule({ schedule: scheduleText, periodMs, clock, timers, log, newestBackupMs: () => newestBackupMs(backupDir), make: () => create(null) });
  const restorer = new BackupRestorer({
    keychainPath: setting(appliance.config, 'keychain_path'),
    backupDir,
    hsm: () => appliance.hsm(),
    store: appliance.store,
    keychain: appliance.keychain,
    clock,
    stamper,
    record,
    drain: wiring.drain ?? (() => Promise.resolve()),
    log,
    onStaged: wiring.onRestoreStaged ?? (() => undefined),
  });
  const uploads = backupUploadService(appliance, { backupDir, clock, timers, log, stamper, record, beforeUpload: removeKilledWritersFiles });
  return {
    create,
    upload: uploads.upload,
    closeUploads: uploads.close,
    read: (name, offset, length) => maker.read(name, offset, length),
    list: async () => listBackupFiles(backupDir, await (await appliance.hsm()).signingPublicKey()),
    schedule,
    retention,
    restore: {
      prepare: (request) => (removeKilledWritersFiles(), restorer.prepare(request)),
      execute: (request, requester, requestId) => (removeKilledWritersFiles(), restorer.execute(request, requester, requestId)),
    },
  };
}
