/**
 * Activates PreActive instances whose activation date has come (KMIP's
 * Activation Date; keys/instance-activation.ts), in time-boxed batches that
 * yield to the event loop (sweep-due.ts), each in its own savepoint and only
 * if still due when read again. A rollover's pending successor becomes
 * current then, and the instance it replaces is Deactivated.
 */
import { asStrongroomError, StrongroomError } from '../common/errors';
import { Keychain } from './keychain';
import { InstanceRecorder, instancesRecorder, sweepDue, yieldToEventLoop } from './sweep-due';

export async function sweepDueActivations(
  keychain: Keychain,
  atMs: number,
  options: { onActivated?: (instance: string) => void; onFailed?: (instanceId: string, error: StrongroomError) => void; afterBatch?: () => Promise<void>; mayAct?: () => boolean; recordWithin?: InstanceRecorder } = {},
): Promise<{ activated: number; failed: number }> {
  const result = await sweepDue(
    {
      listDue: (limit) => keychain.dueActivations(atMs, limit),
      idOf: (due) => due.instanceId,
      act: ({ instanceId }) => keychain.activateIfDue(instanceId, atMs),
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
      onDone: (activated) => options.onActivated?.(activated.name),
      onFailed: (instanceId, error) => options.onFailed?.(instanceId, asStrongroomError(error)),
    },
  );
  return { activated: result.done, failed: result.failed };
}
