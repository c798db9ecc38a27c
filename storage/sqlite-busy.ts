/**
 * Bounded retry of a write transaction that could not take the keychain's
 * write lock (SQLITE_BUSY at BEGIN IMMEDIATE: another process is writing,
 * e.g. a local `strongroom` command, a backup's checkpoint, or a second
 * server started by mistake on the same file).
 *
 * SQLite's busy_timeout already retries inside one statement; this splits the
 * bound into `attempts` slices so that each wait is reported as it happens
 * (`onWait`: the server logs it, a test releases its lock there) and the
 * final refusal names how long it waited. Only a transaction that never
 * started is retried: a busy error from inside a transaction body (after
 * statements ran) is rolled back and reported, never replayed.
 */
import { StorageError } from '../common/errors';
import { isSqliteError } from './sqlite-errors';
import { BUSY_ATTEMPTS, BUSY_TIMEOUT_MS } from './sqlite-pragmas';

export interface BusyPolicy {
  /** How many times BEGIN IMMEDIATE is tried in all (at least 1). */
  readonly attempts: number;
  /** One attempt's wait (the connection's busy_timeout). */
  readonly sliceMs: number;
  /** Called after attempt `attempt` (1-based) found the lock held and before the next one. */
  readonly onWait?: (wait: { operation: string; attempt: number; attempts: number; waitedMs: number }) => void;
}

export const DEFAULT_BUSY_POLICY: BusyPolicy = {
  attempts: BUSY_ATTEMPTS,
  sliceMs: Math.ceil(BUSY_TIMEOUT_MS / BUSY_ATTEMPTS),
};

/** True for SQLITE_BUSY and its extended codes (not SQLITE_LOCKED: that is a lock inside this connection). */
export function isBusy(err: unknown): boolean {
  return isSqliteError(err) && (err.code === 'SQLITE_BUSY' || err.code.startsWith('SQLITE_BUSY_'));
}

/**
 * Runs `begin(markStarted)`; while it fails busy before calling markStarted,
 * waits again, up to `policy.attempts` in all, then throws STORAGE_BUSY.
 */
export function withBusyRetry<T>(operation: string, policy: BusyPolicy, begin: (markStarted: () => void) => T): T {
  for (let attempt = 1; ; attempt++) {
    let started = false;
    try {
      return begin(() => {
        started = true;
      });
    } catch (err) {
      if (started || !isBusy(err)) throw err;
      const waitedMs = attempt * policy.sliceMs;
      if (attempt >= policy.attempts) {
        throw new StorageError(
          'STORAGE_BUSY',
          `keychain store: ${operation} waited ${waitedMs} ms for the keychain's write lock, which another process holds; nothing was changed. Retry; if it persists, look for another process using keychain_path (a second server, a long local strongroom command)`,
          { cause: err, details: { operation, attempts: attempt, waitedMs } },
        );
      }
      policy.onWait?.({ operation, attempt, attempts: policy.attempts, waitedMs });
    }
  }
}
