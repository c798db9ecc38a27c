/**
 * Deactivates Active instances whose recipient usage period (process-stop)
 * has ended, in batches that yield to the event loop, each in its own
 * transaction and only if still due when read again. Encryption past
 * protect-stop is refused at use time already (crypto-service); this sweep
 * makes the state itself follow the dates.
 */
import { asStrongroomError, StrongroomError } from '../common/errors';
import { Keychain } from './keychain';
import { DEFAULT_BATCH_SIZE, yieldToEventLoop } from './rollover-scheduler';

export async function sweepDueProcessStops(
  keychain: Keychain,
  atMs: number,
  options: { onDeactivated?: (instance: string) => void; onFailed?: (instanceId: string, error: StrongroomError) => void } = {},
): Promise<{ deactivated: number; failed: number }> {
  const skip = new Set<string>();
  let deactivated = 0;
  let failed = 0;
  for (;;) {
    const due = keychain.dueProcessStops(atMs, DEFAULT_BATCH_SIZE + skip.size).filter((d) => !skip.has(d.instanceId)).slice(0, DEFAULT_BATCH_SIZE);
    if (due.length === 0) break;
    for (const { instanceId } of due) {
      try {
        const done = keychain.deactivateIfProcessStopped(instanceId, atMs);
        if (done) {
          deactivated++;
          options.onDeactivated?.(done.name);
        } else {
          skip.add(instanceId);
        }
      } catch (err) {
        failed++;
        skip.add(instanceId);
        options.onFailed?.(instanceId, asStrongroomError(err));
      }
    }
    await yieldToEventLoop();
  }
  return { deactivated, failed };
}
