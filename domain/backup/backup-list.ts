/**
 * What backup_dir holds, for BackupList (`strongroom backup list`): each of
 * the server's backups (a regular file named as the server names them, the
 * names `backup restore` takes) with its size and times, and what its signed
 * manifest says: keychain, audit head, trust counter, master-key versions,
 * the instances a restore request would open, who made it (the schedule or
 * an officer) and whether this appliance's key signed it.
 *
 * Cheap on purpose: only each file's header and manifest are read (at most
 * 64 KiB, backup-file.ts) and the manifest's signature checked under the key
 * it names; the snapshot is neither hashed nor opened (that is `backup
 * verify` and the restore request's work). A file whose header or signature
 * does not check is listed with its error code, never hidden: an officer
 * looking for a backup must see that the one they want is damaged. Nothing
 * read from a file is trusted beyond what its signature covers, and nothing
 * here decides anything.
 */
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { createPublicKey, KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { asStrongroomError } from '../../common/errors';
import { publicKeyFingerprint } from '../audit/audit-checkpoint';
import { BACKUP_NAME_PATTERN } from '../vocabulary/backup-limits';
import { backupError, parseBackupHeader } from './backup-file';
import { backupDirNames } from './backup-dir';
import { manifestSignatureValid, samePublicKey } from './backup-manifest';

/** Files read between two turns of the event loop: the server answers other requests while a long folder is listed. */
const FILES_PER_TURN = 20;
import { backupNameTimeMs } from './backup-retention';

/** Most backups one list reads (backup_retention's ceiling): a folder with more lists its newest, and says so. */
export const MAX_BACKUPS_LISTED = 1000;

/** Who made a backup, from its signed manifest; `unknown` for one made before manifests recorded it. */
export type BackupTrigger = 'schedule' | 'request' | 'unknown';

/** What a backup's signed manifest says, once its signature checks under the key it names. */
export interface ListedManifest {
  readonly keychainId: string;
  readonly createdAt: string;
  readonly trigger: BackupTrigger;
  readonly auditHeadSeq: number;
  readonly trustCounter: number | null;
  readonly masterKeyVersions: readonly number[];
  readonly unsealBinding: string;
  /** Instances holding sealed material: what a restore request opens, one by one. */
  readonly sealedInstances: number;
  readonly signerFingerprint: string;
  /** Signed by this appliance's HSM key (false: another appliance's; restore it with --signer-key). */
  readonly signedHere: boolean;
}

export interface ListedBackup {
  readonly name: string;
  readonly bytes: number;
  /** When it was made: the time in its name (UTC, to the second), ISO 8601. */
  readonly madeAt: string;
  /** The file's modification time, ISO 8601. */
  readonly modifiedAt: string;
  /** Exactly one of the two: what its manifest says, or why it could not be read. */
  readonly manifest: ListedManifest | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface BackupListing {
  /** Newest first (by the time in the name, then modification time). */
  readonly backups: readonly ListedBackup[];
  /** Backups in the folder; more than listed when over MAX_BACKUPS_LISTED. */
  readonly total: number;
  /** Other regular files there (an operator's copies, renamed backups): never restored, never removed by retention. */
  readonly otherFiles: number;
}

/** What the list says of each signer: backups of one folder mostly share one, so its fingerprint and comparison are made once. */
type SignerFacts = Map<string, { readonly key: KeyObject | null; readonly fingerprint: string; readonly signedHere: boolean }>;

/** The signer's parsed key (null: not a public key), fingerprint and whether it is this appliance's, once per signer. */
function signerFacts(known: SignerFacts, signer: string, ownSigner: string): { key: KeyObject | null; fingerprint: string; signedHere: boolean } {
  let facts = known.get(signer);
  if (facts === undefined) {
    let key: KeyObject | null = null;
    try {
      key = createPublicKey(signer);
    } catch {
      // Not a key: no signature verifies under it (BACKUP_TAMPERED below).
    }
    facts = key === null ? { key, fingerprint: '', signedHere: false } : { key, fingerprint: publicKeyFingerprint(signer), signedHere: samePublicKey(signer, ownSigner) };
    known.set(signer, facts);
  }
  return facts;
}

/** Reads a file's header and manifest without blocking on a FIFO planted under a backup's name (test/security/36). */
function readManifest(path: string, name: string, ownSigner: string, known: SignerFacts): ListedManifest {
  const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw backupError('BACKUP_MALFORMED', `${name} is not a regular file: a backup is one`);
    const parsed = parseBackupHeader(stat.size, (offset, length) => {
      const out = Buffer.alloc(length);
      return out.subarray(0, readSync(fd, out, 0, length, offset));
    });
    const { manifest } = parsed;
    const signer = signerFacts(known, manifest.signer, ownSigner);
    if (signer.key === null || !manifestSignatureValid(signer.key, manifest.keychainId, parsed.manifestBytes, parsed.signature)) {
      throw backupError('BACKUP_TAMPERED', `the manifest of ${name} does not verify under the key it names: it was altered`);
    }
    // Signed by the key it names, which may be anyone's: each field is still checked for its type before it is shown.
    const m = manifest as unknown as Record<string, unknown> & { auditHead?: { seq?: unknown } | null; counts?: { sealedInstances?: unknown } };
    const count = (v: unknown): number | null => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : null);
    return {
      keychainId: manifest.keychainId,
      createdAt: typeof m.createdAt === 'string' ? m.createdAt : '',
      trigger: m.trigger === 'schedule' || m.trigger === 'request' ? m.trigger : 'unknown',
      auditHeadSeq: count(m.auditHead?.seq) ?? 0,
      trustCounter: count(m.trustCounter),
      masterKeyVersions: Array.isArray(m.masterKeyVersions) ? m.masterKeyVersions.filter((v): v is number => count(v) !== null) : [],
      unsealBinding: typeof m.unsealBinding === 'string' ? m.unsealBinding : '',
      sealedInstances: count(m.counts?.sealedInstances) ?? 0,
      signerFingerprint: signer.fingerprint,
      signedHere: signer.signedHere,
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * The backups in `dir`, newest first, each read as above; `ownSigner` is
 * this appliance's signing key (SPKI PEM). `yieldTurn` gives the event loop
 * back every FILES_PER_TURN files (a signature check is about a millisecond:
 * a full folder would otherwise hold the server for seconds).
 */
export async function listBackupFiles(dir: string, ownSigner: string, yieldTurn: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve))): Promise<BackupListing> {
  const found: Array<{ name: string; bytes: number; madeAtMs: number; mtimeMs: number }> = [];
  let otherFiles = 0;
  for (const name of backupDirNames(dir)) {
    // Dot-files are backups being written (or what a killed writer left): not backups yet.
    if (name.startsWith('.')) continue;
    const stat = lstatSync(join(dir, name), { throwIfNoEntry: false });
    if (!BACKUP_NAME_PATTERN.test(name)) {
      if (stat?.isFile()) otherFiles += 1;
      continue;
    }
    // A symbolic link or a folder under a backup's name is not a backup (retention ignores it too); a FIFO is listed, with its error.
    if (stat === undefined || stat.isSymbolicLink() || stat.isDirectory()) continue;
    found.push({ name, bytes: stat.size, madeAtMs: backupNameTimeMs(name), mtimeMs: stat.mtimeMs });
  }
  found.sort((a, b) => b.madeAtMs - a.madeAtMs || b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name));
  const known: SignerFacts = new Map();
  const backups: ListedBackup[] = [];
  for (const file of found.slice(0, MAX_BACKUPS_LISTED)) {
    if (backups.length > 0 && backups.length % FILES_PER_TURN === 0) await yieldTurn();
    const base = { name: file.name, bytes: file.bytes, madeAt: new Date(file.madeAtMs).toISOString(), modifiedAt: new Date(file.mtimeMs).toISOString() };
    try {
      backups.push({ ...base, manifest: readManifest(join(dir, file.name), file.name, ownSigner, known), error: null });
    } catch (err) {
      // Removed since the folder was read (retention, an operator): listed as not found rather than failing the whole list.
      const failure = (err as NodeJS.ErrnoException).code === 'ENOENT' ? backupError('BACKUP_NOT_FOUND', `${file.name} was removed while the folder was listed`) : asStrongroomError(err);
      backups.push({ ...base, manifest: null, error: { code: failure.code, message: failure.message } });
    }
  }
  return { backups, total: found.length, otherFiles };
}
