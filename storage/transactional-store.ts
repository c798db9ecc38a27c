/**
 * The transactional capability of the keychain store: running several
 * writes, across any of its capabilities, as one all-or-nothing unit, and
 * telling caches when anything changed.
 *
 * Why it is its own capability (OpenBao's TransactionalBackend habit): a
 * consumer that writes several rows at once (initialisation, master-key
 * rotation, writing a batch of HSM-sealed secrets) asks for it next to the
 * capability it writes through, e.g. `KeychainRootStore & TransactionalStore`,
 * and a consumer that only reads never does. All capabilities of one store
 * share one connection, so a transaction spans them all.
 */

import { OwnChangeFeed } from './own-changes';

/** How a transaction runs. */
export interface TransactionOptions {
  /**
   * Many writes committed as one (a sweep's batch): bookkeeping that every
   * write would otherwise do on its own and that only the commit needs (the
   * trust state's fold, storage/sqlite-connection.ts) is done once, just
   * before the commit. Only an outermost transaction honours it.
   */
  readonly batch?: boolean;
  /**
   * The commit need not be flushed to disk on its own: nothing it changed is
   * acted on outside the appliance before an audit event appended after it
   * is durable, and that event's commit flushes it too. On SQLite both
   * connections append to one WAL file, and the audit appender's FULL
   * commit fsyncs that file, so this commit's frames (written before that
   * fsync) become durable with the event; a crash before then loses the
   * change and the event together, never one without the other. The
   * callers: a sweep's batch (its rollovers are reported, answered and
   * served only after its events are durable) and a group of first
   * servings (a Get answers only once its event is durable). What it saves
   * is an fsync on the event loop per commit: on this disk p50 4.6 ms, p99
   * 52 ms. An engine whose commits are durable anyway ignores it; only an
   * outermost transaction honours it.
   */
  readonly durableWithAuditEvent?: boolean;
}

export interface TransactionalStore {
  /**
   * Runs fn in one transaction and returns its result; if fn throws, all of
   * it is undone and the error rethrown as is. A nested call is a savepoint:
   * if it throws and the outer fn catches that, only the inner part is undone.
   * fn must be synchronous (returning a promise is a TypeError).
   */
  transaction<T>(fn: () => T, options?: TransactionOptions): T;

  /**
   * Changes whenever anything in the keychain changed, by this connection or
   * another process's (a counter every keychain write bumps, for SQLite);
   * audit appends do not move it (no cache depends on them). Caches compare it to
   * know when to drop what they hold. Cheap: one call per request is fine.
   */
  changeStamp(): string;

  /** Commits made through this store object: no I/O, for callers that learn of other processes' changes some other way. */
  ownCommitCount(): number;

  /**
   * This store's own transactions and the rows each touched, as they end
   * (storage/own-changes.ts): caches drop only those rows' entries. Absent
   * or null (a memory store, a read-only connection): caches drop
   * everything whenever changeStamp moves.
   */
  readonly ownChanges?: OwnChangeFeed | null;

  /**
   * SQLite only (absent elsewhere: nothing to zero): until the returned
   * release is called, a commit that drops material still empties the WAL
   * at once, but the zeroing of every page's unused space
   * (storage/sqlite-unused-space.ts, a walk of the whole file) waits for the
   * release and then runs once. A sweep that destroys in many batches holds
   * it for the sweep: one walk, not one per batch. A crash while held
   * leaves the zeroing to the next open, which always does it.
   */
  holdUnusedSpaceZeroing?(): () => void;

  /**
   * Resolves once every transaction this store has committed so far is on
   * disk, including those committed with durableWithAuditEvent; rejects
   * (STORAGE_ERROR, STORAGE_FULL) when the flush failed. On SQLite an fsync
   * of the WAL file on libuv's thread pool, so the event loop keeps serving
   * meanwhile. Absent where every commit is durable on its own (PostgreSQL,
   * the memory store): nothing to wait for.
   */
  commitsDurable?(): Promise<void>;
}
