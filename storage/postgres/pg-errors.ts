/**
 * Maps what node-postgres throws (a DatabaseError with a SQLSTATE `code`, a
 * socket error with an errno `code`, or pg's own "Connection terminated")
 * to a Strongroom code, as storage/sqlite-errors.ts does for SQLite, and
 * says whether the connection can still be used.
 *
 * - unique and other integrity violations (class 23) → STORAGE_ERROR, as
 *   SQLite's SQLITE_CONSTRAINT_* map: the capability code checks first and
 *   throws its own KEY_EXISTS, CLIENT_EXISTS, …; a violation that gets
 *   through is a race the constraint caught (details.pgCode says which);
 * - serialization failure, deadlock, lock not available → STORAGE_BUSY;
 * - disk full → STORAGE_FULL; data or index corrupted → STORAGE_CORRUPT;
 * - read-only transaction, admin/crash shutdown, cannot connect now →
 *   CLUSTER_NOT_PRIMARY, connection dropped: the next call finds the primary;
 * - connection exceptions (class 08), socket errors, "Connection
 *   terminated" → STORAGE_UNAVAILABLE, connection dropped.
 *
 * What crosses back is the SQLSTATE, its class, the constraint or table
 * name, and PostgreSQL's primary message except for data exceptions (class
 * 22, whose messages quote the input). Never the `detail` field: for a
 * unique violation it holds the row's values.
 */
import type { ErrorCode } from '../../common/error-codes';
import type { BridgeFailure } from './bridge-protocol';

export interface MappedPgError {
  readonly failure: BridgeFailure;
  /** The connection is gone or on a node that is no longer primary: drop it, find the primary again. */
  readonly dropsConnection: boolean;
}

const BUSY = new Set(['40001', '40P01', '55P03']);
const NOT_PRIMARY = new Set(['25006', '57P01', '57P02', '57P03']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

function isSqlState(code: unknown): code is string {
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** The Strongroom code for a SQLSTATE, and whether the session survives it. Exported for its test. */
export function codeForSqlState(sqlState: string): { code: ErrorCode; dropsConnection: boolean } {
  if (BUSY.has(sqlState)) return { code: 'STORAGE_BUSY', dropsConnection: false };
  if (NOT_PRIMARY.has(sqlState)) return { code: 'CLUSTER_NOT_PRIMARY', dropsConnection: true };
  if (sqlState === '53100') return { code: 'STORAGE_FULL', dropsConnection: false };
  if (sqlState === 'XX001' || sqlState === 'XX002') return { code: 'STORAGE_CORRUPT', dropsConnection: false };
  if (sqlState.startsWith('08')) return { code: 'STORAGE_UNAVAILABLE', dropsConnection: true };
  if (sqlState.startsWith('53')) return { code: 'STORAGE_UNAVAILABLE', dropsConnection: false };
  return { code: 'STORAGE_ERROR', dropsConnection: false };
}

/** Maps `err`, raised while doing `operation`, to what the main thread is told. */
export function mapPgError(err: unknown, operation: string): MappedPgError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown; constraint?: unknown; table?: unknown };
  const text = typeof e.message === 'string' ? e.message : String(err);
  if (isSqlState(e.code)) {
    const { code, dropsConnection } = codeForSqlState(e.code);
    const details: BridgeFailure['details'] = { operation, pgCode: e.code };
    if (typeof e.constraint === 'string') details.constraint = e.constraint;
    if (typeof e.table === 'string') details.table = e.table;
    if (!e.code.startsWith('22')) details.pgMessage = text;
    const why = dropsConnection ? '; the next call finds the writable primary again' : '';
    return { failure: { code, message: `keychain store: ${operation} failed (PostgreSQL ${e.code})${why}`, details }, dropsConnection };
  }
  if ((typeof e.code === 'string' && SOCKET_CODES.has(e.code)) || /connection terminated|not queryable|connection (?:is )?closed/i.test(text)) {
    return { failure: lostConnection(operation, typeof e.code === 'string' ? e.code : text), dropsConnection: true };
  }
  return { failure: { code: 'STORAGE_ERROR', message: `keychain store: ${operation} failed (${text})`, details: { operation } }, dropsConnection: false };
}

/**
 * The failure for a connection that broke (or that the bridge cut at its own
 * deadline) during `operation`. Inside a transaction the server rolls it
 * back; a lone statement outside one may or may not have run, so the
 * message does not claim either (writes always run in transactions).
 */
export function lostConnection(operation: string, why: string): BridgeFailure {
  return {
    code: 'STORAGE_UNAVAILABLE',
    message: `keychain store: ${operation} failed: the PostgreSQL connection was lost (${why}); an open transaction on it was rolled back; retry, the next call reconnects`,
    details: { operation, reason: why },
  };
}
