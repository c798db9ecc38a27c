/**
 * Carries out scheduled destructions that are due, in batches that yield to
 * the event loop, each instance in its own transaction and only if, read
 * again, its destruction is still pending and due (so a cancel that wins the
 * race wins, and a crash and a new sweep never destroy twice).
 */
import { asStrongroomError, StrongroomError } from '../common/errors';
import { Keychain } from './keychain';
import { BATCH_BUDGET_MS, DEFAULT_BATCH_SIZE, yieldToEventLoop } from './rollover-scheduler';

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
    const done: string[] = [];
    const failures: Array<{ instanceId: string; error: StrongroomError }> = [];
    const started = process.hrtime.bigint();
    try {
      // One transaction (one fsync, one scrub) per time-boxed batch; each instance is its own savepoint.
      keychain.transaction(() => {
        for (const { instanceId } of due) {
          if (done.length + failures.length > 0 && Number(process.hrtime.bigint() - started) / 1e6 > BATCH_BUDGET_MS) break;
          try {
            const result = keychain.destroyIfDue(instanceId, atMs);
            if (result) done.push(result.name);
            else skip.add(instanceId);
          } catch (err) {
            failures.push({ instanceId, error: asStrongroomError(err) });
            skip.add(instanceId);
          }
        }
      });
    } catch (err) {
      for (const { instanceId } of due) skip.add(instanceId);
      failures.push(...due.map(({ instanceId }) => ({ instanceId, error: asStrongroomError(err) })));
      done.length = 0;
    }
    for (const name of done) options.onDestroyed?.(name);
    for (const { instanceId, error } of failures) options.onFailed?.(instanceId, error);
    destroyed += done.length;
    failed += failures.length;
    await (options.yieldBetweenBatches ?? yieldToEventLoop)();
  }
  return { destroyed, failed };
}
