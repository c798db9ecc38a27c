/**
 * The names in backup_dir, read once here for every reader of the folder
 * (retention, the killed-writer clean-up, BackupList): a folder that does
 * not exist yet is an empty one (the first backup creates it), any other
 * failure to read it (no permission, not a folder) is the caller's error.
 */
import { readdirSync } from 'node:fs';

/** The names in `dir`, in no particular order; none when the folder does not exist yet. */
export function backupDirNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
