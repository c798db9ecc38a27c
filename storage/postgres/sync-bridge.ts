/**
 * The synchronous bridge to PostgreSQL, main-thread side. The storage ports
 * are synchronous (better-sqlite3 shaped: a transaction is a synchronous
 * function), so this side posts each request to a worker thread that owns
 * the node-postgres connection (bridge-worker.ts, bridge-core.ts) and blocks
 * the calling thread in Atomics.wait until the worker signals its reply,
 * which it then takes with receiveMessageOnPort. The calling thread does
 * nothing else meanwhile: a transaction's statements never interleave with
 * another request's, which keeps SQLite's model; the cost is that the event
 * loop waits for every round trip (docs/cluster.md, "Storage on PostgreSQL").
 *
 * Every call is bounded twice: by the worker's own deadlines (statement,
 * writer lock, finding the primary), and here by a backstop a little longer
 * than all of them together. Should the backstop pass (a worker wedged or
 * dead), the worker is terminated — its connection closes, so the server
 * rolls back whatever was open — and the next call starts a new one.
 * Replies carry the request's id: one that comes back late is dropped.
 *
 * Each exchange blocks the event loop, so what needs no answer of its own
 * waits for the next one (docs/cluster/bridge.md, "Round trips per request"):
 * BEGIN goes with the transaction's first statement, savepoints and deferred
 * writes and checks go ahead of the next request, and the worker runs such a
 * batch step by step, stopping at the first failure.
 */
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { Clock, systemClock } from '../../common/clock';
import { StorageError } from '../../common/errors';
import { workerScript } from '../audit-worker/worker-script';
import {
  BridgeFailure,
  BridgeReply,
  BridgeRequest,
  BridgeSettings,
  BridgeStep,
  BridgeWorkerData,
  DEFAULT_BRIDGE_SETTINGS,
  QueryResult,
  REPLY_COUNTER,
  SIGNAL_BYTES,
} from './bridge-protocol';

/** Requests as the caller makes them; the bridge adds the id. */
type Request = BridgeRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** How much longer than the worker's own bounds the main thread waits before giving up on the worker. */
const BACKSTOP_MARGIN_MS = 5_000;
/** Wake-ups one call may take (each either its reply, a late reply dropped, or a spurious wake). */
const MAX_WAKEUPS = 10_000;

export type SyncBridgeOptions = Partial<Omit<BridgeSettings, 'target' | 'credentials'>> & Pick<BridgeSettings, 'target' | 'credentials'>;

export class SyncBridge {
  readonly settings: BridgeSettings;
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private counter: Int32Array | null = null;
  private nextId = 1;
  /** Mirrors the worker's transaction depth (0: none), counting a BEGIN not yet sent. */
  private depth = 0;
  /** The open transaction's BEGIN, until its first exchange carries it. */
  private pendingBegin: BridgeStep | null = null;
  /** Writes waiting for the next exchange (deferWrite). */
  private deferred: BridgeStep[] = [];
  private closed = false;

  private constructor(options: SyncBridgeOptions, private readonly clock: Clock) {
    this.settings = { ...DEFAULT_BRIDGE_SETTINGS, ...options };
  }

  /** Starts the worker and connects (finds the primary, checks it is writable); throws the mapped StorageError if it cannot. */
  static open(options: SyncBridgeOptions, clock: Clock = systemClock): SyncBridge {
    const bridge = new SyncBridge(options, clock);
    try {
      bridge.call({ kind: 'open' });
    } catch (err) {
      bridge.close();
      throw err;
    }
    return bridge;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /** Savepoints open inside the transaction (0 at its top level). */
  get savepointDepth(): number {
    return Math.max(0, this.depth - 1);
  }

  /** One statement with `$n` parameters. Buffers come back as Buffers (bytea). */
  query(sql: string, params: readonly unknown[] = []): QueryResult {
    const results = this.send([{ kind: 'query', sql, params }]);
    return taken(results[results.length - 1]);
  }

  /**
   * Several statements in one exchange, run in order, each seeing what the
   * ones before it did; all their results. For reads (and writes) of which
   * none needs another's answer: the event loop blocks once instead of once each.
   */
  queries(statements: ReadonlyArray<{ readonly sql: string; readonly params?: readonly unknown[] }>): QueryResult[] {
    const results = this.send(statements.map(({ sql, params = [] }) => ({ kind: 'query', sql, params }) as const));
    return results.slice(results.length - statements.length).map(taken);
  }

  /**
   * A write whose answer nobody reads (no row count, no rows), inside the
   * open transaction: it is sent with the next exchange, ahead of what that
   * exchange asks (at the latest with the COMMIT), so it costs no round trip
   * of its own. Its order among the transaction's statements is kept; should
   * it fail, that next exchange fails with its error and nothing it carried
   * after it runs, and a COMMIT it rode with rolls the transaction back.
   * Dropped unsent when the transaction (or the savepoint it came after) is
   * rolled back, which would have undone it anyway.
   */
  deferWrite(sql: string, params: readonly unknown[] = []): void {
    if (this.depth === 0) throw new StorageError('STORAGE_ERROR', 'keychain store: a deferred write needs an open transaction');
    // The bytes as they are now, as a write sent now would take them: the caller may reuse or wipe its buffers once this returns.
    this.deferred.push({ kind: 'query', sql, params: params.map((value) => (ArrayBuffer.isView(value) ? Buffer.from(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength)) : value)) });
  }

  /**
   * A read whose answer only has to be checked, inside the open transaction:
   * it goes with the next exchange like a deferred write, and the worker
   * checks that its first row's first column is `firstValue` before it runs
   * the steps after it; if not, that exchange fails with `code` and
   * `message`, nothing after it runs, and a COMMIT in it is not made.
   */
  deferCheck(sql: string, firstValue: number, failure: { readonly code: BridgeFailure['code']; readonly message: string }): void {
    if (this.depth === 0) throw new StorageError('STORAGE_ERROR', 'keychain store: a deferred check needs an open transaction');
    this.deferred.push({ kind: 'query', sql, params: [], expect: { firstValue, failure: { ...failure, details: { operation: 'check' } } } });
  }

  /**
   * BEGIN; a write transaction also takes the cluster's writer lock
   * (STORAGE_BUSY if it cannot within writerLockTimeoutMs). Sent with the
   * transaction's first statement, not on its own: the lock is then held
   * from that statement on, and a transaction that sends nothing costs nothing.
   */
  begin(write = true): void {
    if (this.depth > 0) throw new StorageError('STORAGE_ERROR', 'keychain store: begin: a transaction is already open on this bridge (nest with a savepoint)', { details: { operation: 'begin' } });
    this.assertOpen();
    this.pendingBegin = { kind: 'begin', write };
    this.depth = 1;
  }

  commit(): void {
    try {
      // Nothing reached the server: there is nothing to commit, and no lock was taken.
      if (this.pendingBegin !== null && this.deferred.length === 0) return;
      this.send([{ kind: 'commit' }]);
    } finally {
      // The worker ends the transaction whatever COMMIT answered (a batch that failed before it rolls back).
      this.endTransaction();
    }
  }

  rollback(): void {
    const sent = this.pendingBegin === null;
    this.deferred = [];
    try {
      if (sent && this.depth > 0) this.send([{ kind: 'rollback' }]);
    } finally {
      this.endTransaction();
    }
  }

  /**
   * SAVEPOINT, RELEASE and ROLLBACK TO answer nothing the caller reads, so
   * they wait for the next exchange like deferred writes: a savepoint that
   * is released (or rolled back to) before anything was sent never reaches
   * the server at all, and the rest ride with the next statement.
   */
  savepoint(name: string): void {
    if (this.depth === 0) throw new StorageError('STORAGE_ERROR', 'keychain store: savepoint: no transaction is open', { details: { operation: 'savepoint' } });
    this.deferred.push({ kind: 'savepoint', name });
    this.depth++;
  }

  release(name: string): void {
    this.needSavepoint('release');
    const unsent = this.unsentSavepoint(name);
    // Not yet sent: releasing it only merges its statements into the enclosing level, where they already are.
    if (unsent >= 0) this.deferred.splice(unsent, 1);
    else this.deferred.push({ kind: 'release', name });
    this.depth--;
  }

  rollbackTo(name: string): void {
    this.needSavepoint('rollbackTo');
    const unsent = this.unsentSavepoint(name);
    if (unsent >= 0) {
      // The savepoint and all after it never left: dropping them is the whole undo.
      this.deferred.splice(unsent);
      this.depth--;
      return;
    }
    // Every deferred step came after the savepoint (which was sent): this undoes them, so they are dropped unsent.
    this.deferred = [];
    this.send([{ kind: 'rollbackTo', name }]);
    this.depth--;
  }

  private needSavepoint(operation: string): void {
    if (this.depth < 2) throw new StorageError('STORAGE_ERROR', `keychain store: ${operation}: no savepoint is open`, { details: { operation } });
  }

  /** Where the last SAVEPOINT `name` still waits in the deferred steps, or -1 once it was sent. */
  private unsentSavepoint(name: string): number {
    for (let at = this.deferred.length - 1; at >= 0; at--) {
      const step = this.deferred[at];
      if (step.kind === 'savepoint' && step.name === name) return at;
    }
    return -1;
  }

  /** Closes the connection and ends the worker; harmless twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.worker !== null) {
      try {
        this.exchange({ kind: 'close' }, this.settings.connectTimeoutMs + BACKSTOP_MARGIN_MS);
      } catch {
        // Closing anyway: terminating the worker closes its socket.
      }
      this.abandonWorker();
    }
  }

  /**
   * `steps` in one exchange, preceded by what is waiting to go (the
   * transaction's BEGIN, deferred writes); their results, one per step sent.
   */
  private send(steps: BridgeStep[]): Array<QueryResult | null> {
    this.assertOpen();
    const all: BridgeStep[] = [...(this.pendingBegin === null ? [] : [this.pendingBegin]), ...this.deferred, ...steps];
    const beganHere = this.pendingBegin !== null;
    const firstOwn = all.length - steps.length;
    this.pendingBegin = null;
    this.deferred = [];
    if (all.length === 1) return [this.call(all[0] as Request) ?? null];
    const s = this.settings;
    const backstop = s.statementTimeoutMs * all.length + s.writerLockTimeoutMs + s.findPrimaryTimeoutMs + s.connectTimeoutMs + BACKSTOP_MARGIN_MS;
    const reply = this.exchange({ kind: 'batch', steps: all }, backstop);
    if (reply.ok) return [...(reply.results ?? [])];
    // A BEGIN that failed (its lock wait, its connection) left no transaction open in the worker.
    if (beganHere && reply.failedStep === 0) this.depth = 0;
    const failed = reply.failedStep ?? firstOwn;
    const failedStep = all[failed];
    if (failed >= (beganHere ? 1 : 0) && failed < firstOwn && !(failedStep?.kind === 'query' && failedStep.expect !== undefined)) {
      // What failed is an earlier write of this transaction that waited for this exchange: say so, not just where it surfaced.
      const { code, message, details } = reply.failure;
      throw new StorageError(code, message.replace(/^keychain store: /, 'keychain store: a deferred write of this transaction failed: '), { details: { ...details, deferred: true } });
    }
    throw new StorageError(reply.failure.code, reply.failure.message, { details: reply.failure.details });
  }

  private call(req: Request): QueryResult | undefined {
    this.assertOpen();
    const s = this.settings;
    const backstop = s.statementTimeoutMs + s.writerLockTimeoutMs + s.findPrimaryTimeoutMs + s.connectTimeoutMs + BACKSTOP_MARGIN_MS;
    const reply = this.exchange(req, backstop);
    if (reply.ok) return reply.result;
    if (req.kind === 'begin') this.depth = 0;
    throw new StorageError(reply.failure.code, reply.failure.message, { details: reply.failure.details });
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('STORAGE_ERROR', 'keychain store: the PostgreSQL bridge is closed');
  }

  private endTransaction(): void {
    this.depth = 0;
    this.pendingBegin = null;
    this.deferred = [];
  }

  /** Posts one request and blocks until its reply, or throws when the backstop passes. */
  private exchange(req: Request, backstopMs: number): BridgeReply {
    const { port, counter } = this.ensureWorker();
    const id = this.nextId++;
    let seen = Atomics.load(counter, REPLY_COUNTER);
    port.postMessage({ ...req, id });
    const deadline = this.clock.nowMs() + backstopMs;
    for (let wake = 0; wake < MAX_WAKEUPS; wake++) {
      for (let message = receiveMessageOnPort(port); message !== undefined; message = receiveMessageOnPort(port)) {
        const reply = message.message as BridgeReply;
        if (reply.id === id) return reply;
        // A reply to a call that gave up earlier: not ours, dropped.
      }
      const left = deadline - this.clock.nowMs();
      if (left <= 0) break;
      Atomics.wait(counter, REPLY_COUNTER, seen, left);
      seen = Atomics.load(counter, REPLY_COUNTER);
    }
    // The worker did not answer within every bound it has: it is wedged or dead.
    this.abandonWorker();
    const wasTransaction = this.depth > 0;
    this.endTransaction();
    const commits = req.kind === 'commit' || (req.kind === 'batch' && req.steps.some((step) => step.kind === 'commit'));
    const code = commits ? 'STORAGE_COMMIT_UNKNOWN' : 'STORAGE_UNAVAILABLE';
    throw new StorageError(code, `keychain store: ${req.kind} got no answer from the PostgreSQL bridge within ${backstopMs} ms; its connection was closed${wasTransaction ? ' (the open transaction is rolled back by the server' + (code === 'STORAGE_COMMIT_UNKNOWN' ? ' unless its COMMIT had already landed' : '') + ')' : ''}; the next call starts again`, {
      details: { operation: req.kind, backstopMs },
    });
  }

  private ensureWorker(): { port: MessagePort; counter: Int32Array } {
    if (this.worker !== null && this.port !== null && this.counter !== null) return { port: this.port, counter: this.counter };
    const signal = new SharedArrayBuffer(SIGNAL_BYTES);
    const { port1, port2 } = new MessageChannel();
    const data: BridgeWorkerData = { settings: this.settings, signal, port: port2 };
    const worker = new Worker(workerScript(__dirname, 'bridge-worker.js'), { workerData: data, transferList: [port2] });
    // The bridge's owner decides when the process ends, not this thread.
    worker.unref();
    // An 'error' event unheard would end the process; the next call's backstop reports the dead worker.
    worker.on('error', () => undefined);
    this.worker = worker;
    this.port = port1;
    this.counter = new Int32Array(signal);
    return { port: port1, counter: this.counter };
  }

  private abandonWorker(): void {
    const worker = this.worker;
    this.port?.close();
    this.worker = null;
    this.port = null;
    this.counter = null;
    if (worker !== null) void worker.terminate().catch(() => undefined);
  }
}

/** A bytea arrives as a Uint8Array (structured clone drops Buffer's prototype): hand back a Buffer over the same bytes. */
function fromWire(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return value;
}

/** A query's result as the caller takes it: bytea as Buffers. */
function taken(result: QueryResult | null | undefined): QueryResult {
  if (result === null || result === undefined) throw new StorageError('STORAGE_ERROR', 'keychain store: the bridge answered a query without a result');
  for (const row of result.rows) for (const name of Object.keys(row)) row[name] = fromWire(row[name]);
  return result;
}
