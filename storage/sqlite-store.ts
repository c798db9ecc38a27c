/**
 * The keychain store on SQLite (better-sqlite3): the production
 * implementation of storage/keychain-store.ts. This file opens the database
 * (creating it owner-only, applying pragmas and migrations) and assembles
 * the store from one part per capability, all on one shared connection
 * (storage/sqlite-connection.ts: statements, transactions, change stamp,
 * WAL scrubbing): sqlite-keys.ts, sqlite-key-schedule.ts, sqlite-naming.ts,
 * sqlite-keychain-root.ts, and the sub-ports sqlite-directory.ts,
 * sqlite-audit.ts, sqlite-approvals.ts, sqlite-invocations.ts.
 *
 * WAL + synchronous=FULL: an acknowledged change survives power loss. A
 * read-only store (`strongroom status` next to a running server) never
 * migrates and never writes.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { StorageError, ValidationError } from '../common/errors';
import { ComposedKeychainStore } from './composed-keychain-store';
import { KeychainStore } from './keychain-store';
import { assertSchemaCurrent, runMigrations } from './migrations';
import { SqliteApprovals } from './sqlite-approvals';
import { SqliteAudit } from './sqlite-audit';
import { BusyPolicy, DEFAULT_BUSY_POLICY } from './sqlite-busy';
import { SqliteConnection } from './sqlite-connection';
import { SqliteDirectory } from './sqlite-directory';
import { SqliteInvocations } from './sqlite-invocations';
import { SqliteIdempotency } from './sqlite-idempotency';
import { SqliteSchedulerLease } from './sqlite-scheduler-lease';
import { mapSqliteError } from './sqlite-errors';
import { SqliteKeySchedule } from './sqlite-key-schedule';
import { SqliteKeychainRoot } from './sqlite-keychain-root';
import { SqliteKeys } from './sqlite-keys';
import { SqliteNaming } from './sqlite-naming';
import { openSqliteTrustSnapshot, SqliteTrustJournal } from './sqlite-trust-journal';
import { applyPragmas, leaveCheckpointsToAppender } from './sqlite-pragmas';
import { openUntrustedSqlite } from './sqlite-untrusted-file';

export { BUSY_TIMEOUT_MS } from './sqlite-pragmas';

/**
 * Mode of a newly created database file: owner read/write only. The file holds
 * sealed material and key metadata that no other local user may read or copy
 * for offline attack. SQLite creates -wal and -shm with the same mode.
 */
export const DB_FILE_MODE = 0o600;

export interface SqliteStoreOptions {
  /** Open an existing, current database read-only: no migration, no writes. */
  readonly readonly?: boolean;
  /**
   * Caps the database at this many pages (PRAGMA max_page_count): a write that
   * would grow it further fails STORAGE_FULL with nothing written, exactly as
   * a full disk does. A quota for operators; tests use it to simulate a full disk.
   */
  readonly maxPageCount?: number;
  /** How writes wait for another process's write lock (storage/sqlite-busy.ts); the default waits BUSY_TIMEOUT_MS in all. */
  readonly busy?: Partial<BusyPolicy>;
}

/** Opens (creating and migrating if needed) the keychain database at `path`, a file path. */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): KeychainStore {
  const readonly = options.readonly === true;
  const busy: BusyPolicy = { ...DEFAULT_BUSY_POLICY, ...options.busy };
  let db: Database.Database | undefined;
  try {
    if (!readonly) createPrivateFile(path);
    if (!(Number.isSafeInteger(busy.attempts) && busy.attempts > 0 && Number.isSafeInteger(busy.sliceMs) && busy.sliceMs > 0)) {
      throw new ValidationError('busy.attempts and busy.sliceMs must be positive integers', { details: { field: 'busy' } });
    }
    db = openUntrustedSqlite(path, { readonly, fileMustExist: true });
    applyPragmas(db, readonly, busy.sliceMs);
    if (!readonly) leaveCheckpointsToAppender(db);
    if (readonly) assertSchemaCurrent(db);
    else runMigrations(db);
    if (options.maxPageCount !== undefined) {
      if (!(Number.isSafeInteger(options.maxPageCount) && options.maxPageCount > 0)) {
        throw new ValidationError('maxPageCount must be a positive integer', { details: { field: 'maxPageCount' } });
      }
      db.pragma(`max_page_count = ${options.maxPageCount}`);
    }
    const connection = new SqliteConnection(db, readonly, busy);
    // Before anything is served: no dropped material a crash left in the WAL outlives this open.
    connection.scrubWhatACrashLeft();
    return assemble(connection, readonly);
  } catch (err) {
    if (db?.open) db.close();
    throw mapSqliteError(err, 'open');
  }
}

function assemble(connection: SqliteConnection, readonly: boolean): KeychainStore {
  const { db } = connection;
  const read = <T>(op: string, fn: () => T): T => connection.read(op, fn);
  const write = <T>(op: string, fn: () => T): T => connection.write(op, fn);
  return new ComposedKeychainStore({
    connection,
    keys: new SqliteKeys(connection),
    schedule: new SqliteKeySchedule(connection),
    naming: new SqliteNaming(connection),
    root: new SqliteKeychainRoot(connection),
    directory: new SqliteDirectory(db, write, read),
    // Audit appends are not keychain changes: counting them moved the change
    // stamp on every group commit and emptied the hot path's caches each time.
    audit: new SqliteAudit(db, (op, fn) => connection.write(op, fn, false), read, write),
    approvals: new SqliteApprovals(db, write, read),
    trust: readonly ? null : new SqliteTrustJournal(connection, () => openSqliteTrustSnapshot(db.name)),
    invocations: new SqliteInvocations(connection),
    schedulerLease: new SqliteSchedulerLease(connection),
    idempotency: new SqliteIdempotency(connection),
  });
}

function createPrivateFile(path: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, 'wx', DB_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new StorageError('STORAGE_ERROR', 'keychain store: cannot create the database file', { cause: err });
  }
  try {
    fs.fchmodSync(fd, DB_FILE_MODE); // the umask may have removed bits; never added any
  } finally {
    fs.closeSync(fd);
  }
}
