/**
 * Connection settings of the SQLite keychain store, each checked after it is
 * set (a PRAGMA that SQLite doesn't accept is silently ignored otherwise).
 *
 * Order matters: this build has SQLITE_DEFAULT_WAL_SYNCHRONOUS=1, so switching
 * to WAL lowers an unset `synchronous` to NORMAL; FULL is set after WAL so that
 * every acknowledged commit is fsynced (survives power loss).
 */
import Database from 'better-sqlite3';
import { StorageError } from '../common/errors';

/**
 * How long a statement waits for another connection's lock before failing
 * with STORAGE_BUSY. Long enough to ride out a checkpoint or a `strongroom
 * status` read; short enough that a request never hangs on a stuck process.
 */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * The keychain store's own connection waits for the write lock in this many
 * slices of BUSY_TIMEOUT_MS / BUSY_ATTEMPTS (storage/sqlite-busy.ts), so the
 * bound stays BUSY_TIMEOUT_MS while each wait is logged as it happens.
 */
export const BUSY_ATTEMPTS = 5;

/** PRAGMA synchronous value for FULL: every commit fsyncs the WAL. */
export const SYNCHRONOUS_FULL = 2;
/** PRAGMA synchronous value for NORMAL: in WAL mode a commit writes its frames without an fsync. */
export const SYNCHRONOUS_NORMAL = 1;

function expect(db: Database.Database, pragma: string, want: string | number): void {
  const got = db.pragma(pragma, { simple: true }) as unknown;
  const norm = typeof got === 'string' ? got.toLowerCase() : got;
  if (norm !== want) {
    throw new StorageError('STORAGE_ERROR', `keychain store: PRAGMA ${pragma} did not take effect`, {
      details: { pragma, expected: want, actual: typeof got === 'string' || typeof got === 'number' ? got : null },
    });
  }
}

/**
 * Page cache of a writing connection, in KiB (PRAGMA cache_size takes a
 * negative number for KiB). This build's default is 16 MB: a keychain of
 * 100,000 keys has indexes on random ids (instances by id and by name,
 * keys by current instance) that outgrow it, so a rollover or a first
 * serving read index pages back from the kernel. The cache grows only as
 * pages are read; pages hold sealed material only, never plaintext.
 */
export const WRITER_PAGE_CACHE_KIB = 64 * 1024;

/**
 * WAL pages after which a commit of the keychain store's own connection
 * checkpoints (SQLite's default, 1000, stays on the audit appender's).
 * A checkpoint copies the WAL into the database file and fsyncs both, and
 * it runs inside the commit that crossed the mark: on the store's
 * connection that is the event loop, where a 100,000-key rollover sweep
 * spent a fifth of its time in them. With this mark the audit worker's
 * group commits, which come many times a second while clients are served,
 * cross SQLite's default first and do the checkpoints on their thread; the
 * store's connection checkpoints only when no events are written (an
 * officer's writes alone), so the WAL stays bounded.
 */
export const STORE_CHECKPOINT_PAGES = 16_000;

/** The keychain store's own connection leaves checkpoints to the audit appender (STORE_CHECKPOINT_PAGES). */
export function leaveCheckpointsToAppender(db: Database.Database): void {
  db.pragma(`wal_autocheckpoint = ${STORE_CHECKPOINT_PAGES}`);
  expect(db, 'wal_autocheckpoint', STORE_CHECKPOINT_PAGES);
}

/** Sets and verifies the connection settings. A read-only connection keeps the file's journal mode. `busyTimeoutMs`: one wait for a lock (SQLite's own bounded retry). */
export function applyPragmas(db: Database.Database, readonly: boolean, busyTimeoutMs = BUSY_TIMEOUT_MS): void {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  expect(db, 'busy_timeout', busyTimeoutMs);
  if (!readonly) {
    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (String(mode).toLowerCase() !== 'wal') {
      throw new StorageError('STORAGE_ERROR', 'keychain store: could not switch to WAL journal mode', {
        details: { pragma: 'journal_mode', expected: 'wal', actual: String(mode) },
      });
    }
  }
  if (!readonly) {
    db.pragma(`cache_size = ${-WRITER_PAGE_CACHE_KIB}`);
    expect(db, 'cache_size', -WRITER_PAGE_CACHE_KIB);
  }
  db.pragma(`synchronous = ${SYNCHRONOUS_FULL}`);
  expect(db, 'synchronous', SYNCHRONOUS_FULL);
  db.pragma('foreign_keys = ON');
  expect(db, 'foreign_keys', 1);
  db.pragma('secure_delete = ON');
  expect(db, 'secure_delete', 1);
}
