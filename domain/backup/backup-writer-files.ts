/**
 * The dot-files a backup is written under (the snapshot, then the partial
 * file renamed into place), named after the process writing them, and the
 * clean-up of those whose writer is gone.
 *
 * A process killed while it makes a backup (SIGKILL, power loss) leaves its
 * `.snapshot` (a whole copy of the keychain database, with rows a later
 * destruction removes from the live file) or its `.partial` in backup_dir,
 * and retention never counts dot-files. So each name carries its writer:
 * `.<backup name>.<pid>-<boot id>.snapshot|partial` (and SQLite's
 * `.snapshot-journal` beside the snapshot), the boot id from
 * /proc/sys/kernel/random/boot_id (`noboot` where there is none). A file is
 * removed only when its writer is certainly gone: written in another boot,
 * or its pid is not a live process now. A live writer's file is never
 * touched (our own, or another process's: kill(pid, 0) answers EPERM for a
 * process of another user, which counts as alive). A reused pid keeps a
 * dead writer's file until that pid too is gone: the safe side. Files not
 * named so (an operator's, an older version's untagged dot-files) and
 * anything but a regular file (a symbolic link) are left alone.
 *
 * The same holds for the working copies a verification makes in backup_dir
 * (`.verify-<random>.<pid>-<boot id>.snapshot`: the backup's extracted
 * keychain; `.restore-request-<random>.<pid>-<boot id>.copy`: a restore
 * request's private copy of the backup). They were in the system temp
 * folder, where a killed appliance left them for good, outside the data
 * folder's permissions and the clean-up.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { backupDirNames } from './backup-dir';

/**
 * A writer's dot-file: the backup's name, the writer's pid and boot id, and
 * which piece it is. SQLite's files beside the snapshot count too: a
 * VACUUM INTO killed mid-way leaves its rollback journal
 * (`.snapshot-journal`), which the chaos test found.
 */
export const WRITER_FILE_PATTERN = /^\.(backup-\d{8}T\d{6}Z-[0-9a-f]{8}\.srbk)\.(\d{1,10})-([0-9a-f]{32}|noboot)\.(snapshot(?:-journal|-wal|-shm)?|partial)$/;
/** An upload's dot-file (backup-upload.ts): any name an upload takes, `.upload`. */
export const UPLOAD_WRITER_FILE_PATTERN = /^\.([A-Za-z0-9][A-Za-z0-9._-]{0,63}\.srbk)\.(\d{1,10})-([0-9a-f]{32}|noboot)\.(upload)$/;

/** A verification's working copy (workFileName), with SQLite's files beside an opened snapshot. */
export const WORK_FILE_PATTERN = /^\.((?:verify|restore-request)-[0-9a-f]{16})\.(\d{1,10})-([0-9a-f]{32}|noboot)\.(snapshot(?:-journal|-wal|-shm)?|copy)$/;

let thisBoot: string | undefined;

/** This boot's id (hex, no dashes), or `noboot` where the kernel gives none. */
export function bootId(): string {
  if (thisBoot === undefined) {
    try {
      const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '').toLowerCase();
      thisBoot = /^[0-9a-f]{32}$/.test(id) ? id : 'noboot';
    } catch {
      thisBoot = 'noboot';
    }
  }
  return thisBoot;
}

/** The names this process writes backup `name` under, in backup_dir. */
export function writerFileNames(name: string, pid: number = process.pid, boot: string = bootId()): { snapshot: string; partial: string; upload: string } {
  return { snapshot: `.${name}.${pid}-${boot}.snapshot`, partial: `.${name}.${pid}-${boot}.partial`, upload: `.${name}.${pid}-${boot}.upload` };
}

/** A fresh name for a working copy this process makes in backup_dir (removed by removeDeadWritersFiles once the process is gone). */
export function workFileName(purpose: 'verify' | 'restore-request', pid: number = process.pid, boot: string = bootId()): string {
  return `.${purpose}-${randomBytes(8).toString('hex')}.${pid}-${boot}.${purpose === 'verify' ? 'snapshot' : 'copy'}`;
}

/** Whether a process with this pid runs now (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LeftoverCheck {
  /** This boot's id (default: bootId()). */
  readonly boot?: string;
  /** Whether a pid is a live process (default: processAlive). */
  readonly alive?: (pid: number) => boolean;
}

/**
 * Removes from `dir` the writer dot-files whose writer is gone (see the
 * file comment); returns the names removed. A file that vanishes meanwhile
 * (its writer renamed or removed it) is skipped; other errors propagate.
 */
export function removeDeadWritersFiles(dir: string, check: LeftoverCheck = {}): string[] {
  const boot = check.boot ?? bootId();
  const alive = check.alive ?? processAlive;
  const names = backupDirNames(dir);
  const removed: string[] = [];
  for (const name of names) {
    const match = WRITER_FILE_PATTERN.exec(name) ?? UPLOAD_WRITER_FILE_PATTERN.exec(name) ?? WORK_FILE_PATTERN.exec(name);
    if (match === null) continue;
    const [, , pidText, writerBoot] = match;
    const pid = Number(pidText);
    const gone = writerBoot !== boot || (pid !== process.pid && !alive(pid));
    if (!gone) continue;
    const path = join(dir, name);
    if (!lstatSync(path, { throwIfNoEntry: false })?.isFile()) continue;
    try {
      unlinkSync(path);
      removed.push(name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return removed;
}
