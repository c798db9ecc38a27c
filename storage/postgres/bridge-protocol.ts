/**
 * The messages between the synchronous bridge (sync-bridge.ts, on the thread
 * that runs the store) and its worker (bridge-worker.ts, which owns the
 * node-postgres connection), and the settings both sides share.
 *
 * The main thread posts a request on a MessagePort and blocks in
 * Atomics.wait on a shared Int32Array; the worker posts the reply, then adds
 * one to the array's REPLY_COUNTER slot and notifies. Every request carries
 * an id and every reply repeats it, so a reply that arrives after its caller
 * gave up is recognised and dropped, never taken for the next call's answer.
 * Replies carry plain data only (structured clone): rows, or an error as
 * code + message + details, which the main side turns back into a
 * StorageError.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorCode } from '../../common/error-codes';
import type { PgCredentials } from './pg-session';
import type { ClusterNodeAddress } from './primary-finder';

/** Index in the shared Int32Array the worker bumps after posting each reply. */
export const REPLY_COUNTER = 0;
/** Bytes of the SharedArrayBuffer (one Int32 slot; room for a second if ever needed). */
export const SIGNAL_BYTES = 8;

/** Where the bridge connects: the cluster's nodes (through Patroni) or one PostgreSQL directly. */
export type BridgeTarget =
  | { readonly kind: 'patroni'; readonly nodes: readonly ClusterNodeAddress[] }
  | { readonly kind: 'direct'; readonly host: string; readonly port: number };

export interface BridgeSettings {
  readonly target: BridgeTarget;
  readonly credentials: PgCredentials;
  /** Bound on connect + handshake + `SHOW transaction_read_only` to one node. */
  readonly connectTimeoutMs: number;
  /** Bound on one statement (or BEGIN with its lock, or COMMIT) in the worker; then its connection is destroyed. */
  readonly statementTimeoutMs: number;
  /**
   * Bound on one search for the primary. Short on purpose: the calling
   * thread (the event loop) is blocked meanwhile. During a failover (Patroni
   * ttl + promotion, 10-25 s) calls fail CLUSTER_NO_PRIMARY after this long
   * and the next call searches again, so the node keeps answering between.
   */
  readonly findPrimaryTimeoutMs: number;
  /** How long a write transaction's BEGIN waits for the cluster's writer lock before STORAGE_BUSY (PostgreSQL lock_timeout). */
  readonly writerLockTimeoutMs: number;
  /**
   * PostgreSQL's idle_in_transaction_session_timeout for the bridge's
   * sessions: a node that stops between two statements of a write
   * transaction (frozen, paused, partitioned) would otherwise hold the
   * cluster's writer lock until TCP gives up; the server ends its session
   * after this long and every other writer goes on. Long enough for the HSM
   * work a transaction does between its statements.
   */
  readonly idleInTransactionTimeoutMs: number;
  /** The pg_advisory_xact_lock key every write transaction takes: one per keychain. */
  readonly writerLockKey: number;
  /** Shown in pg_stat_activity. */
  readonly applicationName: string;
}

export const DEFAULT_BRIDGE_SETTINGS: Omit<BridgeSettings, 'target' | 'credentials'> = {
  connectTimeoutMs: 3_000,
  statementTimeoutMs: 15_000,
  findPrimaryTimeoutMs: 5_000,
  writerLockTimeoutMs: 5_000,
  idleInTransactionTimeoutMs: 30_000,
  // "strongroom" in the low bytes of a bigint would not fit an int4 helper; any stable constant does.
  writerLockKey: 0x5354524f,
  applicationName: 'strongroom',
};

/** One step of a transaction's work: what a request does, without the id. `write` begins take the writer lock. */
export type BridgeStep =
  | { readonly kind: 'query'; readonly sql: string; readonly params: readonly unknown[]; readonly expect?: QueryExpectation }
  | { readonly kind: 'begin'; readonly write: boolean }
  | { readonly kind: 'commit' }
  | { readonly kind: 'rollback' }
  | { readonly kind: 'savepoint'; readonly name: string }
  | { readonly kind: 'release'; readonly name: string }
  | { readonly kind: 'rollbackTo'; readonly name: string };

/**
 * A check the worker makes of a query's answer before it runs the next step
 * (SyncBridge.deferCheck): the first column of the first row must equal
 * `firstValue`, or the step fails with `failure`, and a COMMIT after it in
 * the batch is not run.
 */
export interface QueryExpectation {
  readonly firstValue: number;
  readonly failure: BridgeFailure;
}

/**
 * What the main thread asks. A `batch` is several steps in one exchange:
 * the worker runs them in order and stops at the first that fails, so the
 * calling thread blocks once where it would have blocked once per step
 * (each block is a time its event loop serves nothing). A batch that fails
 * before its COMMIT is rolled back by the worker, as PostgreSQL would have
 * answered that COMMIT with ROLLBACK.
 */
export type BridgeRequest =
  | ({ readonly id: number } & BridgeStep)
  | { readonly id: number; readonly kind: 'open' }
  | { readonly id: number; readonly kind: 'batch'; readonly steps: readonly BridgeStep[] }
  | { readonly id: number; readonly kind: 'close' };

export interface QueryResult {
  readonly rows: Array<Record<string, unknown>>;
  /** Rows changed (INSERT/UPDATE/DELETE) or returned; 0 for statements without a count. */
  readonly rowCount: number;
  /** Column names in result order (a row object cannot keep two columns of one name; pluck takes the first). */
  readonly fields: string[];
}

/** An error as it crosses the thread boundary. */
export interface BridgeFailure {
  readonly code: ErrorCode;
  readonly message: string;
  /** Plain values only (they become StorageError details). */
  readonly details: Record<string, string | number | boolean | null>;
}

/** A batch answers `results`, one per step (null for a step without rows); a failed batch names the step that failed. */
export type BridgeReply =
  | { readonly id: number; readonly ok: true; readonly result?: QueryResult; readonly results?: ReadonlyArray<QueryResult | null> }
  | { readonly id: number; readonly ok: false; readonly failure: BridgeFailure; readonly failedStep?: number };

/** What the worker is given at start (workerData); the port arrives in the transfer list. */
export interface BridgeWorkerData {
  readonly settings: BridgeSettings;
  readonly signal: SharedArrayBuffer;
  readonly port: MessagePort;
}
