/**
 * Per-client request rate limit: a token bucket per client name, shared by
 * all of that client's connections, refilled from the injected clock. A
 * client that opens more connections does not get more rate.
 */
import { Clock } from './clock';

/** Buckets idle this long are forgotten, so the map never grows with past clients. */
const IDLE_BUCKET_MS = 10 * 60 * 1000;
/** Most buckets kept; beyond it the stalest are dropped (each is a full bucket when recreated). */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly clock: Clock, private readonly perSecond: number, private readonly burst: number = perSecond) {}

  /**
   * 0 when the request may go ahead (`cost` tokens are taken); else the
   * milliseconds until they are free. A cost above the burst is charged as
   * the burst (so it can ever be paid). `alreadyPaid`: tokens this request
   * took earlier (a frame pays one before it is decoded, then the rest of
   * its cost once its Batch items are counted), deducted from what is due.
   */
  take(client: string, cost = 1, alreadyPaid = 0): number {
    const now = this.clock.nowMs();
    let bucket = this.buckets.get(client);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.sweep(now);
      bucket = { tokens: this.burst, updatedMs: now };
      this.buckets.set(client, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedMs) * this.perSecond) / 1000);
      bucket.updatedMs = now;
    }
    const needed = Math.max(0, Math.min(cost, this.burst) - alreadyPaid);
    if (bucket.tokens >= needed) {
      bucket.tokens -= needed;
      return 0;
    }
    return Math.ceil(((needed - bucket.tokens) * 1000) / this.perSecond);
  }

  private sweep(now: number): void {
    for (const [client, bucket] of this.buckets) if (now - bucket.updatedMs > IDLE_BUCKET_MS) this.buckets.delete(client);
    while (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}
