/**
 * The backup file format, version 1: a fixed header, the manifest (UTF-8
 * JSON, domain/backup/backup-manifest.ts), its HSM signature, then the
 * snapshot (an SQLite database file) whose size and SHA-256 the manifest
 * declares.
 *
 *   "SRBACKUP" (8) | format version u16 | manifest length u32 | signature length u16
 *   | manifest | signature | snapshot
 *
 * Parsing is strict and fails closed with its own code: not this format
 * (BACKUP_MALFORMED), shorter than declared (BACKUP_TRUNCATED), longer than
 * declared or a manifest that is not the JSON a writer writes
 * (BACKUP_TAMPERED). Nothing read here is trusted until the signature and
 * the snapshot's hash are checked (backup-verify.ts).
 */
import { StrongroomError } from '../../common/errors';
import { ErrorCode } from '../../common/error-codes';
import { BACKUP_FORMAT_VERSION, BackupManifest } from './backup-manifest';

const MAGIC = Buffer.from('SRBACKUP', 'ascii');
export const BACKUP_HEADER_BYTES = MAGIC.length + 2 + 4 + 2;
/** Bounds what a hostile file can make the reader allocate. */
const MAX_MANIFEST_BYTES = 64 * 1024;
const MAX_SIGNATURE_BYTES = 512;

export function backupError(code: Extract<ErrorCode, `BACKUP_${string}`>, message: string, details: Record<string, string | number> = {}): StrongroomError {
  return new StrongroomError(code, message, { details });
}

/** The header and manifest block that precedes the snapshot. */
export function encodeBackupHeader(manifestBytes: Buffer, signature: Buffer): Buffer {
  const fixed = Buffer.alloc(BACKUP_HEADER_BYTES);
  MAGIC.copy(fixed);
  fixed.writeUInt16BE(BACKUP_FORMAT_VERSION, MAGIC.length);
  fixed.writeUInt32BE(manifestBytes.length, MAGIC.length + 2);
  fixed.writeUInt16BE(signature.length, MAGIC.length + 6);
  return Buffer.concat([fixed, manifestBytes, signature]);
}

/** What the header says, not yet verified. */
export interface ParsedBackup {
  readonly manifest: BackupManifest;
  readonly manifestBytes: Buffer;
  readonly signature: Buffer;
  /** Where the snapshot starts in the file. */
  readonly snapshotOffset: number;
}

/**
 * Parses the header of a file of `fileBytes` bytes; `readAt(offset, length)`
 * returns up to `length` bytes from `offset` (fewer at the end of the file).
 */
export function parseBackupHeader(fileBytes: number, readAt: (offset: number, length: number) => Buffer): ParsedBackup {
  const fixed = readAt(0, BACKUP_HEADER_BYTES);
  const magicSeen = fixed.subarray(0, Math.min(fixed.length, MAGIC.length));
  if (!magicSeen.equals(MAGIC.subarray(0, magicSeen.length)) || fixed.length === 0) {
    throw backupError('BACKUP_MALFORMED', 'this file is not a Strongroom backup (it does not start with the backup header)');
  }
  if (fixed.length < BACKUP_HEADER_BYTES) throw backupError('BACKUP_TRUNCATED', `the backup file ends inside its header (${fileBytes} bytes)`, { bytes: fileBytes });
  const version = fixed.readUInt16BE(MAGIC.length);
  if (version !== BACKUP_FORMAT_VERSION) {
    throw backupError('BACKUP_MALFORMED', `backup format version ${version} is not one this appliance reads (it reads ${BACKUP_FORMAT_VERSION})`, { formatVersion: version });
  }
  const manifestLength = fixed.readUInt32BE(MAGIC.length + 2);
  const signatureLength = fixed.readUInt16BE(MAGIC.length + 6);
  if (manifestLength === 0 || manifestLength > MAX_MANIFEST_BYTES || signatureLength === 0 || signatureLength > MAX_SIGNATURE_BYTES) {
    throw backupError('BACKUP_TAMPERED', 'the backup header declares a manifest or signature of a length no writer makes');
  }
  const snapshotOffset = BACKUP_HEADER_BYTES + manifestLength + signatureLength;
  if (fileBytes < snapshotOffset) throw backupError('BACKUP_TRUNCATED', `the backup file ends inside its manifest (${fileBytes} of at least ${snapshotOffset} bytes)`, { bytes: fileBytes });
  const manifestBytes = readAt(BACKUP_HEADER_BYTES, manifestLength);
  const signature = readAt(BACKUP_HEADER_BYTES + manifestLength, signatureLength);
  const manifest = parseManifest(manifestBytes);
  const expected = snapshotOffset + manifest.database.bytes;
  if (fileBytes < expected) throw backupError('BACKUP_TRUNCATED', `the backup file is ${fileBytes} bytes; its manifest declares ${expected}: it was cut short`, { bytes: fileBytes, expected });
  if (fileBytes > expected) throw backupError('BACKUP_TAMPERED', `the backup file is ${fileBytes} bytes; its manifest declares ${expected}: bytes were added`, { bytes: fileBytes, expected });
  return { manifest, manifestBytes, signature, snapshotOffset };
}

function parseManifest(bytes: Buffer): BackupManifest {
  let manifest: unknown;
  try {
    manifest = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw backupError('BACKUP_TAMPERED', 'the backup manifest is not valid JSON: it was altered');
  }
  const m = manifest as Partial<BackupManifest> | null;
  const database = m?.database as Partial<BackupManifest['database']> | undefined;
  if (
    m === null ||
    typeof m !== 'object' ||
    m.format !== 'strongroom-backup' ||
    typeof m.keychainId !== 'string' ||
    typeof m.signer !== 'string' ||
    !Number.isSafeInteger(database?.bytes) ||
    (database?.bytes as number) < 0 ||
    typeof database?.sha256 !== 'string'
  ) {
    throw backupError('BACKUP_TAMPERED', 'the backup manifest lacks fields every backup has: it was altered');
  }
  return manifest as BackupManifest;
}
