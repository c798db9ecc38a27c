/**
 * Ends the retention of replaced instances (config rollover_retention):
 * schedules the destruction of every Deactivated, non-current instance with
 * material that was deactivated at or before a cut-off, in time-boxed
 * batches that yield to the event loop (sweep-due.ts), each in its own
 * savepoint and only if still over when read again. The destruction is the
 * usual cancellable one: it waits `destroyAtMs` and can be called off.
 */
import { Keychain } from './keychain';
import { InstanceRecorder, instancesRecorder, sweepDue, yieldToEventLoop } from './sweep-due';
import { InstanceView } from './views';

export interface RetentionSweepOptions {
  /** Told of each instance whose destruction was scheduled, once committed. */
  readonly onScheduled?: (instance: InstanceView) => void;
  readonly onFailed?: (instanceId: string, error: unknown) => void;
  /** Awaited after each batch's reports: a rejection (its audit events could not be written) stops the sweep. */
  readonly afterBatch?: () => Promise<void>;
  /** Asked inside each batch's transaction before it acts (the scheduler's lease): false ends the sweep. */
  readonly mayAct?: () => boolean;
  /** Appends the batch's `destruction-scheduled` events in its transaction (sweep-due.ts DueWork.recordWithin). */
  readonly recordWithin?: InstanceRecorder;
}

export async function sweepExpiredRetention(
  keychain: Keychain,
  deactivatedBeforeMs: number,
  destroyAtMs: number,
  options: RetentionSweepOptions = {},
): Promise<{ scheduled: number; failed: number }> {
  const result = await sweepDue(
    {
      listDue: (limit) => keychain.retentionExpired(deactivatedBeforeMs, limit),
      idOf: (instanceId) => instanceId,
      act: (instanceId) => keychain.scheduleIfRetentionOver(instanceId, deactivatedBeforeMs, destroyAtMs),
      transaction: (batch) => keychain.transaction(batch),
      clock: keychain.clock,
      mayAct: options.mayAct,
      recordWithin: instancesRecorder(options.recordWithin),
    },
    {
      onDone: options.onScheduled,
      onFailed: options.onFailed,
      pause: async () => {
        await options.afterBatch?.();
        await yieldToEventLoop();
      },
    },
  );
  return { scheduled: result.done, failed: result.failed };
}
