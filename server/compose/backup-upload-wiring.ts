/**
 * The appliance's `backup upload` service (Services.backups.upload;
 * domain/backup/backup-upload.ts): chunks into backup_dir, the whole file
 * verified against this HSM's signing key (or the request's `signerKey`)
 * before it is put in place, and each outcome recorded in the trail
 * (`backup-uploaded`: name, bytes, SHA-256, the backup's keychain and audit
 * head; or the refusal's code; `TIMEOUT` for an upload abandoned). Idle
 * uploads are swept by the injected timers while any is in progress.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Clock } from '../../common/clock';
import { StrongroomError } from '../../common/errors';
import { Logger } from '../../common/logger';
import { Timer, Timers } from '../../common/timers';
import { AuditEvent, EventStamper } from '../../domain/audit/audit-event';
import { BackupUploads, UPLOAD_IDLE_MS, UploadChunk, UploadProgress } from '../../domain/backup/backup-upload';
import { verifyOpenBackup } from '../../domain/backup/backup-verify';
import { ClientIdentity } from '../../domain/policy/identity';
import { unsealAuditEvent } from '../../domain/unseal/unseal-audit';
import { Appliance } from './open-appliance';

export interface BackupUploadWiring {
  readonly backupDir: string;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly stamper: EventStamper;
  /** Records an event, resolving once it is durable. */
  readonly record: (event: AuditEvent) => Promise<void>;
  /** Run before an upload begins: removes what killed writers left in backup_dir. */
  readonly beforeUpload: () => void;
}

export function backupUploadService(
  /** Only its HSM is asked for (the signing key an upload is verified against). */
  appliance: Pick<Appliance, 'hsm'>,
  wiring: BackupUploadWiring,
): { upload: (requester: ClientIdentity, chunk: UploadChunk) => Promise<UploadProgress>; close: () => void } {
  const { clock, timers, log, stamper, record } = wiring;
  const uploads = new BackupUploads({
    backupDir: wiring.backupDir,
    clock,
    verify: async (fd, signerKey) =>
      verifyOpenBackup(fd, { trustedSigner: signerKey ?? (await (await appliance.hsm()).signingPublicKey()), signerSource: signerKey === undefined ? 'hsm' : 'request', workDir: wiring.backupDir }),
    onAbandoned: (upload) => {
      log.info('backup upload abandoned: its partial file was removed', { name: upload.name, received: upload.received, totalBytes: upload.totalBytes, why: upload.why });
      void record(
        unsealAuditEvent(stamper, 'backup-uploaded', null, 'TIMEOUT', { name: upload.name, owner: upload.owner, received: String(upload.received), totalBytes: String(upload.totalBytes), why: upload.why }),
      ).catch(() => undefined);
    },
  });

  // Sweeps idle uploads while any is in progress (a dropped connection sends no more chunks).
  let sweeper: Timer | null = null;
  const sweepLater = (): void => {
    if (sweeper !== null) return;
    sweeper = timers.after(UPLOAD_IDLE_MS, () => {
      sweeper = null;
      if (uploads.sweep() > 0) sweepLater();
    });
  };

  const upload = async (requester: ClientIdentity, chunk: UploadChunk): Promise<UploadProgress> => {
    // A killed server's partial uploads (and backups) go first, as before every backup.
    if (chunk.offset === 0) wiring.beforeUpload();
    try {
      const progress = await uploads.chunk(requester.name, chunk);
      if (progress.done) {
        const event = unsealAuditEvent(stamper, 'backup-uploaded', requester, 'ok', {
          name: progress.name,
          bytes: String(progress.totalBytes),
          sha256: progress.sha256 ?? '',
          keychainId: progress.manifest?.keychainId ?? '',
          auditHeadSeq: String(progress.manifest?.auditHead?.seq ?? 0),
        });
        // The file is in place only if its event is durable: no backup may sit in backup_dir with no trail of it.
        await record(event).catch((err: unknown) => {
          removePlaced(join(wiring.backupDir, progress.name), log);
          throw err;
        });
      } else {
        sweepLater();
      }
      return progress;
    } catch (err) {
      const code = err instanceof StrongroomError ? err.code : 'INTERNAL_ERROR';
      await record(unsealAuditEvent(stamper, 'backup-uploaded', requester, code, { name: chunk.name.slice(0, 64), offset: String(chunk.offset), totalBytes: String(chunk.totalBytes) }));
      throw err;
    }
  };

  return {
    upload,
    close: () => {
      sweeper?.cancel();
      sweeper = null;
      uploads.close();
    },
  };
}

/** Takes back an uploaded file whose audit event could not be recorded; a failure to is logged (the restore verifies anyway). */
function removePlaced(path: string, log: Logger): void {
  try {
    rmSync(path, { force: true });
  } catch (err) {
    log.warn(`an uploaded backup whose audit event failed could not be removed: ${path}: ${(err as Error).message}`);
  }
}
