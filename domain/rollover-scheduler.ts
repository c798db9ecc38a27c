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

/** Keys rolled per batch: each costs about a millisecond (one fsync'd transaction). */
export const DEFAULT_BATCH_SIZE = 100;
/** Upper bound on keys one sweep looks at, so a sweep always ends. */
export const MAX_KEYS_PER_SWEEP = 10_000_000;

export interface SweepResult {
  readonly rolled: number;
  readonly failed: number;
  readonly batches: number;
}

export interface SweepOptions {
  readonly batchSize?: number;
  /** Awaited between batches: lets the server answer requests during a long sweep. */
  readonly yieldBetweenBatches?: () => Promise<void>;
  readonly onRolled?: (keyName: string, instance: string) => void;
  readonly onFailed?: (keyId: string, error: StrongroomError) => void;
}

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function sweepDueRollovers(keychain: Keychain, atMs: number, options: SweepOptions = {}): Promise<SweepResult> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const skip = new Set<string>(); // keys that failed or were not due after all: not looked at again this sweep
  let rolled = 0;
  let failed = 0;
  let batches = 0;
  while (rolled + failed < MAX_KEYS_PER_SWEEP) {
    const due = keychain.dueKeys(atMs, batchSize + skip.size).filter((d) => !skip.has(d.keyId)).slice(0, batchSize);
    if (due.length === 0) break;
    batches++;
    for (const { keyId } of due) {
      try {
        const result = keychain.rolloverIfDue(keyId, atMs);
        if (result) {
          rolled++;
          options.onRolled?.(result.key.fullName, result.key.currentInstance);
        } else {
          skip.add(keyId); // no longer due when read again: never look at it twice in one sweep
        }
      } catch (err) {
        failed++;
        skip.add(keyId);
        options.onFailed?.(keyId, asStrongroomError(err));
      }
    }
    await (options.yieldBetweenBatches ?? yieldToEventLoop)();
  }
  return { rolled, failed, batches };
}
