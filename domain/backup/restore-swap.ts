/**
 * The crash-safe half of `backup restore` (docs/backup.md §5): putting a
 * staged, verified keychain file in place of keychain.db while no
 * connection has it open. The running server only stages the file and
 * records the intent (restore-staging.ts, server/compose/restore-wiring.ts);
 * the swap itself runs here when the appliance opens its keychain
 * (openAppliance), after a restart, the very same code whether the server
 * restarted on purpose or a crash left the intent behind.
 *
 * One of the two keychains is whole at every instant:
 *   1. the staged file (keychain.db.restore-<id>) is complete, fsynced and
 *      hashed before the intent file names it; until then a crash leaves the
 *      old keychain.db alone, and the orphan staged file is removed here;
 *   2. the old keychain's WAL is folded into it (a WAL must never meet
 *      another database file) and the WAL and shared-memory files removed;
 *   3. the old file gets a second name, keychain.db.pre-restore-<time>-<id>
 *      (link: nothing is copied, nothing can be half written);
 *   4. rename(staged, keychain.db) and the folder is fsynced: the name is
 *      the old file or the new one, never neither;
 *   5. keychain.db is hashed: it must be the staged file's hash (else the
 *      kept old file is renamed back), and the intent is removed.
 * A crash between any two steps is finished by the next open: the intent is
 * still there, and each step is idempotent or recognisable from the files.
 * The kept old keychain is never removed by the appliance.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StrongroomError } from '../../common/errors';
import { openUntrustedSqlite } from '../../storage/sqlite-untrusted-file';

export const RESTORE_INTENT_FILE = 'restore-in-progress.json';
/** A staged file, its copy of the backup (.srbk), and what SQLite leaves beside a staged file its staging was killed in (-wal, -shm, -journal). */
const STAGED_PATTERN = /^(.+)\.restore-[0-9a-f]{16}(\.srbk|-wal|-shm|-journal)?$/;

export interface RestoreIntent {
  readonly version: 1;
  /** The staged file, beside keychain.db (same folder, same file system). */
  readonly staged: string;
  readonly stagedSha256: string;
  /** The name the old keychain is kept under. */
  readonly keptAs: string;
  readonly backup: string;
  readonly at: string;
}

export interface RestoreSwapOutcome {
  readonly outcome: 'none' | 'restored' | 'abandoned';
  readonly keptAs?: string;
  readonly reason?: string;
}

/** A fault point for the crash tests (test/integration/crash-during-restore.test.ts): the process is killed there. */
export type RestoreStep = 'intent-written' | 'wal-folded' | 'old-kept' | 'renamed' | 'folder-synced';

export function intentPath(keychainPath: string): string {
  return join(dirname(keychainPath), RESTORE_INTENT_FILE);
}

export function stagedPathFor(keychainPath: string, id: string): string {
  return `${keychainPath}.restore-${id}`;
}

export function fileSha256(path: string): string {
  const fd = openSync(path, 'r');
  try {
    return fdSha256(fd);
  } finally {
    closeSync(fd);
  }
}

/** The SHA-256 (hex) of the whole file open on `fd`, read from its start at explicit offsets (the fd's own position is left alone). */
export function fdSha256(fd: number): string {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024);
  let offset = 0;
  for (;;) {
    const read = readSync(fd, chunk, 0, chunk.length, offset);
    if (read === 0) return hash.digest('hex');
    hash.update(chunk.subarray(0, read));
    offset += read;
  }
}

export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes the intent crash-safely (a dot-file, fsynced, renamed, the folder fsynced). */
export function writeRestoreIntent(keychainPath: string, intent: RestoreIntent): void {
  const path = intentPath(keychainPath);
  const partial = join(dirname(path), `.${RESTORE_INTENT_FILE}.partial`);
  writeFileSync(partial, JSON.stringify(intent), { mode: 0o600 });
  fsyncPath(partial);
  renameSync(partial, path);
  fsyncPath(dirname(path));
}

export function readRestoreIntent(keychainPath: string): RestoreIntent | null {
  const path = intentPath(keychainPath);
  if (!existsSync(path)) return null;
  let intent: Partial<RestoreIntent>;
  try {
    intent = JSON.parse(readFileSync(path, 'utf8')) as Partial<RestoreIntent>;
  } catch {
    throw new StrongroomError('INTEGRITY_FAILURE', `${path} is not a restore intent the appliance wrote: move it aside once you have checked which keychain file is the right one`);
  }
  const folder = dirname(keychainPath);
  const inFolder = (name: unknown): boolean => typeof name === 'string' && dirname(name) === folder;
  if (intent.version !== 1 || !inFolder(intent.staged) || !inFolder(intent.keptAs) || typeof intent.stagedSha256 !== 'string') {
    throw new StrongroomError('INTEGRITY_FAILURE', `${path} names files outside the keychain's folder or lacks fields: it was not written by the appliance; move it aside once checked`);
  }
  return intent as RestoreIntent;
}

/** Folds a keychain file's WAL into it and removes the -wal and -shm files (nothing else has it open at start). */
function foldWal(path: string): void {
  if (existsSync(`${path}-wal`)) {
    const db = openUntrustedSqlite(path, { fileMustExist: true });
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
  }
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(`${path}${suffix}`)) unlinkSync(`${path}${suffix}`);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there */
  }
}

function sameFile(a: string, b: string): boolean {
  const sa = statSync(a, { throwIfNoEntry: false });
  const sb = statSync(b, { throwIfNoEntry: false });
  return sa !== undefined && sb !== undefined && sa.ino === sb.ino && sa.dev === sb.dev;
}

/**
 * At open, before the keychain store is opened: finishes a restore whose
 * intent is left, or removes a staged file no intent names (a restore that
 * stopped before its intent). `faultAt` kills the process at that step (tests only).
 */
export function finishPendingRestore(keychainPath: string, faultAt: (step: RestoreStep) => void = () => undefined): RestoreSwapOutcome {
  const intent = readRestoreIntent(keychainPath);
  const folder = dirname(keychainPath);
  for (const name of readdirSync(folder)) {
    const match = STAGED_PATTERN.exec(name);
    if (match && match[1] === basename(keychainPath) && join(folder, name) !== intent?.staged) removeQuietly(join(folder, name));
  }
  if (intent === null) return { outcome: 'none' };
  faultAt('intent-written');
  const stagedThere = existsSync(intent.staged);
  if (stagedThere && fileSha256(intent.staged) === intent.stagedSha256) {
    foldWal(keychainPath);
    faultAt('wal-folded');
    // Kept under a second name first: from here the old keychain is never without a name.
    if (!existsSync(intent.keptAs)) linkSync(keychainPath, intent.keptAs);
    else if (!sameFile(intent.keptAs, keychainPath)) throw new StrongroomError('INTEGRITY_FAILURE', `${intent.keptAs} exists and is not the current keychain: move it aside, then start again`);
    fsyncPath(folder);
    faultAt('old-kept');
    renameSync(intent.staged, keychainPath);
    faultAt('renamed');
    fsyncPath(folder);
    faultAt('folder-synced');
  }
  if (existsSync(keychainPath) && !existsSync(`${keychainPath}-wal`) && fileSha256(keychainPath) === intent.stagedSha256) {
    unlinkSync(intentPath(keychainPath));
    fsyncPath(folder);
    return { outcome: 'restored', keptAs: intent.keptAs };
  }
  // The staged file is gone or not the one verified, and keychain.db is not it: the old keychain stays (put back if it was moved).
  if (!existsSync(keychainPath) && existsSync(intent.keptAs)) linkSync(intent.keptAs, keychainPath);
  removeQuietly(intent.staged);
  unlinkSync(intentPath(keychainPath));
  fsyncPath(folder);
  return { outcome: 'abandoned', reason: stagedThere ? 'the staged file is not the one verified' : 'the staged file is missing' };
}
