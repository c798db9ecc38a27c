/**
 * The one better-sqlite3 connection every SQLite capability of the keychain
 * store shares (storage/sqlite-store.ts assembles them): its prepared
 * statements, the read and write wrappers that map SQLite errors to
 * StorageError codes, transactions and the change stamp.
 *
 * Writes run in BEGIN IMMEDIATE transactions (a nested call becomes a
 * savepoint), so every multi-row change is atomic and a second writer waits
 * busy_timeout, then fails STORAGE_BUSY, instead of deadlocking on a lock
 * upgrade (in slices, each reported: storage/sqlite-busy.ts). secure_delete zeroes dropped sealed material in the file; because
 * WAL frames holding the old page outlive a passive checkpoint, and copies
 * of moved cells outlive secure_delete (storage/sqlite-unused-space.ts), a
 * capability whose write drops material calls scrubAfterCommit(), and the
 * outermost commit is then followed by a TRUNCATE checkpoint and the
 * zeroing of every page's unused space. A read-only connection
 * (`strongroom status` next to a running server) runs its transactions
 * deferred, never writing.
 */
import Database from 'better-sqlite3';
import { StorageError } from '../common/errors';
import { CapabilityConnection } from './capability-connection';
import { StoreConnection } from './composed-keychain-store';
import { BusyPolicy, DEFAULT_BUSY_POLICY, withBusyRetry } from './sqlite-busy';
import { mapSqliteError } from './sqlite-errors';
import { OwnChangeFeed, OwnChangeRecorder } from './own-changes';
import { SQL } from './sqlite-rows';
import { SYNCHRONOUS_FULL, SYNCHRONOUS_NORMAL } from './sqlite-pragmas';
import { TransactionOptions } from './transactional-store';
import { TrustWriteHooks } from './trust-journal-store';
import { TrustHookRunner } from './trust-hook-runner';
import { zeroUnusedSpace } from './sqlite-unused-space';
import { flushWal } from './sqlite-wal-flush';

function prepareAll(db: Database.Database) {
  const out = {} as { -readonly [K in keyof typeof SQL]: Database.Statement };
  for (const name of Object.keys(SQL) as Array<keyof typeof SQL>) out[name] = db.prepare(SQL[name]);
  return out;
}

/** Every statement of sqlite-rows.ts, prepared once at open. */
export type Statements = Readonly<ReturnType<typeof prepareAll>>;

export class SqliteConnection implements StoreConnection, CapabilityConnection {
  readonly stmt: Statements;
  /** Set when a write dropped sealed material; cleared by the checkpoint after the outermost commit. */
  private scrubPending = false;
  /** Holds of the unused-space zeroing (holdUnusedSpaceZeroing), and whether a drop is waiting for their release. */
  private zeroingHolds = 0;
  private zeroingWaits = false;
  /** The WAL fsync under way (commitsDurable), and the one queued after it for callers that came meanwhile. */
  private flushing: Promise<void> | null = null;
  private nextFlush: Promise<void> | null = null;
  /**
   * The first flush failure, answered to every later flush of this
   * connection: Linux reports a lost write-back once, to the descriptor
   * that asked, and a descriptor opened afterwards fsyncs "successfully"
   * over frames that never reached the disk (and a WAL replays no frame
   * past a lost one). Only a reopen, which reads the file again, clears it.
   */
  private flushFailure: unknown = null;
  /** Commits made through this connection (PRAGMA data_version only counts other connections'). */
  private ownCommits = 0;
  /** The keychain change counter (migration 8): bumped by every keychain write, read for the change stamp. */
  private readonly changeCounter: Database.Statement;
  private readonly bumpChangeCounter: Database.Statement;
  private readonly runInTx: Database.Transaction<(fn: () => unknown) => unknown>;
  /** The trust ledger's hooks, run inside every keychain write (or once around a batch). */
  private readonly trustHooks = new TrustHookRunner();
  /** What each own transaction touched, for the caches (null on a read-only connection: it writes nothing). */
  private readonly recorder: OwnChangeRecorder | null;
  /** The change counter read inside the current outermost write transaction, first and last (storage/own-changes.ts). */
  private counters: { before: number; after: number } | null = null;

  constructor(
    readonly db: Database.Database,
    private readonly readonly: boolean,
    /** How the outermost write waits for the write lock (its busy_timeout is `sliceMs`, set at open). */
    private readonly busy: BusyPolicy = DEFAULT_BUSY_POLICY,
  ) {
    this.stmt = prepareAll(db);
    this.runInTx = db.transaction((fn: () => unknown) => fn());
    this.changeCounter = db.prepare('SELECT counter FROM keychain_changes WHERE id = 1').pluck();
    this.bumpChangeCounter = db.prepare('UPDATE keychain_changes SET counter = counter + 1 WHERE id = 1');
    this.recorder = readonly ? null : new OwnChangeRecorder(db);
  }

  /** This connection's own transactions and what they touched, as they end (null: read-only). */
  get ownChanges(): OwnChangeFeed | null {
    return this.recorder;
  }

  ownCommitCount(): number {
    return this.ownCommits;
  }

  changeStamp(): string {
    // The counter, not PRAGMA data_version: that one also moves on every audit
    // group commit of another connection, which would empty the caches each time.
    return this.read('changeStamp', () => `${this.changeCounter.get() as number}:${this.ownCommits}`);
  }

  /**
   * With `batch` (an outermost write transaction): the trust hooks run once
   * around the whole of fn instead of around each write inside it. The
   * journal is checked empty at the start, the triggers journal every change
   * fn makes (a savepoint that is undone takes its entries with it), and the
   * journal is folded into the trust state once, just before the commit, in
   * the same transaction: a sweep's batch of a hundred rollovers decrypts,
   * updates and re-seals the state once, not a hundred times. If the fold
   * throws, the whole batch is undone, as a write's own fold undoes it.
   */
  transaction<T>(fn: () => T, options?: TransactionOptions): T {
    this.assertOpen();
    if (this.readonly) return this.inTransaction('transaction', () => this.runInTx.deferred(fn) as T);
    if (options?.durableWithAuditEvent && !this.db.inTransaction) {
      return this.withoutOwnFsync(() => this.writeTransaction(fn, options));
    }
    return this.writeTransaction(fn, options);
  }

  private writeTransaction<T>(fn: () => T, options?: TransactionOptions): T {
    if (!options?.batch || this.db.inTransaction || !this.trustHooks.installed) {
      return this.inTransaction('transaction', () => this.immediate('transaction', fn));
    }
    return this.inTransaction('transaction', () => this.immediate('transaction', () => this.trustHooks.aroundBatch(fn)));
  }

  /**
   * Runs an outermost write whose commit is made durable by the audit
   * event that follows it (TransactionOptions.durableWithAuditEvent): in
   * WAL mode, synchronous NORMAL commits without an fsync of the WAL (a
   * checkpoint still syncs before it copies), and FULL comes back right
   * after, whatever happens, so every other commit keeps its own fsync.
   */
  private withoutOwnFsync<T>(fn: () => T): T {
    this.db.pragma(`synchronous = ${SYNCHRONOUS_NORMAL}`);
    try {
      return fn();
    } finally {
      if (this.db.open) this.db.pragma(`synchronous = ${SYNCHRONOUS_FULL}`);
    }
  }

  close(): void {
    if (!this.db.open) return;
    this.db.close();
  }

  /**
   * At open: a process killed between a commit that dropped material and
   * its scrub (or whose scrub a reader held off) left the dropped bytes in
   * the WAL, and the process that knew is gone. Scrub now, without waiting
   * for another process's readers (an open must not hang on them): if one
   * holds the checkpoint off, it runs after the first commit instead, as
   * any pending scrub does.
   */
  scrubWhatACrashLeft(): void {
    if (this.readonly) return;
    const timeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    try {
      this.db.pragma('busy_timeout = 0');
      this.scrubPending = !this.scrub();
    } finally {
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }

  /**
   * TransactionalStore.commitsDurable: an fsync of the WAL off the event
   * loop (sqlite-wal-flush.ts). One at a time: a caller arriving while one
   * runs (it may have started before the caller's commit) waits for the
   * next, which every caller arriving meanwhile shares.
   */
  commitsDurable(): Promise<void> {
    if (this.readonly) return Promise.resolve();
    if (this.flushFailure !== null) return Promise.reject(this.flushFailure);
    if (this.flushing === null) {
      const flushing = flushWal(this.db.name)
        .catch((err: unknown) => {
          this.flushFailure ??= err;
          throw err;
        })
        .finally(() => {
          this.flushing = null;
        });
      this.flushing = flushing;
      return flushing;
    }
    this.nextFlush ??= this.flushing
      .catch(() => undefined)
      .then(() => {
        this.nextFlush = null;
        return this.commitsDurable();
      });
    return this.nextFlush;
  }

  holdUnusedSpaceZeroing(): () => void {
    this.zeroingHolds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.zeroingHolds--;
      if (this.zeroingHolds > 0 || !this.zeroingWaits || this.readonly || !this.db.open) return;
      this.zeroingWaits = false;
      // The WAL was emptied at each drop; this walk zeroes what they all left. If it cannot run now, the next commit retries.
      if (!this.scrub()) this.scrubPending = true;
    };
  }

  /** The current write dropped sealed material: checkpoint (TRUNCATE) after the outermost commit. */
  scrubAfterCommit(): void {
    this.scrubPending = true;
  }

  read<T>(operation: string, fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (err) {
      throw mapSqliteError(err, operation);
    }
  }

  setWriteHooks(hooks: TrustWriteHooks | null): void {
    this.trustHooks.set(hooks);
  }

  /**
   * `isKeychainChange` false: a write that no cache depends on (the audit
   * trail's appends, invocation marks). A keychain write, and one with
   * `runsTrustHooks` (an authenticated row no cache depends on), runs the
   * trust hooks around its own statements, inside its transaction: a hook
   * that throws undoes the write.
   */
  write<T>(operation: string, fn: () => T, isKeychainChange = true, runsTrustHooks = isKeychainChange): T {
    this.assertOpen();
    const counted = isKeychainChange || runsTrustHooks
      ? () => {
          // In a batch the hooks run around the batch (transaction above).
          const result = this.trustHooks.aroundWrite(fn);
          if (isKeychainChange) this.bumpChangeCounter.run();
          return result;
        }
      : fn;
    return this.inTransaction(operation, () => this.immediate(operation, counted), isKeychainChange);
  }

  /**
   * BEGIN IMMEDIATE, waiting for another process's write lock within the
   * bound of storage/sqlite-busy.ts. A nested call is a savepoint under the
   * lock this connection already holds: nothing to wait for.
   */
  private immediate<T>(operation: string, fn: () => T): T {
    if (this.db.inTransaction) return this.runInTx.immediate(fn) as T;
    return withBusyRetry(operation, this.busy, (markStarted) =>
      this.runInTx.immediate(() => {
        markStarted();
        // Under the write lock from here to the commit: the counter moves only by this transaction's writes.
        const before = this.changeCounter.get() as number;
        const result = fn();
        this.counters = { before, after: this.changeCounter.get() as number };
        return result;
      }) as T,
    );
  }

  private assertOpen(): void {
    if (!this.db.open) throw new StorageError('STORAGE_ERROR', 'keychain store: the store is closed');
  }

  /** Runs a (possibly nested) transaction; after the outermost commit, scrubs if needed. */
  private inTransaction<T>(operation: string, run: () => T, isKeychainChange = true): T {
    const outermost = !this.db.inTransaction;
    let result: T;
    try {
      result = run();
    } catch (err) {
      // Undone: the caches still drop what it touched (a lookup inside it may have cached a row it wrote).
      if (outermost) this.endOwnTransaction(false);
      // A pending scrub stays pending: at worst one needless checkpoint later.
      throw mapSqliteError(err, operation);
    }
    if (outermost) {
      if (isKeychainChange) this.ownCommits++;
      try {
        this.endOwnTransaction(true);
      } finally {
        // Committed: the scrub runs even when a cache listener throws.
        this.afterCommit();
      }
    }
    return result;
  }

  /** Tells the own-change feed that the outermost transaction ended (a read-only one has no feed and no counters). */
  private endOwnTransaction(committed: boolean): void {
    const counters = this.counters;
    this.counters = null;
    if (this.recorder === null) return;
    // Committed without the counters: the commit ran outside immediate() (not expected); report it as undone, which drops what it touched and leaves the counter chain to the next poll.
    this.recorder.ended(committed ? counters : null);
  }

  /**
   * After the outermost commit of a transaction that dropped material: a
   * TRUNCATE checkpoint copies the zeroed pages into the database file and
   * empties the WAL, whose older frames still hold the dropped bytes (a
   * PASSIVE checkpoint copies pages but leaves the frames in the file). The
   * change is already committed, so a checkpoint that a reader blocks (busy)
   * or that fails is not reported to the caller: it is retried after the next
   * write transaction instead.
   */
  private afterCommit(): void {
    if (!this.scrubPending) return;
    this.scrubPending = !this.scrub();
  }

  /**
   * A TRUNCATE checkpoint, then the unused space of every page zeroed
   * (storage/sqlite-unused-space.ts: what secure_delete misses) under the
   * write lock, pages another connection put in the WAL meanwhile left
   * alone. False when either could not run now (a reader held the
   * checkpoint off, the lock was taken, an I/O error): the caller keeps the
   * scrub pending.
   */
  private scrub(): boolean {
    try {
      const [row] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      if (row?.busy !== 0) return false;
      if (this.zeroingHolds > 0) {
        this.zeroingWaits = true;
        return true;
      }
      this.db.exec('BEGIN IMMEDIATE');
    } catch {
      return false;
    }
    try {
      // A writer that came between the checkpoint and the lock (the audit appender) put pages in the WAL: those are left alone.
      zeroUnusedSpace(this.db);
      // This connection's cached page images still hold the old bytes, and the next change of their page would write them back.
      this.db.pragma('shrink_memory');
      return true;
    } catch {
      return false;
    } finally {
      this.db.exec('COMMIT');
    }
  }
}
