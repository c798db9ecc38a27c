/**
 * The one PostgreSQL connection every capability of the keychain store
 * shares (storage/postgres/pg-store.ts assembles them), as
 * storage/sqlite-connection.ts is for SQLite: the statements of
 * storage/sqlite-rows.ts prepared on the better-sqlite3-shaped facade
 * (statement-facade.ts over the synchronous bridge), the read and write
 * wrappers, transactions, the change stamp and the trust write hooks.
 *
 * - Transactions: the outermost is a write transaction on the primary under
 *   the cluster's writer lock (the bridge's begin(true): READ COMMITTED and
 *   pg_advisory_xact_lock, as SQLite's BEGIN IMMEDIATE); a nested one is a
 *   savepoint, so an inner failure the outer fn catches undoes only the
 *   inner part (PostgreSQL aborts a transaction at a failed statement, but
 *   the savepoint around every nested write takes the failure with it).
 * - Errors: the bridge already throws StorageError with stable codes
 *   (docs/cluster/bridge.md); the wrappers add the store operation that failed
 *   (createKey rather than the bridge's "query") and keep the code, the
 *   SQLSTATE details and the original as cause. Any other error (the
 *   capability code's own KEY_EXISTS, …) passes untouched.
 * - The change stamp is the keychain_changes counter, which the schema's
 *   statement-level trigger bumps once per transaction that writes a
 *   keychain table (schema-triggers.sql.ts), on whichever node, plus this
 *   connection's own commits; here nothing bumps it by hand.
 * - Dropped sealed material cannot be erased: PostgreSQL keeps the old row
 *   version in the table until VACUUM (which frees, not zeroes, it), in the
 *   WAL and on every standby. SQLite's scrub has no equivalent, so a write
 *   that drops material is refused (STORAGE_ERROR, nothing written) unless
 *   the store was opened with `acceptUnerasedDrops`, the operator's
 *   explicit acceptance that copies remain (docs/cluster/store.md).
 * - The own-change feed (storage/own-changes.ts) rests on SQLite TEMP
 *   triggers calling back into this process; PostgreSQL has neither, so
 *   `ownChanges` is null, which the port defines as "drop every cached row
 *   whenever the change stamp moves": correct, only coarser.
 */
import { StorageError, StrongroomError } from '../../common/errors';
import { CapabilityConnection, Statement, Statements } from '../capability-connection';
import { StoreConnection } from '../composed-keychain-store';
import { SQL } from '../sqlite-rows';
import { TransactionOptions } from '../transactional-store';
import { TrustWriteHooks } from '../trust-journal-store';
import { TrustHookRunner } from '../trust-hook-runner';
import { PgDatabase, PgStatement } from './statement-facade';
import type { SyncBridge } from './sync-bridge';

/** Statements of sqlite-rows.ts that PostgreSQL cannot run as translated, and the file that replaces each. */
const REWRITTEN: Readonly<Partial<Record<keyof typeof SQL, string>>> = {
  listKeys: 'storage/postgres/pg-keys.ts (GLOB, json_each and LIMIT -1 are SQLite only)',
};

/** What the bridge calls its requests: an error naming one of these has not yet been given the store operation. */
const BRIDGE_OPERATIONS: ReadonlySet<string> = new Set(['open', 'batch', 'query', 'begin', 'commit', 'rollback', 'savepoint', 'release', 'rollbackTo', 'close']);

export interface PgConnectionOptions {
  /**
   * Writes that drop sealed material (a destroy, a namespace deletion) are
   * allowed although PostgreSQL keeps copies of the dropped bytes (see the
   * file comment). Without it they fail STORAGE_ERROR and write nothing.
   */
  readonly acceptUnerasedDrops?: boolean;
}

export class PgConnection implements StoreConnection, CapabilityConnection {
  readonly db: PgDatabase;
  readonly stmt: Statements;
  /** See the file comment: no row-level feed on PostgreSQL. */
  readonly ownChanges = null;
  private readonly changeCounter: PgStatement;
  /** Keychain commits made through this connection (the counter also moves for other nodes' commits). */
  private ownCommits = 0;
  /** The trust ledger's hooks, run inside every keychain write (or once around a batch). */
  private readonly trustHooks = new TrustHookRunner();
  private closed = false;

  constructor(bridge: SyncBridge, private readonly options: PgConnectionOptions = {}) {
    this.db = new PgDatabase(bridge);
    this.stmt = prepareAll(this.db);
    this.changeCounter = this.db.prepare('SELECT counter FROM keychain_changes WHERE id = 1').pluck();
  }

  ownCommitCount(): number {
    return this.ownCommits;
  }

  changeStamp(): string {
    return this.read('changeStamp', () => `${this.changeCounter.get() as number}:${this.ownCommits}`);
  }

  /** As SqliteConnection.transaction: with `batch`, the trust hooks run once around the whole of fn. */
  transaction<T>(fn: () => T, options?: TransactionOptions): T {
    this.assertOpen();
    const synchronous = (): T => refusePromise(fn());
    if (!options?.batch || this.db.inTransaction || !this.trustHooks.installed) return this.inTransaction('transaction', synchronous);
    return this.inTransaction('transaction', () => this.trustHooks.aroundBatch(synchronous));
  }

  read<T>(operation: string, fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (err) {
      throw withOperation(err, operation);
    }
  }

  /** As SqliteConnection.write, less the counter bump (the schema's trigger makes it). */
  write<T>(operation: string, fn: () => T, isKeychainChange = true, runsTrustHooks = isKeychainChange): T {
    this.assertOpen();
    const hooked = isKeychainChange || runsTrustHooks
      ? (): T => this.trustHooks.aroundWrite(fn)
      : fn;
    return this.inTransaction(operation, hooked, isKeychainChange);
  }

  scrubAfterCommit(): void {
    if (this.options.acceptUnerasedDrops === true) return;
    throw new StorageError(
      'STORAGE_ERROR',
      'keychain store: PostgreSQL cannot erase dropped sealed material (old row versions stay in the table, its WAL and every standby), so this write was refused and nothing was changed; open the store with acceptUnerasedDrops to allow it',
      { details: { reason: 'unerasedDrop' } },
    );
  }

  setWriteHooks(hooks: TrustWriteHooks | null): void {
    this.trustHooks.set(hooks);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('STORAGE_ERROR', 'keychain store: the store is closed');
  }

  /** Runs fn as the outermost write transaction or, inside one, as a savepoint. */
  private inTransaction<T>(operation: string, fn: () => T, isKeychainChange = true): T {
    const outermost = !this.db.inTransaction;
    let result: T;
    try {
      result = this.db.transaction(fn)();
    } catch (err) {
      throw withOperation(err, operation);
    }
    if (outermost && isKeychainChange) this.ownCommits++;
    return result;
  }
}

function prepareAll(db: PgDatabase): Statements {
  const out = {} as Record<keyof typeof SQL, Statement>;
  for (const name of Object.keys(SQL) as Array<keyof typeof SQL>) {
    const replacement = REWRITTEN[name];
    out[name] = replacement === undefined ? db.prepare(SQL[name]) : refusedStatement(name, replacement);
  }
  return out;
}

/** A statement the capability code must not reach on PostgreSQL: every call fails loudly, naming the replacement. */
function refusedStatement(name: string, replacement: string): Statement {
  const refuse = (): never => {
    throw new StorageError('STORAGE_ERROR', `keychain store: the SQLite statement ${name} does not run on PostgreSQL; its replacement is ${replacement}`, {
      details: { statement: name },
    });
  };
  const statement: Statement = { get: refuse, all: refuse, run: refuse, iterate: refuse, pluck: () => statement };
  return statement;
}

/** better-sqlite3 refuses a transaction function that returns a promise (its work would escape the transaction): so does this. */
function refusePromise<T>(result: T): T {
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    throw new TypeError('keychain store: a transaction function must be synchronous; it returned a promise, so its transaction was undone');
  }
  return result;
}

/** A bridge failure, re-labelled with the store operation it failed (code, details and cause kept). */
function withOperation(err: unknown, operation: string): unknown {
  if (!(err instanceof StrongroomError) || !BRIDGE_OPERATIONS.has(String(err.details.operation))) return err;
  const message = `keychain store: ${operation}: ${err.message.replace(/^keychain store: /, '')}`;
  return new StorageError(err.code, message, { cause: err, details: { ...err.details, operation, bridgeOperation: err.details.operation ?? null } });
}
