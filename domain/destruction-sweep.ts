/**
 * Carries out scheduled destructions that are due, in batches that yield to
 * the event loop, each instance in its own transaction and only if, read
 * again, its destruction is still pending and due (so a cancel that wins the
 * race wins, and a crash and a new sweep never destroy twice).
 */
import { asStrongroomError, StrongroomError } from '../common/errors';
import { Keychain } from './keychain';
import { DEFAULT_BATCH_SIZE, yieldToEventLoop } from './rollover-scheduler';

export interface DestructionSweepOptions {
  readonly batchSize?: number;
  readonly yieldBetweenBatches?: () => Promise<void>;
  readonly onDestroyed?: (instance: string) => void;
  readonly onFailed?: (instanceId: string, error: StrongroomError) => void;
}

export async function sweepDueDestructions(keychain: Keychain, atMs: number, options: DestructionSweepOptions = {}): Promise<{ destroyed: number; failed: number }> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const skip = new Set<string>();
  let destroyed = 0;
  let failed = 0;
  for (;;) {
    const due = keychain.dueDestructions(atMs, batchSize + skip.size).filter((d) => !skip.has(d.instanceId)).slice(0, batchSize);
    if (due.length === 0) break;
    for (const { instanceId } of due) {
      try {
        const done = keychain.destroyIfDue(instanceId, atMs);
        if (done) {
          destroyed++;
          options.onDestroyed?.(done.name);
        } else {
          skip.add(instanceId);
        }
      } catch (err) {
        failed++;
        skip.add(instanceId);
        options.onFailed?.(instanceId, asStrongroomError(err));
      }
    }
    await (options.yieldBetweenBatches ?? yieldToEventLoop)();
  }
  return { destroyed, failed };
}
