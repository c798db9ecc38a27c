/**
 * Maps better-sqlite3's SqliteError (its `code` is SQLite's extended result
 * code name, e.g. `SQLITE_BUSY_SNAPSHOT`) to a StorageError with a stable
 * Strongroom code. Anything that is not a SqliteError passes through
 * untouched: a StrongroomError raised inside a transaction keeps its code.
 *
 * Messages name the operation only; SQLite's own text stays in `cause` (it
 * names tables and constraints, never bound values, so no BLOB contents).
 */
import Database from 'better-sqlite3';
import { ErrorCode } from '../common/error-codes';
import { StorageError } from '../common/errors';

/** Result-code families (prefixes of the extended code names) and what they mean to us. */
const FAMILIES: ReadonlyArray<readonly [prefix: string, code: ErrorCode]> = [
  ['SQLITE_FULL', 'STORAGE_FULL'],
  ['SQLITE_BUSY', 'STORAGE_BUSY'],
  ['SQLITE_LOCKED', 'STORAGE_BUSY'],
  ['SQLITE_CORRUPT', 'STORAGE_CORRUPT'],
  ['SQLITE_NOTADB', 'STORAGE_CORRUPT'],
];

type SqliteError = InstanceType<typeof Database.SqliteError>;

/**
 * Recognised by shape, not `instanceof`: the native addon keeps the
 * SqliteError class it was given when first loaded in the process, so a
 * later module registry or realm (jest runs each test file in its own
 * context) gets errors whose class, and even whose `Error`, is not its own.
 */
export function isSqliteError(err: unknown): err is SqliteError {
  if (err instanceof Database.SqliteError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const { name, code } = err as { name?: unknown; code?: unknown };
  return name === 'SqliteError' && typeof code === 'string' && code.startsWith('SQLITE_');
}

/** The Strongroom code for a SQLite result code name. */
export function storageCodeFor(sqliteCode: string): ErrorCode {
  for (const [prefix, code] of FAMILIES) {
    if (sqliteCode === prefix || sqliteCode.startsWith(`${prefix}_`)) return code;
  }
  return 'STORAGE_ERROR';
}

/** Returns the error to throw for `err` raised while doing `operation`. */
export function mapSqliteError(err: unknown, operation: string): unknown {
  if (!isSqliteError(err)) return err;
  const code = storageCodeFor(err.code);
  return new StorageError(code, `keychain store: ${operation} failed (${err.code})`, {
    cause: err,
    details: { operation, sqliteCode: err.code },
  });
}
