/**
 * One sweep of "what is due", the loop behind every scheduled lifecycle step
 * (rollover, destruction, retention, usage periods): list what is due, act on
 * each item in a batch that is one store transaction (one commit, one fsync;
 * each item its own savepoint, so one failing item does not undo the others)
 * and is cut short once it has held the event loop for its time budget,
 * report the batch's outcomes only once it has committed, then give the
 * event loop back before the next batch. With recordWithin the batch's
 * audit events are appended in its transaction.
 *
 * An item that, read again inside its savepoint, was not due after all, or
 * that failed, is not looked at again in the same sweep; an item done drops
 * out of the due list by itself. So a sweep always ends, and a crash between
 * two batches leaves nothing announced that did not happen.
 */
import { Clock } from '../common/clock';

/** Items looked at per batch. */
export const DEFAULT_BATCH_SIZE = 100;
/**
 * Time one batch may hold the event loop before it commits and yields: with
 * a rollover at about a millisecond, a 100-key batch held it 100 ms and
 * starved the server's clients during a 100k-key sweep.
 */
export const BATCH_BUDGET_MS = 8;
/**
 * Batches committed without their own fsync (BatchRecorder) that a sweep
 * may run ahead of their flush. Each batch holds its own events, so being
 * ahead risks nothing the trail lacks; the bound keeps what a failing disk
 * leaves committed but unreported small, and lets one fsync cover the
 * batches committed while the previous one ran (short batches, so clients
 * wait little behind each, would otherwise each wait for an fsync).
 */
export const MAX_BATCHES_AHEAD = 16;
/** Upper bound on items one sweep acts on, so a sweep always ends. */
export const MAX_ITEMS_PER_SWEEP = 10_000_000;

/** One turn of the event loop (setImmediate): pending I/O and timers run before the promise resolves. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What one kind of sweep lists and does. */
export interface DueWork<Item, Outcome> {
  /** Up to `limit` items due now, soonest first. */
  readonly listDue: (limit: number) => readonly Item[];
  /** The item's id: what a skipped or failed item is remembered and reported by. */
  readonly idOf: (item: Item) => string;
  /** Acts on one item inside the batch's transaction (in a savepoint of its own); null when, read again, it was not due after all. */
  readonly act: (item: Item) => Outcome | null;
  /** Runs one batch in one store transaction. */
  readonly transaction: (batch: () => void) => void;
  /** The injected clock, measuring how long a batch holds the event loop. */
  readonly clock: Clock;
  /**
   * Asked first inside each batch's transaction (the scheduler's lease:
   * domain/scheduler-lease.ts): false, and the batch acts on nothing and the
   * sweep ends; a throw (a lease that fails authentication) rejects the sweep.
   */
  readonly mayAct?: () => boolean;
  /**
   * Appends the audit events of a batch's outcomes inside the batch's own
   * transaction, after its items and before the commit, so the changes and
   * their events commit together or not at all; returns what tells the live
   * stream and the sinks of them, called once the batch committed. A throw
   * (the trail cannot be written) undoes the batch and rejects the sweep.
   */
  readonly recordWithin?: BatchRecorder<Outcome>;
}

/**
 * See DueWork.recordWithin. The function it returns may return a promise:
 * the batch was committed without its own fsync (DueWork.transaction's
 * choice) and the promise says when it and its events are durable
 * (server/compose/audit-pipeline.ts appendWithinDurableLater); the sweep
 * then reports the batch's outcomes only once it resolved, runs at most
 * MAX_BATCHES_AHEAD batches ahead of the flushes, and stops if one rejects.
 */
export type BatchRecorder<Outcome> = (done: readonly Outcome[]) => () => void | Promise<void>;

/** A recorder of the instances a sweep changed, by name (activated, destroyed, deactivated, destruction scheduled). */
export type InstanceRecorder = BatchRecorder<string>;

/** `record` for the outcomes of a sweep over instances, each an instance view. */
export function instancesRecorder(record: InstanceRecorder | undefined): BatchRecorder<{ readonly name: string }> | undefined {
  return record === undefined ? undefined : (done) => record(done.map((instance) => instance.name));
}

export interface SweepDueOptions<Outcome> {
  readonly batchSize?: number;
  /** Longest a batch keeps going once it has acted on one item (ms by `clock`). Default BATCH_BUDGET_MS. */
  readonly batchBudgetMs?: number;
  /** Most items acted on (done or failed) in one sweep. Default MAX_ITEMS_PER_SWEEP. */
  readonly maxItems?: number;
  /** Awaited between batches, told how long the batch held the event loop (commit and reports included). Default: yieldToEventLoop. */
  readonly pause?: (heldMs: number) => Promise<void>;
  /** Told of each item done, once its batch has committed. */
  readonly onDone?: (outcome: Outcome) => void;
  /** Told of each item that failed (its own error, or its batch's commit error), after its batch. */
  readonly onFailed?: (id: string, error: unknown) => void;
}

export interface SweepDueResult {
  readonly done: number;
  readonly failed: number;
  /** Batches that acted (a batch refused by mayAct is not counted). */
  readonly batches: number;
  /** True when mayAct refused a batch: another node's sweep does the work. */
  readonly refused: boolean;
}

export async function sweepDue<Item, Outcome>(work: DueWork<Item, Outcome>, options: SweepDueOptions<Outcome> = {}): Promise<SweepDueResult> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const budgetMs = options.batchBudgetMs ?? BATCH_BUDGET_MS;
  const maxItems = options.maxItems ?? MAX_ITEMS_PER_SWEEP;
  const pause = options.pause ?? yieldToEventLoop;
  const skip = new Set<string>(); // not due after all, or failed: not looked at again this sweep
  let done = 0;
  let failed = 0;
  let batches = 0;
  let refused = false;
  /** Batches committed and not yet known durable, oldest first: their durability and reports (BatchRecorder). */
  const unflushed: Array<Promise<void>> = [];
  while (done + failed < maxItems) {
    const due = work.listDue(batchSize + skip.size).filter((item) => !skip.has(work.idOf(item))).slice(0, batchSize);
    if (due.length === 0) break;
    const started = work.clock.nowMs();
    const outcome = runBatch(work, due, started, budgetMs);
    if (outcome === 'refused') {
      refused = true;
      break;
    }
    batches++;
    for (const id of outcome.skipped) skip.add(id);
    done += outcome.done.length;
    failed += outcome.failures.length;
    const report = (): void => {
      // Reported only once committed (and durable), so a crash never leaves an announced step undone.
      for (const result of outcome.done) options.onDone?.(result);
      for (const { id, error } of outcome.failures) options.onFailed?.(id, error);
    };
    const heldMs = Math.max(0, work.clock.nowMs() - started);
    if (outcome.durable === undefined) {
      report();
    } else {
      // Its flush runs while the next batches do; the sweep runs at most MAX_BATCHES_AHEAD batches ahead of the flushes.
      const reported = outcome.durable.then(report);
      reported.catch(() => undefined); // awaited below, in order, before a batch too far ahead or at the end
      unflushed.push(reported);
      while (unflushed.length > MAX_BATCHES_AHEAD) await unflushed.shift();
    }
    await pause(heldMs);
  }
  while (unflushed.length > 0) await unflushed.shift();
  return { done, failed, batches, refused };
}

interface BatchOutcome<Outcome> {
  readonly done: Outcome[];
  readonly failures: Array<{ id: string; error: unknown }>;
  readonly skipped: string[];
  /** Set when the recorder flushes the batch after its commit: resolves once it is durable. */
  readonly durable?: Promise<void>;
}

/** One batch in one transaction, stopping at the time budget once an item has been acted on; 'refused' when mayAct said no. */
function runBatch<Item, Outcome>(work: DueWork<Item, Outcome>, due: readonly Item[], started: number, budgetMs: number): BatchOutcome<Outcome> | 'refused' {
  const done: Outcome[] = [];
  const failures: Array<{ id: string; error: unknown }> = [];
  const skipped: string[] = [];
  let attempted = 0;
  let refused = false;
  let stopsTheSweep: { error: unknown } | null = null;
  let publish: (() => void | Promise<void>) | null = null;
  try {
    work.transaction(() => {
      if (work.mayAct !== undefined) {
        try {
          refused = !work.mayAct();
        } catch (error) {
          stopsTheSweep = { error };
          throw error;
        }
        if (refused) return;
      }
      for (const item of due) {
        if (attempted > 0 && work.clock.nowMs() - started > budgetMs) break;
        attempted++;
        const id = work.idOf(item);
        try {
          const result = work.act(item);
          if (result === null) skipped.push(id);
          else done.push(result);
        } catch (error) {
          failures.push({ id, error });
          skipped.push(id);
        }
      }
      if (work.recordWithin !== undefined && done.length > 0) {
        try {
          publish = work.recordWithin(done);
        } catch (error) {
          stopsTheSweep = { error };
          throw error;
        }
      }
    });
  } catch (commitError) {
    // Not one item's failure: the sweep may not act at all (the lease), or may act on nothing more (its events
    // could not be written): the transaction undid the batch, and the sweep stops.
    if (stopsTheSweep !== null) throw (stopsTheSweep as { error: unknown }).error;
    // The batch's commit failed (a full disk): nothing of it happened. Every
    // item listed for it fails with that error, except those that had
    // already failed on their own, and none is looked at again this sweep.
    const alreadyFailed = new Set(failures.map((f) => f.id));
    const ids = due.map((item) => work.idOf(item));
    const commitFailures = ids.filter((id) => !alreadyFailed.has(id)).map((id) => ({ id, error: commitError }));
    return { done: [], failures: [...failures, ...commitFailures], skipped: ids };
  }
  if (refused) return 'refused';
  const durable = (publish as (() => void | Promise<void>) | null)?.();
  return durable === undefined ? { done, failures, skipped } : { done, failures, skipped, durable };
}
