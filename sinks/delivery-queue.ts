/**
 * One sink's queue: bounded, in order, delivered in batches by one sender at
 * a time, retried with exponential back-off, and paced by a token bucket.
 *
 * - push() never blocks and never throws: the event bus calls it while a key
 *   is being served. When the queue is full the new event is dropped from
 *   THIS sink only and counted (the local chain already holds it, and the
 *   seq gap shows the SIEM what is missing).
 * - A failed batch stays at the head and is sent again after the back-off
 *   (doubling from RETRY_MIN_MS to retryMaxMs): delivery is at least once
 *   and in chain order, so a receiver may see an event twice (same seq and
 *   hash), never out of order.
 * - The rate limit delays delivery; it drops nothing (only the bound does).
 * - Health changes, not attempts, are reported (onHealth): once when
 *   delivery starts failing, once when it works again, with what the
 *   outage cost (failed attempts, events queued and dropped meanwhile), so
 *   a log shows an outage as two lines, not one per retry; and once at
 *   close, if events are left undelivered or the outage never ended.
 *
 * The clock and timers are injected; no module state.
 */
import { Clock } from '../common/clock';
import { Timer, Timers } from '../common/timers';

/** First wait after a failure; doubles up to retryMaxMs. */
export const RETRY_MIN_MS = 100;
/** Most events handed to the sender at once: bounds one write. */
export const MAX_BATCH = 256;
/** Dead slots at the head before the array is compacted (keeps push O(1) amortised). */
const COMPACT_AFTER = 4096;

export interface DeliveryQueueOptions<T> {
  readonly capacity: number;
  readonly ratePerSecond: number | null;
  readonly retryMaxMs: number;
  readonly clock: Clock;
  readonly timers: Timers;
  /**
   * Delivers a batch, in order; rejects if any of it may not have gone. A
   * rejection may say that the first `delivered` items did go (an error with
   * a numeric `delivered`, as an acknowledging transport knows): those count
   * as delivered and only the rest is sent again.
   */
  readonly send: (batch: readonly T[]) => Promise<void>;
  /** Told of each batch delivered, in order (the sink's cursor moves). Must not throw (it is guarded anyway). */
  readonly onDelivered?: (batch: readonly T[]) => void;
  /** Told when delivery starts failing, when it recovers, and at close if anything is left; never once per retry. Must not throw (it is guarded anyway). */
  readonly onHealth?: (change: DeliveryHealthChange) => void;
}

/** What an outage cost, counted from its first failed attempt to the first delivered batch after it. */
export interface DeliveryOutage {
  /** Attempts that failed, the first included. */
  readonly failedAttempts: number;
  /** Events accepted into the queue meanwhile (they wait, then go in order). */
  readonly queuedMeanwhile: number;
  /** Events the full queue dropped meanwhile. */
  readonly droppedMeanwhile: number;
  readonly failingForMs: number;
}

export type DeliveryHealthChange =
  | { readonly state: 'failing'; readonly error: unknown }
  | ({ readonly state: 'recovered' } & DeliveryOutage)
  /** Closed with events not delivered, or in an outage: what the SIEM will never get from this sink. */
  | { readonly state: 'closed'; readonly undelivered: number; readonly stillFailing: boolean };

export interface QueueStats {
  readonly delivered: number;
  readonly queued: number;
  readonly dropped: number;
  readonly retries: number;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
}

export class DeliveryQueue<T> {
  private items: T[] = [];
  private head = 0;
  private sending = false;
  private waiting: Timer | null = null;
  private backoffMs = 0;
  private tokens: number;
  private tokensAtMs: number;
  private closed = false;
  private delivered = 0;
  private dropped = 0;
  private retries = 0;
  private lastError: string | null = null;
  private lastErrorAt: string | null = null;
  private accepted = 0;
  /** The counters when the current outage began (null: delivering fine). */
  private outageStart: { retries: number; accepted: number; dropped: number; atMs: number } | null = null;
  private idleWaiters: Array<() => void> = [];
  private inFlight: T[] = [];

  constructor(private readonly options: DeliveryQueueOptions<T>) {
    this.tokens = this.burst();
    this.tokensAtMs = options.clock.nowMs();
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Free places before the bound. */
  get room(): number {
    return this.closed ? 0 : Math.max(0, this.options.capacity - this.size);
  }

  /** Queues an item; false (and counted) when the queue is full or closed. */
  push(item: T): boolean {
    if (this.closed || this.size >= this.options.capacity) {
      this.dropped++;
      return false;
    }
    this.items.push(item);
    this.accepted++;
    // Sending starts from a timer, never inside the caller's turn.
    if (!this.sending && this.waiting === null) this.wait(0);
    return true;
  }

  stats(): QueueStats {
    return { delivered: this.delivered, queued: this.size, dropped: this.dropped, retries: this.retries, lastError: this.lastError, lastErrorAt: this.lastErrorAt };
  }

  /** Resolves true once everything queued is delivered, false when `timeoutMs` passes first. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.size === 0 && !this.sending) return Promise.resolve(true);
    return new Promise((resolve) => {
      let settled = false;
      const done = (value: boolean): void => {
        if (settled) return;
        settled = true;
        deadline.cancel();
        resolve(value);
      };
      const deadline = this.options.timers.after(timeoutMs, () => done(false));
      this.idleWaiters.push(() => done(true));
    });
  }

  /** Stops sending; what is still queued is counted as dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting?.cancel();
    this.waiting = null;
    const undelivered = this.size;
    this.dropped += undelivered;
    this.items = [];
    this.head = 0;
    if (undelivered > 0 || this.outageStart !== null) this.report({ state: 'closed', undelivered, stillFailing: this.outageStart !== null });
  }

  private burst(): number {
    return Math.max(1, this.options.ratePerSecond ?? 0);
  }

  private wait(ms: number): void {
    this.waiting = this.options.timers.after(ms, () => {
      this.waiting = null;
      this.pump();
    });
  }

  /** How many items the rate limit lets go now (refilling the bucket from the clock). */
  private allowance(): number {
    const rate = this.options.ratePerSecond;
    if (rate === null) return MAX_BATCH;
    const now = this.options.clock.nowMs();
    this.tokens = Math.min(this.burst(), this.tokens + ((now - this.tokensAtMs) * rate) / 1000);
    this.tokensAtMs = now;
    return Math.floor(this.tokens);
  }

  private pump(): void {
    if (this.closed || this.sending || this.waiting !== null) return;
    if (this.size === 0) {
      this.wakeIdle();
      return;
    }
    const allowed = this.allowance();
    if (allowed < 1) {
      const rate = this.options.ratePerSecond as number;
      this.wait(Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / rate)));
      return;
    }
    const count = Math.min(this.size, MAX_BATCH, allowed);
    if (this.options.ratePerSecond !== null) this.tokens -= count;
    const batch = this.items.slice(this.head, this.head + count);
    this.sending = true;
    this.inFlight = batch;
    let sent: Promise<void>;
    try {
      sent = this.options.send(batch);
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      () => this.succeeded(count),
      (err: unknown) => this.failed(err, Math.min(count, deliveredPrefix(err))),
    );
  }

  private succeeded(count: number): void {
    this.sending = false;
    const batch = this.inFlight;
    this.inFlight = [];
    if (this.closed) return;
    this.head += count;
    this.delivered += count;
    try {
      this.options.onDelivered?.(batch);
    } catch {
      // The cursor is saved again at the next batch; delivery goes on.
    }
    this.backoffMs = 0;
    const outage = this.outageStart;
    if (outage !== null) {
      this.outageStart = null;
      this.report({
        state: 'recovered',
        failedAttempts: this.retries - outage.retries,
        queuedMeanwhile: this.accepted - outage.accepted,
        droppedMeanwhile: this.dropped - outage.dropped,
        failingForMs: this.options.clock.nowMs() - outage.atMs,
      });
    }
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.pump();
  }

  private failed(err: unknown, deliveredHead: number): void {
    this.sending = false;
    const batch = this.inFlight;
    this.inFlight = [];
    if (this.closed) return;
    if (deliveredHead > 0) {
      // Acknowledged before the failure: the cursor moves past them and they are not sent again.
      this.head += deliveredHead;
      this.delivered += deliveredHead;
      try {
        this.options.onDelivered?.(batch.slice(0, deliveredHead));
      } catch {
        // As in succeeded(): the cursor is saved at the next batch.
      }
      // Progress was made: the rest is tried again soon, not after a long back-off.
      this.backoffMs = 0;
    }
    if (this.outageStart === null) {
      this.outageStart = { retries: this.retries, accepted: this.accepted, dropped: this.dropped, atMs: this.options.clock.nowMs() };
      this.report({ state: 'failing', error: err });
    }
    this.retries++;
    this.lastError = describeError(err);
    this.lastErrorAt = new Date(this.options.clock.nowMs()).toISOString();
    this.backoffMs = this.backoffMs === 0 ? RETRY_MIN_MS : Math.min(this.backoffMs * 2, this.options.retryMaxMs);
    this.wait(Math.min(this.backoffMs, this.options.retryMaxMs));
  }

  /** A reporting failure must not stop delivery. */
  private report(change: DeliveryHealthChange): void {
    try {
      this.options.onHealth?.(change);
    } catch {
      // The report is for humans; delivery goes on without it.
    }
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** How many items at the head of a failed batch a transport says did go (0 unless it says). */
function deliveredPrefix(err: unknown): number {
  const delivered = (err as { delivered?: unknown } | null)?.delivered;
  return typeof delivered === 'number' && Number.isInteger(delivered) && delivered > 0 ? delivered : 0;
}

/** A short description of a delivery failure: its code and message (never payload bytes: sockets report none). */
export function describeError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
