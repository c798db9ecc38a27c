/**
 * The backups in backup_dir that the server made, oldest first, and the
 * retention rule on them (backup_retention): after a new backup, the oldest
 * beyond the count are removed. Only regular files whose names are the
 * server's own (BACKUP_NAME_PATTERN, which carries the time it was made) are
 * counted or removed: an operator's file, a dot-file of a backup in
 * progress or a symbolic link is never touched, whatever its name.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { backupDirNames } from './backup-dir';
import { BACKUP_NAME_PATTERN } from '../vocabulary/backup-limits';

export interface StoredBackup {
  readonly name: string;
  /** When it was made: the time in its name (UTC, to the second). */
  readonly madeAtMs: number;
}

/** The time a backup name carries (backup-20261207T081500Z-1a2b3c4d.srbk), in ms. */
export function backupNameTimeMs(name: string): number {
  const [, y, mo, d, h, mi, s] = /^backup-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(name) ?? [];
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

/**
 * The server's backups in `dir`, oldest first (by the time in the name, then
 * by modification time for two made in the same second); none when the
 * folder does not exist yet.
 */
export function listBackups(dir: string): StoredBackup[] {
  const names = backupDirNames(dir);
  const found: Array<StoredBackup & { mtimeMs: number }> = [];
  for (const name of names) {
    if (!BACKUP_NAME_PATTERN.test(name)) continue;
    const stat = lstatSync(join(dir, name), { throwIfNoEntry: false });
    if (!stat?.isFile()) continue;
    found.push({ name, madeAtMs: backupNameTimeMs(name), mtimeMs: stat.mtimeMs });
  }
  found.sort((a, b) => a.madeAtMs - b.madeAtMs || a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
  return found.map(({ name, madeAtMs }) => ({ name, madeAtMs }));
}

/** When the newest backup in `dir` was made, or null when there is none. */
export function newestBackupMs(dir: string): number | null {
  return listBackups(dir).at(-1)?.madeAtMs ?? null;
}

/**
 * The backups retention removes once `justMade` exists: the oldest beyond
 * `keep`. The one just made is never among them, even when another made in
 * the same second sorts after it; nor is one named in `awaitingRestore` (a
 * restore request not yet carried out: officers are approving that file).
 */
export function backupsBeyondRetention(dir: string, keep: number, justMade: string, awaitingRestore: ReadonlySet<string> = new Set()): string[] {
  const others = listBackups(dir).filter((b) => b.name !== justMade);
  return others
    .slice(0, Math.max(0, others.length - (keep - 1)))
    .map((b) => b.name)
    .filter((name) => !awaitingRestore.has(name));
}

/** Removes one backup the server made (its name checked again here: nothing else is ever removed). */
export function removeBackup(dir: string, name: string): void {
  if (!BACKUP_NAME_PATTERN.test(name)) throw new Error(`not a backup name: ${name}`);
  unlinkSync(join(dir, name));
}
