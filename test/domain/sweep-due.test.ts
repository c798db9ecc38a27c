/**
 * The generic "sweep what is due" loop on a fake store and a manual clock:
 * batching, the time box, reports only after a batch commits, an item that
 * throws in the middle of a batch, a commit that fails, and the end of a sweep.
 */
import { ManualClock } from '../../common/clock';
import { DueWork, MAX_BATCHES_AHEAD, sweepDue, SweepDueOptions } from '../../domain/sweep-due';

/**
 * A store of due items with transactions: what a batch does is applied only
 * when it commits (a failed commit leaves the items due). `events` records
 * commits and reports in the order they happen.
 */
class FakeDueStore {
  readonly due: string[];
  readonly events: string[] = [];
  readonly listLimits: number[] = [];
  transactions = 0;
  /** Items whose act throws. */
  readonly throwing = new Set<string>();
  /** Items whose act finds them not due after all. */
  readonly notDue = new Set<string>();
  /** How far the clock moves per act. */
  actCostMs = 0;
  failCommits = false;
  private pending: string[] = [];

  constructor(readonly clock: ManualClock, count: number) {
    this.due = Array.from({ length: count }, (_, i) => `item-${i}`);
  }

  work(): DueWork<{ id: string }, string> {
    return {
      listDue: (limit) => {
        this.listLimits.push(limit);
        return this.due.slice(0, limit).map((id) => ({ id }));
      },
      idOf: (item) => item.id,
      act: ({ id }) => {
        this.clock.advance(this.actCostMs);
        if (this.throwing.has(id)) throw new Error(`cannot act on ${id}`);
        if (this.notDue.has(id)) return null;
        this.pending.push(id);
        return id;
      },
      transaction: (batch) => {
        this.transactions++;
        this.pending = [];
        batch();
        if (this.failCommits) {
          this.pending = [];
          throw new Error('disk full');
        }
        for (const id of this.pending) this.due.splice(this.due.indexOf(id), 1);
        this.events.push(`commit ${this.pending.join(',')}`);
      },
      clock: this.clock,
    };
  }

  options(extra: SweepDueOptions<string> = {}): SweepDueOptions<string> {
    return {
      onDone: (id) => this.events.push(`done ${id}`),
      onFailed: (id, error) => this.events.push(`failed ${id}: ${(error as Error).message}`),
      ...extra,
    };
  }
}

const newStore = (count: number): FakeDueStore => new FakeDueStore(new ManualClock(0), count);

describe('sweepDue', () => {
  it('acts on every due item in batches of the batch size, one transaction each, pausing after each batch', async () => {
    const store = newStore(10);
    const pauses: number[] = [];
    const result = await sweepDue(store.work(), store.options({ batchSize: 3, pause: async (heldMs) => void pauses.push(heldMs) }));
    expect(result).toEqual({ done: 10, failed: 0, batches: 4, refused: false });
    expect(store.due).toEqual([]);
    expect(store.transactions).toBe(4);
    expect(pauses).toHaveLength(4);
    expect(store.events.filter((e) => e.startsWith('commit'))).toEqual([
      'commit item-0,item-1,item-2',
      'commit item-3,item-4,item-5',
      'commit item-6,item-7,item-8',
      'commit item-9',
    ]);
  });

  it('ends a batch once it has held the clock past the budget, and tells the pause how long it held', async () => {
    const store = newStore(6);
    store.actCostMs = 5;
    const pauses: number[] = [];
    // 5 ms per item, 8 ms budget: the second item takes the batch to 10 ms, so it stops there.
    const result = await sweepDue(store.work(), store.options({ batchBudgetMs: 8, pause: async (heldMs) => void pauses.push(heldMs) }));
    expect(result).toEqual({ done: 6, failed: 0, batches: 3, refused: false });
    expect(pauses).toEqual([10, 10, 10]);
  });

  it('acts on at least one item per batch however slow it is, so a sweep always progresses', async () => {
    const store = newStore(3);
    store.actCostMs = 1000;
    expect(await sweepDue(store.work(), store.options({ batchBudgetMs: 8 }))).toEqual({ done: 3, failed: 0, batches: 3, refused: false });
  });

  it('appends a batch\'s events inside its transaction, after its items, and publishes them once it committed', async () => {
    const store = newStore(4);
    const work = store.work();
    const result = await sweepDue(
      {
        ...work,
        recordWithin: (done) => {
          store.events.push(`events ${done.join(',')}`);
          return () => {
            store.events.push(`published ${done.join(',')}`);
          };
        },
      },
      store.options({ batchSize: 2 }),
    );
    expect(result).toEqual({ done: 4, failed: 0, batches: 2, refused: false });
    expect(store.events).toEqual([
      'events item-0,item-1', 'commit item-0,item-1', 'published item-0,item-1', 'done item-0', 'done item-1',
      'events item-2,item-3', 'commit item-2,item-3', 'published item-2,item-3', 'done item-2', 'done item-3',
    ]);
  });

  it('undoes a batch whose events cannot be appended, and stops the sweep with that error', async () => {
    const store = newStore(4);
    const work = store.work();
    const sweep = sweepDue(
      {
        ...work,
        recordWithin: () => {
          throw new Error('trail unwritable');
        },
      },
      store.options({ batchSize: 2 }),
    );
    await expect(sweep).rejects.toThrow('trail unwritable');
    expect(store.due).toEqual(['item-0', 'item-1', 'item-2', 'item-3']);
    expect(store.events).toEqual([]);
  });

  /** A batch's flush, settled by the test: what a recorder that commits without its own fsync returns. */
  function flushes(store: FakeDueStore): { work: DueWork<{ id: string }, string>; settle: Array<{ ok(): void; fail(error: Error): void }> } {
    const settle: Array<{ ok(): void; fail(error: Error): void }> = [];
    const work: DueWork<{ id: string }, string> = {
      ...store.work(),
      recordWithin: (done) => () => {
        store.events.push(`flushing ${done.join(',')}`);
        return new Promise<void>((resolve, reject) => {
          settle.push({
            ok: () => {
              store.events.push(`durable ${done.join(',')}`);
              resolve();
            },
            fail: reject,
          });
        });
      },
    };
    return { work, settle };
  }

  /** Turns of the event loop: enough for the sweep to go as far as it can without a flush settling. */
  const settleTurns = async (): Promise<void> => {
    for (let i = 0; i < 200; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('with a flush after the commit: reports a batch only once durable, and runs at most MAX_BATCHES_AHEAD batches ahead of the flushes', async () => {
    const store = newStore(2 * (MAX_BATCHES_AHEAD + 3));
    const { work, settle } = flushes(store);
    const sweep = sweepDue(work, store.options({ batchSize: 2 }));
    await settleTurns();
    // MAX_BATCHES_AHEAD + 1 batches committed while the first flush was under way; the next waits for it. Nothing reported.
    const commits = (): number => store.events.filter((e) => e.startsWith('commit')).length;
    expect(commits()).toBe(MAX_BATCHES_AHEAD + 1);
    expect(store.events.some((e) => e.startsWith('done'))).toBe(false);
    settle[0].ok();
    await settleTurns();
    expect(store.events.slice(-5)).toEqual(['durable item-0,item-1', 'done item-0', 'done item-1', `commit item-${2 * MAX_BATCHES_AHEAD + 2},item-${2 * MAX_BATCHES_AHEAD + 3}`, `flushing item-${2 * MAX_BATCHES_AHEAD + 2},item-${2 * MAX_BATCHES_AHEAD + 3}`]);
    const settledSoFar = settle.length;
    for (let i = 1; i < settledSoFar; i++) settle[i].ok();
    await settleTurns();
    for (let i = settledSoFar; i < settle.length; i++) settle[i].ok(); // the batches that settling let run
    expect(await sweep).toEqual({ done: 2 * (MAX_BATCHES_AHEAD + 3), failed: 0, batches: MAX_BATCHES_AHEAD + 3, refused: false });
    // Reported in commit order, each after its own flush.
    const done = store.events.filter((e) => e.startsWith('done')).map((e) => e.slice(5));
    expect(done).toEqual(Array.from({ length: 2 * (MAX_BATCHES_AHEAD + 3) }, (_, i) => `item-${i}`));
    for (const item of done) expect(store.events.indexOf(`done ${item}`)).toBeGreaterThan(store.events.findIndex((e) => e.startsWith('durable') && e.split(/[ ,]/).includes(item)));
  });

  it('with a flush after the commit: a failed flush stops the sweep with its error, and no batch it holds back is reported', async () => {
    const store = newStore(2 * (MAX_BATCHES_AHEAD + 5));
    const { work, settle } = flushes(store);
    const sweep = sweepDue(work, store.options({ batchSize: 2 }));
    await settleTurns();
    settle[0].fail(new Error('fsync failed'));
    await expect(sweep).rejects.toThrow('fsync failed');
    // At most MAX_BATCHES_AHEAD batches more committed under the failing flush; nothing was reported done.
    expect(store.events.filter((e) => e.startsWith('commit'))).toHaveLength(MAX_BATCHES_AHEAD + 1);
    expect(store.events.some((e) => e.startsWith('done'))).toBe(false);
    expect(store.due).toHaveLength(2 * 4);
  });

  it('reports each batch only after it has committed', async () => {
    const store = newStore(4);
    await sweepDue(store.work(), store.options({ batchSize: 2 }));
    expect(store.events).toEqual(['commit item-0,item-1', 'done item-0', 'done item-1', 'commit item-2,item-3', 'done item-2', 'done item-3']);
  });

  it('keeps the rest of a batch when one item throws, reports it after the commit and does not try it again', async () => {
    const store = newStore(5);
    store.throwing.add('item-1');
    const result = await sweepDue(store.work(), store.options({ batchSize: 3 }));
    expect(result).toEqual({ done: 4, failed: 1, batches: 2, refused: false });
    expect(store.events).toEqual([
      'commit item-0,item-2',
      'done item-0',
      'done item-2',
      'failed item-1: cannot act on item-1',
      'commit item-3,item-4',
      'done item-3',
      'done item-4',
    ]);
    expect(store.due).toEqual(['item-1']);
    // The failed item is still due: later listings ask for one more and leave it out.
    expect(store.listLimits).toEqual([3, 4, 4]);
  });

  it('neither counts nor retries an item that was not due after all', async () => {
    const store = newStore(3);
    store.notDue.add('item-0');
    expect(await sweepDue(store.work(), store.options())).toEqual({ done: 2, failed: 0, batches: 1, refused: false });
    expect(store.events).toEqual(['commit item-1,item-2', 'done item-1', 'done item-2']);
  });

  it('reports nothing done when a commit fails: every item of the batch fails once, with its own error if it had one', async () => {
    const store = newStore(4);
    store.failCommits = true;
    store.throwing.add('item-1');
    const result = await sweepDue(store.work(), store.options({ batchSize: 3 }));
    expect(result).toEqual({ done: 0, failed: 4, batches: 2, refused: false });
    expect(store.events).toEqual([
      'failed item-1: cannot act on item-1',
      'failed item-0: disk full',
      'failed item-2: disk full',
      'failed item-3: disk full',
    ]);
    expect(store.due).toHaveLength(4);
  });

  it('fails, and does not retry, the items a failed batch listed but did not reach before its budget', async () => {
    const store = newStore(3);
    store.failCommits = true;
    store.actCostMs = 100;
    const result = await sweepDue(store.work(), store.options({ batchBudgetMs: 8 }));
    expect(result).toEqual({ done: 0, failed: 3, batches: 1, refused: false });
    expect(store.transactions).toBe(1);
  });

  it('stops once it has acted on maxItems items', async () => {
    const store = newStore(10);
    expect(await sweepDue(store.work(), store.options({ batchSize: 3, maxItems: 5 }))).toEqual({ done: 6, failed: 0, batches: 2, refused: false });
    expect(store.due).toHaveLength(4);
  });

  it('ends at once, with no batch and no pause, when nothing is due', async () => {
    const store = newStore(0);
    const pause = jest.fn(async () => undefined);
    expect(await sweepDue(store.work(), store.options({ pause }))).toEqual({ done: 0, failed: 0, batches: 0, refused: false });
    expect(pause).not.toHaveBeenCalled();
    expect(store.transactions).toBe(0);
  });

  it('acts on nothing, and ends, once mayAct refuses a batch inside its transaction (the scheduler\'s lease was taken over)', async () => {
    const store = newStore(6);
    const answers = [true, false];
    const asked: number[] = [];
    const work = { ...store.work(), mayAct: () => (asked.push(store.transactions), answers.shift() ?? true) };
    expect(await sweepDue(work, store.options({ batchSize: 2 }))).toEqual({ done: 2, failed: 0, batches: 1, refused: true });
    // Asked inside each batch's own transaction, before any of its items.
    expect(asked).toEqual([1, 2]);
    expect(store.events).toEqual(['commit item-0,item-1', 'done item-0', 'done item-1', 'commit ']);
    expect(store.due).toHaveLength(4);
  });

  it('rejects, acting on nothing and reporting no item failed, when mayAct throws (a lease that fails authentication)', async () => {
    const store = newStore(4);
    const work = { ...store.work(), mayAct: () => { throw Object.assign(new Error('the stored lease failed authentication'), { code: 'INTEGRITY_FAILURE' }); } };
    await expect(sweepDue(work, store.options())).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
    expect(store.events).toEqual([]);
    expect(store.due).toHaveLength(4);
  });

  it('yields to the event loop between batches by default', async () => {
    const store = newStore(6);
    let turns = 0;
    let counting = true;
    const spin = (): void => {
      turns++;
      if (counting) setImmediate(spin);
    };
    setImmediate(spin);
    const result = await sweepDue(store.work(), store.options({ batchSize: 2 }));
    counting = false;
    expect(result.batches).toBe(3);
    // The sweep itself is synchronous within a batch: the spinner only turns while it yields.
    expect(turns).toBeGreaterThanOrEqual(result.batches - 1);
  });
});
