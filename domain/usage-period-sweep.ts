/**
 * Deactivates Active instances whose recipient usage period (process-stop)
 * has ended, in time-boxed batches that yield to the event loop
 * (sweep-due.ts), each in its own savepoint and only if still due when read
 * again. Encryption past protect-stop is refused at use time already
 * (crypto-service); this sweep makes the state itself follow the dates.
 */
import { asStrongroomError, StrongroomError } from '../common/errors';
import { Keychain } from './keychain';
import { InstanceRecorder, instancesRecorder, sweepDue, yieldToEventLoop } from './sweep-due';

export async function sweepDueProcessStops(
  keychain: Keychain,
  atMs: number,
  options: { onDeactivated?: (instance: string) => void; onFailed?: (instanceId: string, error: StrongroomError) => void; afterBatch?: () => Promise<void>; mayAct?: () => boolean; recordWithin?: InstanceRecorder } = {},
): Promise<{ deactivated: number; failed: number }> {
  const result = await sweepDue(
    {
      listDue: (limit) => keychain.dueProcessStops(atMs, limit),
      idOf: (due) => due.instanceId,
      act: ({ instanceId }) => keychain.deactivateIfProcessStopped(instanceId, atMs),
      transaction: (batch) => keychain.transaction(batch),
      clock: keychain.clock,
      mayAct: options.mayAct,
      recordWithin: instancesRecorder(options.recordWithin),
    },
    {
      // A rejected afterBatch (its audit events could not be written) stops the sweep.
      pause: async () => {
        await options.afterBatch?.();
        await yieldToEventLoop();
      },
      onDone: (deactivated) => options.onDeactivated?.(deactivated.name),
      onFailed: (instanceId, error) => options.onFailed?.(instanceId, asStrongroomError(error)),
    },
  );
  return { deactivated: result.done, failed: result.failed };
}
