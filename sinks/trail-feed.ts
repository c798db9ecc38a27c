/**
 * What one sink is fed, in chain order, without a gap: its spool is the
 * audit trail itself. The trail is already a durable, hash-chained,
 * append-only store on disk, so a sink keeps no second copy of the events:
 * it keeps a position (`nextSeq`, the first event it has not yet taken) and
 * an in-memory window of at most `queue` events on their way out.
 *
 * - Live events from the bus are taken while the sink keeps up (the next
 *   seq, room in its window). When it falls behind (the SIEM is down or
 *   slow, the window is full, another process appended, the server just
 *   started), the bus is ignored and the events are read back from the trail
 *   in batches as the window drains, until the sink has caught up.
 * - The bound: a sink may fall at most `spool` events behind the trail's
 *   head (beyond its window). Past it the oldest events are skipped for
 *   this sink only, down to 90% of the bound (so the `sink-dropped` event
 *   that reports it cannot itself trigger the next drop), counted, and
 *   reported through onDropped with the exact range of seqs.
 * - position() is what the cursor saves: every event up to it was
 *   delivered or was not for this sink (filters).
 *
 * Without a trail (unit tests that give none) the window is all there is:
 * a full window drops the new event and counts it, as before spooling.
 */
import { Timers } from '../common/timers';
import { AuditLiveEvent } from '../domain/events/event-bus';
import { CursorPosition } from './sink-cursor';

/** Most events read from the trail at once. */
export const TRAIL_READ_BATCH = 256;
/** A trail read that failed (the database busy) is tried again after this. */
export const TRAIL_RETRY_MS = 1_000;
/** Most reads per refill turn (filtered-out events take no room): the rest waits for the next turn. */
const READS_PER_TURN = 8;

/** The trail as a sink reads it. Reads may throw (the database busy): the sink stays behind and tries again later. */
export interface AuditHistory {
  /** The last seq in the trail now (0: empty). */
  headSeq(): number;
  /** Up to `limit` records from `fromSeq` on, as live events. */
  read(fromSeq: number, limit: number): AuditLiveEvent[];
}

/** Events a sink skipped at its spool bound: seqs fromSeq..toSeq of the trail. */
export interface SpoolDrop {
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly count: number;
}

/** The sink's side of the window (its DeliveryQueue, seen through what the feed needs). */
export interface FeedWindow {
  /** Free places in the window. */
  readonly room: number;
  /** Events in the window (sending or waiting). */
  readonly size: number;
  push(live: AuditLiveEvent): boolean;
}

export interface TrailFeedOptions {
  readonly window: FeedWindow;
  readonly accepts: (live: AuditLiveEvent) => boolean;
  readonly trail: AuditHistory | null;
  /** Most events the sink may fall behind beyond its window. */
  readonly spool: number;
  readonly timers: Timers;
  readonly onDropped: (drop: SpoolDrop) => void;
  /** The position moved (delivered or filtered): time to save the cursor soon. */
  readonly onAdvanced: () => void;
}

export class TrailFeed {
  private started = false;
  private nextSeq = 0;
  /** Hex hash of event nextSeq - 1 ('' before the first event; null: not known yet). */
  private lastHash: string | null = null;
  /** Last event delivered (or the start position). */
  private delivered: CursorPosition | null = null;
  private behind = false;
  private refillTimer: { cancel(): void } | null = null;
  private closed = false;
  private knownHead = 0;
  private droppedCount = 0;
  private frozen: CursorPosition | null = null;

  constructor(private readonly options: TrailFeedOptions) {}

  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * Starts feeding after `position` (null: no trusted position; the oldest
   * event the spool bound allows, or only new events when `fromHead`).
   */
  start(position: CursorPosition | null, fromHead = false): void {
    if (this.started || this.closed) return;
    const trail = this.options.trail;
    const head = trail === null ? 0 : safe(() => trail.headSeq(), 0);
    this.knownHead = head;
    if (position !== null) {
      this.nextSeq = position.seq + 1;
      this.lastHash = position.hash.toString('hex');
    } else {
      this.nextSeq = fromHead ? head + 1 : Math.max(1, head - this.options.spool + 1);
      this.lastHash = this.nextSeq === 1 ? '' : this.hashAt(this.nextSeq - 1);
    }
    this.delivered = this.lastHash === null ? null : { seq: this.nextSeq - 1, hash: Buffer.from(this.lastHash, 'hex') };
    this.started = true;
    this.behind = trail !== null;
    this.enforceBound(head);
    this.scheduleRefill();
  }

  /** A live event from the bus. Never throws, never reads the trail in the publisher's turn (but at a drop). */
  offer(live: AuditLiveEvent): void {
    if (!this.started || this.closed || live.seq < this.nextSeq) return;
    if (live.seq > this.knownHead) this.knownHead = live.seq;
    if (this.options.trail === null) {
      // No trail to come back to: a full window drops (and the queue counts it).
      this.take(live);
      return;
    }
    if (this.behind || live.seq > this.nextSeq || this.options.window.room === 0) {
      this.behind = true;
      this.enforceBound(live.seq);
      // A full window refills when a batch goes out (deliveredBatch): no trail read per event during an outage.
      if (this.options.window.room > 0) this.scheduleRefill();
      return;
    }
    this.take(live);
  }

  /** A batch went out: the position moves, and a sink behind reads on. */
  deliveredBatch(batch: readonly AuditLiveEvent[]): void {
    const last = batch[batch.length - 1];
    if (last !== undefined) this.delivered = { seq: last.seq, hash: Buffer.from(last.hash, 'hex') };
    this.options.onAdvanced();
    if (this.behind) this.scheduleRefill();
  }

  /** Every event up to here reached the sink or was not for it (null: not started). */
  position(): CursorPosition | null {
    if (this.closed) return this.frozen;
    if (!this.started) return null;
    if (this.options.window.size === 0 && this.lastHash !== null) return { seq: this.nextSeq - 1, hash: Buffer.from(this.lastHash, 'hex') };
    return this.delivered;
  }

  /** Events of the trail this sink has not had yet (in its window or on disk), as far as it knows the head. */
  backlog(): number {
    if (!this.started) return 0;
    // What waits on disk, plus what waits in the window (not the seqs skipped at the bound between them).
    return Math.max(0, this.knownHead - (this.nextSeq - 1)) + this.options.window.size;
  }

  /** True once every event up to the head it knows is delivered. */
  caughtUp(): boolean {
    return this.started && !this.behind && this.options.window.size === 0;
  }

  /** Stops feeding; the position is kept as it is now (the window may be emptied after). */
  close(): void {
    if (this.closed) return;
    this.frozen = this.position();
    this.closed = true;
    this.refillTimer?.cancel();
    this.refillTimer = null;
  }

  private take(live: AuditLiveEvent): void {
    this.nextSeq = live.seq + 1;
    this.lastHash = live.hash;
    if (this.options.accepts(live)) this.options.window.push(live);
    else this.options.onAdvanced();
  }

  private scheduleRefill(delayMs = 0): void {
    if (this.refillTimer !== null || this.closed || this.options.trail === null) return;
    this.refillTimer = this.options.timers.after(delayMs, () => {
      this.refillTimer = null;
      this.refill();
    });
  }

  /** Reads from the trail into the window while there is room. */
  private refill(): void {
    const trail = this.options.trail;
    if (!this.started || this.closed || trail === null || !this.behind) return;
    const head = safe(() => trail.headSeq(), null);
    if (head === null) return this.scheduleRefill(TRAIL_RETRY_MS);
    if (head > this.knownHead) this.knownHead = head;
    this.enforceBound(head);
    for (let reads = 0; reads < READS_PER_TURN && this.options.window.room > 0 && this.nextSeq <= head; reads++) {
      const records = safe(() => trail.read(this.nextSeq, Math.min(this.options.window.room, TRAIL_READ_BATCH)), null);
      // A failed read, or a trail that skips a seq (the chain verifier's to report): read again later.
      if (records === null || records.length === 0 || records[0].seq !== this.nextSeq) return this.scheduleRefill(TRAIL_RETRY_MS);
      for (const live of records) {
        if (live.seq !== this.nextSeq) return this.scheduleRefill(TRAIL_RETRY_MS);
        this.take(live);
      }
    }
    if (this.nextSeq > head) this.behind = false;
    else if (this.options.window.room > 0) this.scheduleRefill();
  }

  /** Skips the oldest events beyond the spool bound (down to 90% of it), counted and reported. */
  private enforceBound(head: number): void {
    const onDisk = head - this.nextSeq + 1;
    if (this.options.trail === null || onDisk <= this.options.spool) return;
    const keep = this.options.spool - Math.max(1, Math.floor(this.options.spool / 10));
    const fromSeq = this.nextSeq;
    const newNext = head - keep + 1;
    this.nextSeq = newNext;
    this.lastHash = this.hashAt(newNext - 1);
    this.droppedCount += newNext - fromSeq;
    this.options.onDropped({ fromSeq, toSeq: newNext - 1, count: newNext - fromSeq });
  }

  private hashAt(seq: number): string | null {
    const trail = this.options.trail;
    if (trail === null) return null;
    const [record] = safe(() => trail.read(seq, 1), []);
    return record?.seq === seq ? record.hash : null;
  }
}

function safe<T, F>(read: () => T, fallback: F): T | F {
  try {
    return read();
  } catch {
    return fallback;
  }
}
