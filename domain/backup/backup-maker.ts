/**
 * Makes backups into the appliance's backup folder (backup_dir) and reads
 * them back in chunks (BackupCreate and BackupRead, operations/backup-operations.ts).
 *
 * A backup is: a consistent snapshot of the keychain database, taken on a
 * worker thread while the server serves (storage/backup/snapshot-worker.ts),
 * a manifest of what that snapshot holds, signed by the HSM signing key, and
 * the two in one file (backup-file.ts). It holds no key material in the
 * clear: instance material, appliance secrets and the sealed arguments of
 * pending key imports are sealed under the keychain key in the database, and
 * the keychain key is stored only wrapped by the HSM master key (share-bound
 * too, for a keychain made with custodian shares), so a backup is useless
 * without that HSM (and those shares).
 *
 * Crash safety: the file is written under a dot-name, fsynced, then renamed
 * to its final name and the folder fsynced; a crash leaves at most a
 * dot-file, never a backup that looks whole and is not. The dot-names carry
 * the writing process (backup-writer-files.ts), so a later backup removes
 * what a killed writer left and never a live writer's file. Names are made here
 * (time and randomness), never taken from a caller, so BackupRead can read
 * nothing outside the folder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Clock, isoNow } from '../../common/clock';
import { StrongroomError, ValidationError } from '../../common/errors';
import { HsmPort } from '../../hsm/hsm-port';
import { SnapshotResult, SnapshotSetup } from '../../storage/backup/snapshot-messages';
import { encodeBackupHeader } from './backup-file';
import { writerFileNames } from './backup-writer-files';
import { BACKUP_NAME_PATTERN, MAX_BACKUP_CHUNK_BYTES } from '../vocabulary/backup-limits';
import { BACKUP_FORMAT_VERSION, BackupManifest, signManifest } from './backup-manifest';

const COPY_CHUNK_BYTES = 1024 * 1024;

export interface MadeBackup {
  /** The file's name in backup_dir (what BackupRead takes). */
  readonly name: string;
  /** The whole file's size and SHA-256 (hex): what a copy is checked against. */
  readonly bytes: number;
  readonly sha256: string;
  readonly manifest: BackupManifest;
}

export interface BackupMakerOptions {
  readonly keychainPath: string;
  readonly backupDir: string;
  readonly hsm: () => Promise<HsmPort>;
  readonly clock: Clock;
  readonly applianceVersion: string;
  /** Takes the snapshot (storage/backup/worker-snapshot.ts on the server). */
  readonly snapshot: (setup: SnapshotSetup) => Promise<SnapshotResult>;
  /**
   * Checks the snapshot before it is signed (its rows against its trust
   * state, under the keychain's keys): it rejects to sign nothing. The HSM
   * must never vouch for a copy of rows the appliance did not write.
   */
  readonly checkSnapshot: (snapshotPath: string, facts: SnapshotResult['facts']) => Promise<void>;
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there */
  }
}

export class BackupMaker {
  constructor(private readonly options: BackupMakerOptions) {}

  /** Makes one; `trigger` (who had it made) goes into its signed manifest. */
  async create(trigger?: 'schedule' | 'request'): Promise<MadeBackup> {
    const { backupDir, clock } = this.options;
    mkdirSync(backupDir, { recursive: true, mode: 0o700 });
    const createdAt = isoNow(clock);
    const name = `backup-${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}.srbk`;
    const pieces = writerFileNames(name);
    const snapshotPath = join(backupDir, pieces.snapshot);
    const partialPath = join(backupDir, pieces.partial);
    try {
      const snapshot = await this.options.snapshot({ keychainPath: this.options.keychainPath, outPath: snapshotPath });
      await this.options.checkSnapshot(snapshotPath, snapshot.facts);
      const hsm = await this.options.hsm();
      const manifest: BackupManifest = {
        format: 'strongroom-backup',
        formatVersion: BACKUP_FORMAT_VERSION,
        createdAt,
        applianceVersion: this.options.applianceVersion,
        ...snapshot.facts,
        ...(trigger === undefined ? {} : { trigger }),
        database: { bytes: snapshot.bytes, sha256: snapshot.sha256 },
        signer: await hsm.signingPublicKey(),
      };
      const { manifestBytes, signature } = await signManifest(hsm, manifest);
      const written = await assemble(partialPath, encodeBackupHeader(manifestBytes, signature), snapshotPath, snapshot.bytes);
      renameSync(partialPath, join(backupDir, name));
      fsyncFolder(backupDir);
      return { name, bytes: written.bytes, sha256: written.sha256, manifest };
    } finally {
      removeQuietly(snapshotPath);
      removeQuietly(partialPath);
    }
  }

  /** Up to `length` bytes of backup `name` from `offset`: fewer at its end, none past it. */
  read(name: string, offset: number, length: number): { data: Buffer; fileBytes: number } {
    if (!BACKUP_NAME_PATTERN.test(name)) throw new ValidationError('not a backup name (BackupCreate answers names like backup-20261207T081500Z-1a2b3c4d.srbk)', { details: { field: 'name' } });
    if (length > MAX_BACKUP_CHUNK_BYTES) throw new ValidationError(`length is at most ${MAX_BACKUP_CHUNK_BYTES} bytes`, { details: { field: 'length' } });
    const path = join(this.options.backupDir, name);
    let fd: number;
    try {
      // Non-blocking, and a regular file only: a FIFO planted in backup_dir would block the event loop in open() (test/security/36).
      fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    } catch {
      throw new StrongroomError('BACKUP_NOT_FOUND', `no backup named ${name} in the backup folder`, { details: { name } });
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new StrongroomError('BACKUP_MALFORMED', `${name} is not a regular file: a backup is one; nothing was read`, { details: { name } });
      const fileBytes = stat.size;
      const data = Buffer.alloc(Math.max(0, Math.min(length, fileBytes - offset)));
      if (data.length > 0) readSync(fd, data, 0, data.length, offset);
      return { data, fileBytes };
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Header, then the snapshot's bytes, into `path` (created exclusively, mode
 * 0600), fsynced; the whole file's size and hash. Asynchronous I/O, chunk by
 * chunk: the server answers requests between the chunks of a large copy.
 */
async function assemble(path: string, header: Buffer, snapshotPath: string, snapshotBytes: number): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  const out = await open(path, 'wx', 0o600);
  try {
    await out.write(header);
    hash.update(header);
    const source = await open(snapshotPath, 'r');
    const chunk = Buffer.alloc(COPY_CHUNK_BYTES);
    let copied = 0;
    try {
      for (;;) {
        const { bytesRead } = await source.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        await out.write(chunk, 0, bytesRead);
        hash.update(chunk.subarray(0, bytesRead));
        copied += bytesRead;
      }
    } finally {
      await source.close();
    }
    // The snapshot changed between its hash and this copy: nothing but the appliance writes there, so refuse rather than sign it.
    if (copied !== snapshotBytes) throw new StrongroomError('STORAGE_ERROR', 'the backup snapshot changed size while it was copied');
    await out.sync();
    return { bytes: header.length + copied, sha256: hash.digest('hex') };
  } finally {
    await out.close();
  }
}

function fsyncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
