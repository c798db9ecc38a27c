/**
 * `backup upload` (docs/backup.md §5.2): an officer sends a backup file they
 * hold (from tape, off-site) into backup_dir, where `backup restore` reads
 * it, in chunks that each fit one frame (BackupUpload: name, offset, the
 * file's total size, the bytes; the last chunk carries the SHA-256 of the
 * whole file).
 *
 * - The name is a plain file name (UPLOAD_NAME_PATTERN: no `/`, no `..`, no
 *   leading dot, ending .srbk) and no file of that name may exist.
 * - Chunks arrive in order: each offset is the bytes received so far; the
 *   total is fixed by the first chunk and bounded (MAX_BACKUP_UPLOAD_BYTES).
 * - The bytes go to a dot-file named after its writer
 *   (`.NAME.<pid>-<boot id>.upload`, backup-writer-files.ts), so a killed
 *   server's partial upload is removed like a killed backup's dot-file.
 * - At the end the file must hash to the SHA-256 the officer sent
 *   (BACKUP_TAMPERED), and verify as a backup signed by the trusted key
 *   (this HSM's, or `signerKey`): header, signature, snapshot hash, counts,
 *   audit chain, each refusal with verify's own code. Only then is it linked
 *   into place under its name (never over another file) and the folder
 *   fsynced. Anything else removes the dot-file.
 * - What is hashed and verified is the file this upload wrote, through the
 *   descriptor it wrote with, never whatever the dot-name points to by then.
 *   Linking can only go by name, so the name linked is then checked to be
 *   that same file (device and inode): a file swapped in under the dot-name
 *   meanwhile is taken back out and the upload refused (INTEGRITY_FAILURE),
 *   never placed unverified.
 * - An upload with no chunk for UPLOAD_IDLE_MS (a dropped connection, a
 *   client that gave up) is abandoned and its dot-file removed: swept at
 *   every chunk and by the caller's timer (`sweep`), and all at `close`.
 *
 * Why no approval: an uploaded file changes nothing; `backup restore` is
 * what puts a backup in place, and it stays dual-controlled and verifies the
 * file again in full (every instance opened) before a request is stored.
 */
import { createHash, Hash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, Stats, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Clock } from '../../common/clock';
import { KeychainError, StrongroomError, ValidationError } from '../../common/errors';
import { BACKUP_NAME_PATTERN, MAX_BACKUP_UPLOAD_BYTES, UPLOAD_NAME_PATTERN } from '../vocabulary/backup-limits';
import { BackupManifest } from './backup-manifest';
import { backupError } from './backup-file';
import { BackupVerdict } from './backup-verify';
import { fdSha256, fsyncPath } from './restore-swap';
import { writerFileNames } from './backup-writer-files';

/** An upload with no chunk for this long is abandoned (the clock decides). */
export const UPLOAD_IDLE_MS = 60_000;
/** Uploads in progress at once (each holds an open file), counted until placed or refused: verifying one is the costly part. */
export const MAX_UPLOADS = 4;

export interface UploadChunk {
  readonly name: string;
  readonly offset: number;
  readonly totalBytes: number;
  readonly data: Buffer;
  /** The whole file's SHA-256 (hex): required with the chunk that ends the file. */
  readonly sha256?: string;
  /** Another appliance's signing key (SPKI PEM) to trust instead of this HSM's (as restore's signerKey). */
  readonly signerKey?: string;
}

export interface UploadProgress {
  readonly name: string;
  readonly received: number;
  readonly totalBytes: number;
  readonly done: boolean;
  /** Set when done: the verified file's SHA-256 and manifest. */
  readonly sha256?: string;
  readonly manifest?: BackupManifest;
}

export interface BackupUploadsOptions {
  readonly backupDir: string;
  readonly clock: Clock;
  /** Uploads in progress at once, those being verified included (default MAX_UPLOADS). */
  readonly maxUploads?: number;
  /** Verifies the whole file open on `fd` (signature by `signerKey` or this HSM's key, hash, counts, chain); throws verify's codes. */
  readonly verify: (fd: number, signerKey: string | undefined) => Promise<BackupVerdict>;
  /** Told at each step of an upload's end, with its dot-file's path (tests change the file there). */
  readonly onFinishStep?: (step: 'hashed' | 'verified', path: string) => void;
  /** An upload abandoned (idle, or the server closing): for the log and the trail. */
  readonly onAbandoned?: (upload: { readonly name: string; readonly owner: string; readonly received: number; readonly totalBytes: number; readonly why: string }) => void;
}

interface Upload {
  readonly name: string;
  readonly owner: string;
  readonly path: string;
  readonly totalBytes: number;
  readonly hash: Hash;
  fd: number | null;
  received: number;
  lastMs: number;
}

export class BackupUploads {
  /** Uploads still taking chunks. */
  private readonly uploads = new Map<string, Upload>();
  /** Uploads whose last chunk came: hashed, verified and placed by the call that took it, out of `uploads` (no sweep, no chunk sees them) but still counted. */
  private finishing = 0;

  constructor(private readonly options: BackupUploadsOptions) {}

  /** Takes one chunk from officer `owner`; with the last one, verifies the file and puts it in place. */
  async chunk(owner: string, chunk: UploadChunk): Promise<UploadProgress> {
    this.sweep();
    checkName(chunk.name);
    if (chunk.totalBytes < 1 || chunk.totalBytes > MAX_BACKUP_UPLOAD_BYTES) {
      throw new ValidationError(`totalBytes must be 1 to ${MAX_BACKUP_UPLOAD_BYTES} (the largest backup an upload takes)`, { details: { field: 'totalBytes' } });
    }
    const upload = chunk.offset === 0 ? this.begin(owner, chunk) : this.continuing(owner, chunk);
    if (upload.received + chunk.data.length > upload.totalBytes) {
      this.abandon(upload, 'more bytes than totalBytes');
      throw new ValidationError(`the chunk runs past totalBytes ${upload.totalBytes}: the upload is dropped; start again at offset 0`, { details: { field: 'data' } });
    }
    try {
      writeSync(upload.fd as number, chunk.data);
    } catch (err) {
      this.abandon(upload, 'write failed');
      throw err;
    }
    upload.hash.update(chunk.data);
    upload.received += chunk.data.length;
    upload.lastMs = this.options.clock.nowMs();
    if (upload.received < upload.totalBytes) return { name: upload.name, received: upload.received, totalBytes: upload.totalBytes, done: false };
    // The last chunk: from here the upload is this call's alone (no sweep, no other chunk sees it).
    this.uploads.delete(upload.name);
    this.finishing++;
    try {
      return await this.finish(upload, chunk);
    } finally {
      this.finishing--;
      closeQuietly(upload);
      removeQuietly(upload.path);
    }
  }

  /** Abandons the uploads idle for UPLOAD_IDLE_MS; returns how many remain. */
  sweep(): number {
    const now = this.options.clock.nowMs();
    for (const upload of [...this.uploads.values()]) if (now - upload.lastMs >= UPLOAD_IDLE_MS) this.abandon(upload, 'idle');
    return this.uploads.size;
  }

  /** Abandons every upload in progress (the server closing). */
  close(): void {
    for (const upload of [...this.uploads.values()]) this.abandon(upload, 'server closing');
  }

  private begin(owner: string, chunk: UploadChunk): Upload {
    const existing = this.uploads.get(chunk.name);
    if (existing !== undefined) {
      if (existing.owner !== owner) throw new KeychainError('WRONG_STATE', `another officer (${existing.owner}) is uploading ${chunk.name}: choose another --name`);
      this.abandon(existing, 'started again');
    }
    const max = this.options.maxUploads ?? MAX_UPLOADS;
    if (this.uploads.size + this.finishing >= max) {
      throw new KeychainError('WRONG_STATE', `${max} uploads are in progress (those being verified included): let one finish (an idle one is dropped after ${UPLOAD_IDLE_MS / 1000} s)`, { details: { maxUploads: max } });
    }
    mkdirSync(this.options.backupDir, { recursive: true, mode: 0o700 });
    if (lstatSync(join(this.options.backupDir, chunk.name), { throwIfNoEntry: false }) !== undefined) throw existsError(chunk.name);
    const path = join(this.options.backupDir, writerFileNames(chunk.name).upload);
    let fd: number;
    try {
      // Read as well as written: the end hashes and verifies the file through this descriptor.
      fd = openSync(path, 'wx+', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeychainError('WRONG_STATE', `an upload of ${chunk.name} is being finished: wait for its answer, or choose another --name`);
      throw err;
    }
    const upload: Upload = { name: chunk.name, owner, path, totalBytes: chunk.totalBytes, hash: createHash('sha256'), fd, received: 0, lastMs: this.options.clock.nowMs() };
    this.uploads.set(chunk.name, upload);
    return upload;
  }

  private continuing(owner: string, chunk: UploadChunk): Upload {
    const upload = this.uploads.get(chunk.name);
    if (upload === undefined || upload.owner !== owner) {
      throw new KeychainError('WRONG_STATE', `no upload of ${chunk.name} by you is in progress (an upload idle for ${UPLOAD_IDLE_MS / 1000} s is dropped): start again at offset 0`);
    }
    if (chunk.offset !== upload.received) throw new KeychainError('WRONG_STATE', `the upload of ${chunk.name} is at offset ${upload.received}, not ${chunk.offset}: send the chunk that starts there`, { details: { expected: upload.received } });
    if (chunk.totalBytes !== upload.totalBytes) throw new ValidationError(`totalBytes changed during the upload (${upload.totalBytes} first): start again at offset 0`, { details: { field: 'totalBytes' } });
    return upload;
  }

  private async finish(upload: Upload, chunk: UploadChunk): Promise<UploadProgress> {
    if (chunk.sha256 === undefined) throw new ValidationError('the chunk that ends the file carries the whole file\'s sha256: the upload is dropped; start again at offset 0', { details: { field: 'sha256' } });
    const fd = upload.fd as number;
    fsyncSync(fd);
    const sha256 = upload.hash.digest('hex');
    if (sha256 !== chunk.sha256.toLowerCase()) {
      throw backupError('BACKUP_TAMPERED', `the ${upload.totalBytes} bytes received do not have the SHA-256 you sent: the file was altered or cut on the way; nothing was kept, upload it again`);
    }
    // What the file holds, read back through the descriptor written: the SHA-256 the trail records is the placed file's.
    if (fdSha256(fd) !== sha256) throw changedInBackupDir(upload.name, 'its bytes are not the ones received');
    this.options.onFinishStep?.('hashed', upload.path);
    const verdict = await this.options.verify(fd, chunk.signerKey);
    this.options.onFinishStep?.('verified', upload.path);
    const final = join(this.options.backupDir, upload.name);
    try {
      // A link, not a rename: it never replaces a file that appeared under that name meanwhile.
      linkSync(upload.path, final);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw existsError(upload.name);
      throw err;
    }
    // Linked by name: the name must still be the file verified, else what was linked is not placed.
    if (!sameFile(fstatSync(fd), lstatSync(final, { throwIfNoEntry: false }))) {
      removeQuietly(final);
      throw changedInBackupDir(upload.name, 'another file was put under its dot-name between its verification and its placing');
    }
    removeQuietly(upload.path);
    fsyncPath(this.options.backupDir);
    return { name: upload.name, received: upload.received, totalBytes: upload.totalBytes, done: true, sha256, manifest: verdict.manifest };
  }

  private abandon(upload: Upload, why: string): void {
    this.uploads.delete(upload.name);
    closeQuietly(upload);
    removeQuietly(upload.path);
    this.options.onAbandoned?.({ name: upload.name, owner: upload.owner, received: upload.received, totalBytes: upload.totalBytes, why });
  }
}

/** A plain file name ending .srbk: no folder, no `..`, no dot-file (those are writers' files). */
export function checkName(name: string): void {
  if (!UPLOAD_NAME_PATTERN.test(name) || name.includes('..')) {
    throw new ValidationError(
      `${JSON.stringify(name.slice(0, 120))} is not a name an upload takes: a plain file name of letters, digits, '.', '-' and '_', not starting with '.', without '..', ending .srbk, at most 64 characters (--name NAME)`,
      { details: { field: 'name' } },
    );
  }
  // The appliance's own names carry the time they were made, which retention and the schedule read: an upload under
  // one (dated in the future, say) would pass for the newest backup and have retention delete the real ones.
  if (BACKUP_NAME_PATTERN.test(name)) {
    throw new ValidationError(
      `${name} has the form of the appliance's own backups (backup-TIME-HEX.srbk), which retention and the schedule go by: upload it under another --name`,
      { details: { field: 'name' } },
    );
  }
}

/** The upload's file was changed in backup_dir by something other than this upload: refused, nothing placed. */
function changedInBackupDir(name: string, what: string): StrongroomError {
  return new StrongroomError('INTEGRITY_FAILURE', `the upload of ${name} was refused: ${what} (something else writes in backup_dir); nothing was placed, upload it again`, { details: { name } });
}

function sameFile(a: Stats, b: Stats | undefined): boolean {
  return b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

function existsError(name: string): StrongroomError {
  return new KeychainError('WRONG_STATE', `backup_dir already holds a file named ${name}: nothing was replaced; upload under another --name`, { details: { name } });
}

function closeQuietly(upload: Upload): void {
  if (upload.fd === null) return;
  try {
    closeSync(upload.fd);
  } catch {
    /* already closed */
  }
  upload.fd = null;
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there */
  }
}
