/**
 * Makes what a SQLite connection committed without an fsync of its own
 * (synchronous NORMAL: TransactionOptions.durableWithAuditEvent) durable,
 * without blocking the event loop: an fsync of the WAL file, run on libuv's
 * thread pool.
 *
 * Why an fsync of the WAL file is enough: in WAL mode a commit is complete
 * once its frames are in the WAL (recovery replays them; the wal-index is
 * rebuilt), and a commit at NORMAL has written them with write(), so they
 * sit in the kernel's page cache for that file; fsync of any descriptor of
 * the file flushes them all. If the WAL was restarted or removed meanwhile,
 * a checkpoint had copied every frame into the database file and synced it
 * first (SQLite syncs the WAL before a checkpoint and the database after a
 * completed one at NORMAL and FULL), so the commit is already durable.
 */
import { promises as fs } from 'node:fs';
import { StorageError } from '../common/errors';

/** Resolves once every frame written to `${databasePath}-wal` so far is on disk. */
export async function flushWal(databasePath: string): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(`${databasePath}-wal`, 'r+');
  } catch (err) {
    // No WAL file: the last checkpoint took every frame into the synced database file.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw flushFailure(err);
  }
  try {
    await handle.sync();
  } catch (err) {
    throw flushFailure(err);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function flushFailure(err: unknown): StorageError {
  const errno = (err as NodeJS.ErrnoException).code ?? 'unknown';
  const full = errno === 'ENOSPC' || errno === 'EDQUOT';
  return new StorageError(full ? 'STORAGE_FULL' : 'STORAGE_ERROR', `keychain store: flushing the write-ahead log to disk failed (${errno})`, {
    cause: err,
    details: { operation: 'flushWal', errno },
  });
}
