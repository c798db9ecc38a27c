/**
 * One sink's queue, on an injected clock and timers: order, the bound and
 * its exact drop count, retries with back-off that lose nothing, the rate
 * limit that delays and never drops, and a bounded flush; an outage is
 * reported once when it starts and once when it ends, with its cost.
 */
import { ManualClock } from '../../common/clock';
import { DeliveryHealthChange, DeliveryQueue, MAX_BATCH, RETRY_MIN_MS } from '../../sinks/delivery-queue';
import { ManualTimers, settle } from '../support/manual-timers';

interface Harness {
  queue: DeliveryQueue<number>;
  timers: ManualTimers;
  received: number[];
  batches: number[][];
  /** While set, sends fail with this error. */
  failWith: Error | null;
  health: DeliveryHealthChange[];
}

function harness(options: { capacity?: number; ratePerSecond?: number | null; retryMaxMs?: number } = {}): Harness {
  const clock = new ManualClock(1_000_000);
  const timers = new ManualTimers(clock);
  const h: Harness = { queue: undefined as unknown as DeliveryQueue<number>, timers, received: [], batches: [], failWith: null, health: [] };
  h.queue = new DeliveryQueue<number>({
    capacity: options.capacity ?? 100,
    ratePerSecond: options.ratePerSecond ?? null,
    retryMaxMs: options.retryMaxMs ?? 1000,
    clock,
    timers,
    send: async (batch) => {
      if (h.failWith) throw h.failWith;
      h.batches.push([...batch]);
      h.received.push(...batch);
    },
    onHealth: (change) => h.health.push(change),
  });
  return h;
}

describe('delivery queue', () => {
  it('never sends inside push (the publisher\'s turn), then delivers in order in batches', async () => {
    const h = harness({ capacity: 1000 });
    for (let i = 1; i <= MAX_BATCH + 10; i++) expect(h.queue.push(i)).toBe(true);
    await settle();
    expect(h.received).toEqual([]);
    await h.timers.advance(0);
    expect(h.received).toEqual(Array.from({ length: MAX_BATCH + 10 }, (_, i) => i + 1));
    expect(h.batches.map((b) => b.length)).toEqual([MAX_BATCH, 10]);
    expect(h.queue.stats()).toMatchObject({ delivered: MAX_BATCH + 10, queued: 0, dropped: 0, retries: 0 });
  });

  it('drops beyond the bound, counts exactly what it dropped, and keeps the oldest in order', async () => {
    const h = harness({ capacity: 5 });
    h.failWith = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const accepted = Array.from({ length: 12 }, (_, i) => h.queue.push(i + 1));
    expect(accepted.filter(Boolean)).toHaveLength(5);
    expect(h.queue.stats()).toMatchObject({ queued: 5, dropped: 7 });
    await h.timers.advance(0);
    expect(h.queue.stats().retries).toBe(1);
    expect(h.queue.stats().lastError).toBe('connect ECONNREFUSED 127.0.0.1:1');
    h.failWith = null;
    await h.timers.advance(10_000);
    expect(h.received).toEqual([1, 2, 3, 4, 5]);
    expect(h.queue.stats()).toMatchObject({ delivered: 5, queued: 0, dropped: 7 });
  });

  it('retries a failed batch with doubling back-off up to retryMaxMs, and loses nothing', async () => {
    const h = harness({ retryMaxMs: 700 });
    h.failWith = new Error('down');
    h.queue.push(1);
    h.queue.push(2);
    await h.timers.advance(0);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      waits.push(...h.timers.delays());
      await h.timers.advance(h.timers.delays()[0]);
    }
    expect(waits).toEqual([RETRY_MIN_MS, 2 * RETRY_MIN_MS, 4 * RETRY_MIN_MS, 700, 700]);
    expect(h.queue.stats().retries).toBe(6);
    h.failWith = null;
    h.queue.push(3);
    await h.timers.advance(700);
    expect(h.received).toEqual([1, 2, 3]);
    // A success resets the back-off.
    h.failWith = new Error('down again');
    h.queue.push(4);
    await h.timers.advance(0);
    expect(h.timers.delays()).toEqual([RETRY_MIN_MS]);
  });

  it('paces delivery to the rate limit without dropping anything', async () => {
    const h = harness({ capacity: 100, ratePerSecond: 10 });
    for (let i = 1; i <= 35; i++) h.queue.push(i);
    await h.timers.advance(0);
    expect(h.received).toHaveLength(10); // the burst: one second's worth
    await h.timers.advance(1000);
    expect(h.received).toHaveLength(20);
    await h.timers.advance(1000);
    expect(h.received).toHaveLength(30);
    await h.timers.advance(1000);
    expect(h.received).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
    expect(h.queue.stats()).toMatchObject({ delivered: 35, dropped: 0 });
  });

  it('flush resolves true once drained, false when the deadline comes first; close counts the rest as dropped', async () => {
    const h = harness();
    h.queue.push(1);
    const drained = h.queue.flush(500);
    await h.timers.advance(0);
    await expect(drained).resolves.toBe(true);
    h.failWith = new Error('down');
    h.queue.push(2);
    h.queue.push(3);
    const stuck = h.queue.flush(500);
    await h.timers.advance(600);
    await expect(stuck).resolves.toBe(false);
    h.queue.close();
    expect(h.queue.stats()).toMatchObject({ delivered: 1, queued: 0, dropped: 2 });
    expect(h.timers.count).toBe(0);
    expect(h.queue.push(4)).toBe(false);
    expect(h.queue.stats().dropped).toBe(3);
  });

  it('a sender that throws synchronously is a failed batch, not a crash', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const queue = new DeliveryQueue<number>({ capacity: 10, ratePerSecond: null, retryMaxMs: 100, clock, timers, send: () => { throw new Error('boom'); } });
    queue.push(1);
    await timers.advance(0);
    expect(queue.stats()).toMatchObject({ queued: 1, retries: 1, lastError: 'boom' });
  });

  it('reports an outage once when delivery starts failing and once when it recovers, with what it cost, not at every retry', async () => {
    const h = harness({ capacity: 4, retryMaxMs: 400 });
    h.queue.push(1);
    await h.timers.advance(0);
    expect(h.health).toEqual([]);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    h.failWith = refused;
    h.queue.push(2);
    await h.timers.advance(0);
    expect(h.health).toEqual([{ state: 'failing', error: refused }]);
    // Retries (100, 200, 400, 400 ms) and events arriving meanwhile: no new report.
    for (let i = 3; i <= 8; i++) h.queue.push(i);
    await h.timers.advance(1_100);
    expect(h.queue.stats().retries).toBe(5);
    expect(h.health).toHaveLength(1);
    h.failWith = null;
    await h.timers.advance(400);
    // Queued meanwhile: 3, 4, 5 (2 was queued before the first failure); 6, 7, 8 found the queue full.
    expect(h.health[1]).toEqual({ state: 'recovered', failedAttempts: 5, queuedMeanwhile: 3, droppedMeanwhile: 3, failingForMs: 1_500 });
    expect(h.received).toEqual([1, 2, 3, 4, 5]);
    // A later outage is reported afresh, counted from its own start.
    h.failWith = refused;
    h.queue.push(9);
    await h.timers.advance(0);
    h.failWith = null;
    await h.timers.advance(RETRY_MIN_MS);
    expect(h.health.slice(2)).toEqual([{ state: 'failing', error: refused }, { state: 'recovered', failedAttempts: 1, queuedMeanwhile: 0, droppedMeanwhile: 0, failingForMs: RETRY_MIN_MS }]);
    // Closed in an outage: what is left is reported once, as undelivered.
    h.failWith = refused;
    h.queue.push(10);
    await h.timers.advance(0);
    h.queue.close();
    h.queue.close();
    expect(h.health.slice(4)).toEqual([{ state: 'failing', error: refused }, { state: 'closed', undelivered: 1, stillFailing: true }]);
  });

  it('says nothing at close when everything was delivered', async () => {
    const h = harness();
    h.queue.push(1);
    await h.timers.advance(0);
    h.queue.close();
    expect(h.health).toEqual([]);
  });

  it('keeps delivering when the health report throws', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    let fail = true;
    const received: number[] = [];
    const queue = new DeliveryQueue<number>({
      capacity: 10,
      ratePerSecond: null,
      retryMaxMs: 100,
      clock,
      timers,
      send: async (batch) => {
        if (fail) throw new Error('down');
        received.push(...batch);
      },
      onHealth: () => {
        throw new Error('a broken log');
      },
    });
    queue.push(1);
    await timers.advance(0);
    fail = false;
    await timers.advance(RETRY_MIN_MS);
    queue.push(2);
    await timers.advance(0);
    expect(received).toEqual([1, 2]);
  });
});
