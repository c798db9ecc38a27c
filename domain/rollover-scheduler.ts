/**
 * The rollover sweep: rolls over every `auto` key whose next rollover is due,
 * in batches that never hold the event loop long (a yield between batches),
 * each key in its own transaction. It is idempotent and crash-safe: a key is
 * rolled only if, read again inside its transaction, it is still due; the
 * new instance moves its next rollover past now. So two sweeps, or a crash
 * and a new sweep, never give a key two new instances and never skip one.
 * A key whose rollover was missed (the appliance was off) gets one new
 * instance, dated now, whatever the number of periods missed.
 */
import { asStrongroomError, StrongroomError } from '../common/errors';
import { Keychain } from './keychain';

/** Most keys looked at per batch. */
export const DEFAULT_BATCH_SIZE = 100;
/**
 * Wall time one batch may hold the event loop before it commits and yields:
 * with a rollover at about a millisecond, a 100-key batch held it 100 ms and
 * starved the server's clients during a 100k-key sweep.
 */
export const BATCH_BUDGET_MS = 8;
/** Upper bound on keys one sweep looks at, so a sweep always ends. */
export const MAX_KEYS_PER_SWEEP = 10_000_000;

export interface SweepResult {
  readonly rolled: number;
  readonly failed: number;
  readonly batches: number;
}

export interface SweepOptions {
  readonly batchSize?: number;
  readonly batchBudgetMs?: number;
  /** Awaited between batches: lets the server answer requests during a long sweep. */
  readonly yieldBetweenBatches?: () => Promise<void>;
  readonly onRolled?: (keyName: string, instance: string) => void;
  readonly onFailed?: (keyId: string, error: StrongroomError) => void;
}

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Longest pause between two batches, whatever the batch cost. */
const MAX_PAUSE_MS = 50;

/**
 * Real time on purpose, like the batch budget it mirrors (process.hrtime):
 * this pause shares the CPU with clients, it does not wait for appliance
 * time, so an injected (manual) clock and timers must not stretch or stall
 * it. Callers that want another pace pass yieldBetweenBatches.
 */
function pauseFor(ms: number): Promise<void> {
  return ms < 1 ? yieldToEventLoop() : new Promise((resolve) => setTimeout(resolve, ms));
}

export async function sweepDueRollovers(keychain: Keychain, atMs: number, options: SweepOptions = {}): Promise<SweepResult> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const budgetMs = options.batchBudgetMs ?? BATCH_BUDGET_MS;
  const skip = new Set<string>(); // keys that failed or were not due after all: not looked at again this sweep
  let rolled = 0;
  let failed = 0;
  let batches = 0;
  while (rolled + failed < MAX_KEYS_PER_SWEEP) {
    const due = keychain.dueKeys(atMs, batchSize + skip.size).filter((d) => !skip.has(d.keyId)).slice(0, batchSize);
    if (due.length === 0) break;
    batches++;
    const done: Array<{ name: string; instance: string }> = [];
    const failures: Array<{ keyId: string; error: StrongroomError }> = [];
    const started = process.hrtime.bigint();
    try {
      // One transaction (one fsync) per batch; each key is its own savepoint,
      // so one failing key does not undo the others.
      keychain.transaction(() => {
        for (const { keyId } of due) {
          // Wall time, not the appliance clock: this bounds how long the event loop is held.
          if (done.length + failures.length > 0 && Number(process.hrtime.bigint() - started) / 1e6 > budgetMs) break;
          try {
            const result = keychain.rolloverIfDue(keyId, atMs);
            if (result) done.push({ name: result.key.fullName, instance: result.key.currentInstance });
            else skip.add(keyId);
          } catch (err) {
            failures.push({ keyId, error: asStrongroomError(err) });
            skip.add(keyId);
          }
        }
      });
    } catch (err) {
      // The batch's commit failed (a full disk): nothing of it happened.
      for (const { keyId } of due) skip.add(keyId);
      failures.push(...due.map(({ keyId }) => ({ keyId, error: asStrongroomError(err) })));
      done.length = 0;
    }
    // Reported only once committed, so a crash never leaves an announced rollover undone.
    for (const { name, instance } of done) options.onRolled?.(name, instance);
    for (const { keyId, error } of failures) options.onFailed?.(keyId, error);
    rolled += done.length;
    failed += failures.length;
    // By default the event loop gets back at least as long as the batch held
    // it (commit included): clients keep at least half the server during a sweep.
    const heldMs = Number(process.hrtime.bigint() - started) / 1e6;
    await (options.yieldBetweenBatches ?? (() => pauseFor(Math.min(heldMs, MAX_PAUSE_MS))))();
  }
  return { rolled, failed, batches };
}
