/**
 * The rollover sweep: rolls over every `auto` key whose next rollover is due,
 * in batches that never hold the event loop long (a pause between batches),
 * each key in its own savepoint of its batch's transaction (sweep-due.ts).
 * It is idempotent and crash-safe: a key is rolled only if, read again inside
 * its savepoint, it is still due; the new instance moves its next rollover
 * past now. So two sweeps, or a crash and a new sweep, never give a key two
 * new instances and never skip one. A key whose rollover was missed (the
 * appliance was off) gets one new instance, dated now, whatever the number
 * of periods missed.
 */
import { performance } from 'node:perf_hooks';
import { asStrongroomError, StrongroomError } from '../common/errors';
import { Keychain } from './keychain';
import { BatchRecorder, MAX_ITEMS_PER_SWEEP, sweepDue, yieldToEventLoop } from './sweep-due';

export { BATCH_BUDGET_MS, DEFAULT_BATCH_SIZE, yieldToEventLoop } from './sweep-due';
/** Upper bound on keys one sweep looks at, so a sweep always ends. */
export const MAX_KEYS_PER_SWEEP = MAX_ITEMS_PER_SWEEP;

export interface SweepResult {
  readonly rolled: number;
  readonly failed: number;
  readonly batches: number;
  /** True when a batch was refused: another node holds the scheduler's lease. */
  readonly refused?: boolean;
}

export interface SweepOptions {
  readonly batchSize?: number;
  readonly batchBudgetMs?: number;
  /** Awaited between batches: lets the server answer requests during a long sweep. */
  readonly yieldBetweenBatches?: () => Promise<void>;
  readonly onRolled?: (keyName: string, instance: string) => void;
  readonly onFailed?: (keyId: string, error: StrongroomError) => void;
  /**
   * Called after each batch's reports: resolves once that batch's audit
   * events are durable, rejects when they could not be written. The sweep
   * runs at most one batch ahead of it (the batch after next waits for it,
   * and the sweep's own end waits for the last), so the fsync of a batch's
   * events overlaps the next batch's work instead of following it; a
   * rejection stops the sweep, at most one more batch having committed
   * under its durable intent event.
   */
  readonly afterBatch?: () => Promise<void>;
  /**
   * The caller appends an audit event for each rollover reported and
   * afterBatch waits for them to be durable, so a batch's commit needs no
   * fsync of its own (TransactionOptions.durableWithAuditEvent).
   */
  readonly auditedBatches?: boolean;
  /** Asked inside each batch's transaction before it acts (the scheduler's lease): false ends the sweep. */
  readonly mayAct?: () => boolean;
  /**
   * Appends the batch's `rollover` events in its transaction (sweep-due.ts
   * DueWork.recordWithin): the batch then commits durably on its own, and
   * auditedBatches is not honoured.
   */
  readonly recordWithin?: BatchRecorder<RolledKey>;
  /**
   * recordWithin for batches committed without their own fsync: the
   * function it returns, called after the commit, flushes the batch and its
   * events off the event loop and resolves once they are durable
   * (AuditPipeline.appendWithinDurableLater). The batch's rollovers are
   * reported only then, the sweep runs at most MAX_BATCHES_AHEAD batches
   * ahead of the flushes, and a failed flush stops it (sweep-due.ts). What
   * it saves: an fsync on the event loop per batch, a third of a
   * 100,000-key sweep's time there. Takes the place of recordWithin.
   */
  readonly recordFlushedLater?: (done: readonly RolledKey[]) => () => Promise<void>;
}

/** A key a sweep rolled over, and the instance it made. */
export interface RolledKey {
  readonly key: string;
  readonly instance: string;
}

/** Longest pause between two batches, whatever the batch cost. */
const MAX_PAUSE_MS = 50;

/**
 * By default the event loop gets back at least as long as the batch held it
 * (commit included), up to MAX_PAUSE_MS: clients keep at least half the
 * server during a sweep. One turn first: it serves every request already
 * waiting, and under load (a Get that first serves an instance commits its
 * Fresh flag, an fsync on the event loop) that turn alone often outlasts
 * the batch, so only what is left of the batch's time is then waited: a
 * timer on top of the turn had given clients far more than half, and the
 * sweep of 100,000 keys far less. A batch that held it under a millisecond
 * gets the one turn. Real time on purpose: this pause shares the CPU with
 * clients, it does not wait for appliance time, so an injected (manual)
 * clock must not stretch or stall it. Callers that want another pace pass
 * yieldBetweenBatches. `started`: when the batch let go of the event loop
 * (before waiting for its audit events, which also leaves it to clients).
 */
async function pauseFor(heldMs: number, started = performance.now()): Promise<void> {
  const ms = Math.min(heldMs, MAX_PAUSE_MS);
  await yieldToEventLoop();
  const left = ms - (performance.now() - started);
  if (left >= 1) await new Promise((resolve) => setTimeout(resolve, left));
}

export async function sweepDueRollovers(keychain: Keychain, atMs: number, options: SweepOptions = {}): Promise<SweepResult> {
  const { yieldBetweenBatches } = options;
  const flushedLater = options.recordFlushedLater !== undefined;
  /** The events of the last batch, still on their way to disk while the next batch runs. */
  let lastBatchEvents: Promise<void> = Promise.resolve();
  const result = await sweepDue(
    {
      listDue: (limit) => keychain.dueKeys(atMs, limit),
      idOf: (due) => due.keyId,
      act: ({ keyId }) => keychain.rolloverIfDue(keyId, atMs),
      // One trust-state fold per batch instead of one per key (storage/sqlite-connection.ts).
      // A batch whose events are in it must be durable on its own; one whose events follow may wait for theirs.
      transaction: (batch) => keychain.transaction(batch, { batch: true, durableWithAuditEvent: flushedLater || (options.auditedBatches === true && options.recordWithin === undefined) }),
      clock: keychain.clock,
      mayAct: options.mayAct,
      recordWithin: options.recordFlushedLater ?? options.recordWithin,
    },
    {
      batchSize: options.batchSize,
      batchBudgetMs: options.batchBudgetMs,
      maxItems: MAX_KEYS_PER_SWEEP,
      pause: async (heldMs) => {
        // The wait for the audit events (the worker's fsync) leaves the event loop to clients too: it counts towards the pause.
        const released = performance.now();
        const previous = lastBatchEvents;
        lastBatchEvents = options.afterBatch?.() ?? Promise.resolve();
        lastBatchEvents.catch(() => undefined); // awaited at the next pause or at the end; never unhandled meanwhile
        await previous;
        await (yieldBetweenBatches ? yieldBetweenBatches() : pauseFor(heldMs, released));
      },
      onDone: (rolled) => options.onRolled?.(rolled.key, rolled.instance),
      onFailed: (keyId, error) => options.onFailed?.(keyId, asStrongroomError(error)),
    },
  );
  await lastBatchEvents;
  return { rolled: result.done, failed: result.failed, batches: result.batches, refused: result.refused };
}
