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
 */
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { Clock, systemClock } from '../../common/clock';
import { StorageError } from '../../common/errors';
import { workerScript } from '../audit-worker/worker-script';
import {
  BridgeReply,
  BridgeRequest,
  BridgeSettings,
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
  /** Mirrors the worker's transaction depth (0: none). */
  private depth = 0;
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
    const result = this.call({ kind: 'query', sql, params });
    if (result === undefined) throw new StorageError('STORAGE_ERROR', 'keychain store: the bridge answered a query without a result');
    for (const row of result.rows) for (const name of Object.keys(row)) row[name] = fromWire(row[name]);
    return result;
  }

  /** BEGIN; a write transaction also takes the cluster's writer lock (STORAGE_BUSY if it cannot within writerLockTimeoutMs). */
  begin(write = true): void {
    this.call({ kind: 'begin', write });
    this.depth = 1;
  }

  commit(): void {
    try {
      this.call({ kind: 'commit' });
    } finally {
      // The worker ends the transaction whatever COMMIT answered.
      this.depth = 0;
    }
  }

  rollback(): void {
    try {
      this.call({ kind: 'rollback' });
    } finally {
      this.depth = 0;
    }
  }

  savepoint(name: string): void {
    this.call({ kind: 'savepoint', name });
    this.depth++;
  }

  release(name: string): void {
    this.call({ kind: 'release', name });
    this.depth--;
  }

  rollbackTo(name: string): void {
    this.call({ kind: 'rollbackTo', name });
    this.depth--;
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

  private call(req: Request): QueryResult | undefined {
    if (this.closed) throw new StorageError('STORAGE_ERROR', 'keychain store: the PostgreSQL bridge is closed');
    const s = this.settings;
    const backstop = s.statementTimeoutMs + s.writerLockTimeoutMs + s.findPrimaryTimeoutMs + s.connectTimeoutMs + BACKSTOP_MARGIN_MS;
    const reply = this.exchange(req, backstop);
    if (reply.ok) return reply.result;
    throw new StorageError(reply.failure.code, reply.failure.message, { details: reply.failure.details });
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
    this.depth = 0;
    const code = req.kind === 'commit' ? 'STORAGE_COMMIT_UNKNOWN' : 'STORAGE_UNAVAILABLE';
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
