/**
 * The connection pool (docs/protocol.md §4): each request goes to the usable
 * connection with the fewest requests in flight; a new connection is opened,
 * lazily, when none is idle and the pool is below its size. When every
 * connection is at its in-flight limit, requests wait in a bounded queue.
 * Every request has one deadline, from the call to its response (queueing
 * and connecting included): past it the request alone fails with TIMEOUT.
 *
 * Reconnecting: a connection that fails before any response counts as a
 * failure; after one, no connection is opened until an exponential backoff
 * (BACKOFF_BASE_MS doubling up to BACKOFF_MAX_MS) has passed, so a down
 * server costs one connection attempt per backoff period, never a busy loop.
 * The first response on a connection resets the backoff.
 */
import { StrongroomClientError, unavailable } from './client-error';
import { Connection, ConnectionEvents } from './connection';
import { ResolvedOptions } from './options';

/** Most requests waiting for a connection slot: a caller outrunning the server gets an error, not unbounded memory. */
export const MAX_QUEUED_REQUESTS = 10_000;
/** First reconnect delay after a failed connection. */
export const BACKOFF_BASE_MS = 50;
/** Longest reconnect delay: a server back from a restart is found within this. */
export const BACKOFF_MAX_MS = 2_000;

export function backoffDelayMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(Math.max(failures - 1, 0), 16));
}

interface QueuedRequest {
  readonly body: string;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: StrongroomClientError) => void;
  timer: NodeJS.Timeout | null;
  conn: Connection | null;
  id: number;
  settled: boolean;
}

type PoolState = 'open' | 'closing' | 'closed';

export class Pool implements ConnectionEvents {
  private readonly conns: Connection[] = [];
  private readonly queue: QueuedRequest[] = [];
  private failures = 0;
  private backoffTimer: NodeJS.Timeout | null = null;
  private state: PoolState = 'open';
  private idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | null = null;
  /** Connections ever opened (for tests and diagnostics). */
  connectionsOpened = 0;

  constructor(private readonly options: ResolvedOptions) {}

  /** Connections open or opening now. */
  get size(): number {
    return this.conns.length;
  }

  /** Sends `body` (request JSON without its id) and resolves with the result. */
  request(body: string): Promise<unknown> {
    if (this.state !== 'open') return Promise.reject(closedError());
    if (this.queue.length >= MAX_QUEUED_REQUESTS) {
      return Promise.reject(unavailable(`more than ${MAX_QUEUED_REQUESTS} requests are waiting for a connection`, { errorCode: 'QUEUE_FULL', limit: MAX_QUEUED_REQUESTS }));
    }
    return new Promise((resolve, reject) => {
      const req: QueuedRequest = { body, resolve, reject, timer: null, conn: null, id: 0, settled: false };
      req.timer = setTimeout(() => this.timeout(req), this.options.requestTimeoutMs);
      this.queue.push(req);
      this.pump();
    });
  }

  /** Stops taking requests, waits up to `graceMs` for those in flight or queued, then ends every connection. */
  close(graceMs: number): Promise<void> {
    if (this.closing === null) this.closing = this.state === 'open' ? this.drainThenFinish(graceMs) : this.finish(closedError());
    return this.closing;
  }

  private async drainThenFinish(graceMs: number): Promise<void> {
    this.state = 'closing';
    let grace: NodeJS.Timeout | null = null;
    await Promise.race([
      new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        this.checkIdle();
      }),
      new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs))),
    ]);
    if (grace !== null) clearTimeout(grace);
    await this.finish(closedError());
  }

  /** Immediately: every queued and pending request rejects with UNAVAILABLE, every socket is destroyed. */
  destroy(): void {
    this.state = 'closed';
    this.clearBackoff();
    const err = unavailable('the client was destroyed', { errorCode: 'CLIENT_DESTROYED' });
    for (const req of this.queue.splice(0)) this.settle(req, () => req.reject(err));
    for (const conn of [...this.conns]) conn.fail(err);
  }

  onSlotFree(): void {
    this.pump();
  }

  onAnswered(): void {
    this.failures = 0;
  }

  onClose(conn: Connection, _err: StrongroomClientError, answered: boolean): void {
    const at = this.conns.indexOf(conn);
    if (at >= 0) this.conns.splice(at, 1);
    if (this.state === 'closed') return;
    if (!answered && this.backoffTimer === null) {
      this.failures += 1;
      const delay = backoffDelayMs(this.failures);
      this.backoffTimer = setTimeout(() => {
        this.backoffTimer = null;
        this.pump();
      }, delay);
    }
    this.pump();
  }

  private async finish(err: StrongroomClientError): Promise<void> {
    this.state = 'closed';
    this.clearBackoff();
    for (const req of this.queue.splice(0)) this.settle(req, () => req.reject(err));
    const conns = [...this.conns];
    for (const conn of conns) if (conn.inFlight > 0) conn.fail(err);
    await Promise.all(conns.map((conn) => conn.end()));
  }

  private clearBackoff(): void {
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
  }

  private pump(): void {
    if (this.state === 'closed') return;
    while (this.queue.length > 0) {
      const conn = this.pick();
      if (conn === null) break;
      this.dispatch(this.queue.shift() as QueuedRequest, conn);
    }
    this.checkIdle();
  }

  /** The usable connection with the fewest in flight; a new one when none is idle and the pool has room and no backoff runs. */
  private pick(): Connection | null {
    let best: Connection | null = null;
    for (const conn of this.conns) {
      if (conn.usable && conn.inFlight < this.options.maxInFlight && (best === null || conn.inFlight < best.inFlight)) best = conn;
    }
    if ((best === null || best.inFlight > 0) && this.conns.length < this.options.poolSize && this.backoffTimer === null) {
      const conn = new Connection(this.options.tls, this.options.connectTimeoutMs, this);
      this.conns.push(conn);
      this.connectionsOpened += 1;
      return conn;
    }
    return best;
  }

  private dispatch(req: QueuedRequest, conn: Connection): void {
    req.conn = conn;
    req.id = conn.send(req.body, {
      resolve: (result) => this.settle(req, () => req.resolve(result)),
      reject: (err) => this.settle(req, () => req.reject(err)),
    });
  }

  private timeout(req: QueuedRequest): void {
    if (req.settled) return;
    if (req.conn !== null) req.conn.abandon(req.id);
    else {
      const at = this.queue.indexOf(req);
      if (at >= 0) this.queue.splice(at, 1);
    }
    const err = new StrongroomClientError('TIMEOUT', `no response within ${this.options.requestTimeoutMs} ms`, { details: { timeoutMs: this.options.requestTimeoutMs } });
    this.settle(req, () => req.reject(err));
    this.pump();
  }

  private settle(req: QueuedRequest, action: () => void): void {
    if (req.settled) return;
    req.settled = true;
    if (req.timer !== null) clearTimeout(req.timer);
    req.timer = null;
    action();
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || this.queue.length > 0 || this.conns.some((c) => c.inFlight > 0)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function closedError(): StrongroomClientError {
  return unavailable('the client is closed', { errorCode: 'CLIENT_CLOSED' });
}
