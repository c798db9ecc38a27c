/**
 * The connection pool (docs/protocol.md §4): each request goes to the usable
 * connection with the fewest requests in flight; a new connection is opened,
 * lazily, when none is idle and the pool is below its size. When every
 * connection is at its in-flight limit, requests wait in a bounded queue.
 * Every request has one deadline, from the call to its response (queueing
 * and connecting included): past it the request alone fails with TIMEOUT.
 *
 * Several addresses (appliances serving one keychain): each new connection
 * goes to the next address, in turn, that is not in backoff; connections
 * already open keep serving whichever address they reached.
 *
 * Reconnecting: a connection that fails before any response counts as a
 * failure of its address; after one, no connection is opened to that address
 * until an exponential backoff (BACKOFF_BASE_MS doubling up to
 * BACKOFF_MAX_MS) has passed, so a down server costs one connection attempt
 * per backoff period, never a busy loop. The first response on a connection
 * resets its address's backoff.
 *
 * A request in flight on a connection that dies fails (UNAVAILABLE): the
 * server may have acted on it, and only the caller knows whether it may be
 * sent again. The one exception is a connection that died before its TLS
 * handshake finished: nothing written to it left this process, so its
 * requests go back to the front of the queue when another address can take
 * them, and fail as before when none can. The other: a write sent with an
 * idempotency key under the client's retryWrites (`resendable`): the
 * appliance answers a repeat of the key from its record rather than run it
 * again, so it goes back to the front of the queue once, to a new
 * connection (the next address in turn, or the same one once out of
 * backoff), within its deadline; a second death fails it.
 */
import { StrongroomClientError, unavailable } from './client-error';
import { Connection, ConnectionEvents } from './connection';
import { ResolvedOptions, ResolvedServer } from './options';

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
  /** Sent again once if its connection dies after sending it (a write under an idempotency key). */
  resendable: boolean;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: StrongroomClientError) => void;
  timer: NodeJS.Timeout | null;
  conn: Connection | null;
  id: number;
  settled: boolean;
}

type PoolState = 'open' | 'closing' | 'closed';

/** One appliance address and its own backoff. */
interface Address {
  readonly server: ResolvedServer;
  failures: number;
  backoffTimer: NodeJS.Timeout | null;
}

/** A request whose connection failed before the handshake: it waits for onClose to say where it goes. */
interface Stranded {
  readonly req: QueuedRequest;
  readonly err: StrongroomClientError;
}

export class Pool implements ConnectionEvents {
  private readonly conns: Connection[] = [];
  private readonly queue: QueuedRequest[] = [];
  private readonly addresses: Address[];
  private readonly addressOf = new Map<Connection, Address>();
  private readonly stranded = new Map<Connection, Stranded[]>();
  /** Where the next new connection starts looking (round robin). */
  private nextAddress = 0;
  private state: PoolState = 'open';
  private idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | null = null;
  /** Connections ever opened (for tests and diagnostics). */
  connectionsOpened = 0;

  constructor(private readonly options: ResolvedOptions) {
    this.addresses = options.servers.map((server) => ({ server, failures: 0, backoffTimer: null }));
  }

  /** Connections open or opening now. */
  get size(): number {
    return this.conns.length;
  }

  /** Sends `body` (request JSON without its id) and resolves with the result; `resendable`: once more on a new connection if its own dies after sending it. */
  request(body: string, resendable = false): Promise<unknown> {
    if (this.state !== 'open') return Promise.reject(closedError());
    if (this.queue.length >= MAX_QUEUED_REQUESTS) {
      return Promise.reject(unavailable(`more than ${MAX_QUEUED_REQUESTS} requests are waiting for a connection`, { errorCode: 'QUEUE_FULL', limit: MAX_QUEUED_REQUESTS }));
    }
    return new Promise((resolve, reject) => {
      const req: QueuedRequest = { body, resendable, resolve, reject, timer: null, conn: null, id: 0, settled: false };
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

  onAnswered(conn: Connection): void {
    const address = this.addressOf.get(conn);
    if (address !== undefined) address.failures = 0;
  }

  onClose(conn: Connection, _err: StrongroomClientError, answered: boolean): void {
    const at = this.conns.indexOf(conn);
    if (at >= 0) this.conns.splice(at, 1);
    const address = this.addressOf.get(conn) as Address;
    this.addressOf.delete(conn);
    const stranded = this.stranded.get(conn) ?? [];
    this.stranded.delete(conn);
    if (this.state === 'closed') {
      for (const { req, err } of stranded) this.settle(req, () => req.reject(err));
      return;
    }
    if (!answered && address.backoffTimer === null) this.startBackoff(address);
    const elsewhere = this.canServeWithout(address);
    // Back to the front, in their order: they were the oldest waiting.
    for (const { req, err } of stranded.reverse()) {
      if (elsewhere) {
        req.conn = null;
        this.queue.unshift(req);
      } else this.settle(req, () => req.reject(err));
    }
    this.pump();
  }

  private startBackoff(address: Address): void {
    address.failures += 1;
    address.backoffTimer = setTimeout(() => {
      address.backoffTimer = null;
      this.pump();
    }, backoffDelayMs(address.failures));
  }

  /** Whether a request can go somewhere other than `address` now: an open connection to another address, or another address not in backoff. */
  private canServeWithout(address: Address): boolean {
    if (this.conns.some((conn) => conn.usable && this.addressOf.get(conn) !== address)) return true;
    return this.addresses.some((other) => other !== address && other.backoffTimer === null);
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
    for (const address of this.addresses) {
      if (address.backoffTimer !== null) clearTimeout(address.backoffTimer);
      address.backoffTimer = null;
    }
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

  /** The usable connection with the fewest in flight; a new one when none is idle, the pool has room and an address is out of backoff. */
  private pick(): Connection | null {
    let best: Connection | null = null;
    for (const conn of this.conns) {
      if (conn.usable && conn.inFlight < this.options.maxInFlight && (best === null || conn.inFlight < best.inFlight)) best = conn;
    }
    if ((best === null || best.inFlight > 0) && this.conns.length < this.options.poolSize) {
      const address = this.takeNextAddress();
      if (address !== null) return this.open(address);
    }
    return best;
  }

  /** The next address in turn that is not in backoff, or null when all are. */
  private takeNextAddress(): Address | null {
    for (let step = 0; step < this.addresses.length; step++) {
      const address = this.addresses[(this.nextAddress + step) % this.addresses.length];
      if (address.backoffTimer === null) {
        this.nextAddress = (this.nextAddress + step + 1) % this.addresses.length;
        return address;
      }
    }
    return null;
  }

  private open(address: Address): Connection {
    const conn = new Connection(address.server.tls, this.options.connectTimeoutMs, this);
    this.conns.push(conn);
    this.addressOf.set(conn, address);
    this.connectionsOpened += 1;
    return conn;
  }

  private dispatch(req: QueuedRequest, conn: Connection): void {
    req.conn = conn;
    req.id = conn.send(req.body, {
      resolve: (result) => this.settle(req, () => req.resolve(result)),
      reject: (err) => this.rejected(req, conn, err),
    });
  }

  /**
   * A request failed on `conn`. Before the handshake finished nothing was
   * sent, so it is held for onClose (which the connection calls right after
   * rejecting its requests, once the address's backoff is known) to move it
   * to another address; with a single address it fails at once, as ever.
   */
  private rejected(req: QueuedRequest, conn: Connection, err: StrongroomClientError): void {
    if (conn.reachedServer && req.resendable && err.code === 'UNAVAILABLE' && this.state !== 'closed') {
      // Once: the appliance answers the repeat of its key from the record if the first run committed.
      req.resendable = false;
      req.conn = null;
      this.queue.unshift(req);
      return;
    }
    if (conn.reachedServer || this.addresses.length === 1) {
      this.settle(req, () => req.reject(err));
      return;
    }
    const list = this.stranded.get(conn) ?? [];
    list.push({ req, err });
    this.stranded.set(conn, list);
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
