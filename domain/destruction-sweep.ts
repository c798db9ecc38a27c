/**
 * Carries out scheduled destructions that are due, in time-boxed batches that
 * yield to the event loop (sweep-due.ts), each instance in its own savepoint
 * and only if, read again, its destruction is still pending and due (so a
 * cancel that wins the race wins, and a crash and a new sweep never destroy
 * twice). One transaction per batch: one fsync, one scrub of the WAL; the
 * walk that zeroes the pages' unused space runs once, when the sweep ends
 * (a walk of the whole file per batch made a sweep of thousands of
 * destructions on a large keychain spend minutes in it).
 */
import { asStrongroomError, StrongroomError } from '../common/errors';
import { Keychain } from './keychain';
import { InstanceRecorder, instancesRecorder, sweepDue } from './sweep-due';

export interface DestructionSweepOptions {
  readonly batchSize?: number;
  readonly yieldBetweenBatches?: () => Promise<void>;
  readonly onDestroyed?: (instance: string) => void;
  readonly onFailed?: (instanceId: string, error: StrongroomError) => void;
  /** Asked inside each batch's transaction before it acts (the scheduler's lease): false ends the sweep. */
  readonly mayAct?: () => boolean;
  /** Appends the batch's `destroyed` events in its transaction (sweep-due.ts DueWork.recordWithin). */
  readonly recordWithin?: InstanceRecorder;
}

export async function sweepDueDestructions(keychain: Keychain, atMs: number, options: DestructionSweepOptions = {}): Promise<{ destroyed: number; failed: number }> {
  const release = keychain.holdUnusedSpaceZeroing();
  try {
    return await destroyDue(keychain, atMs, options);
  } finally {
    release();
  }
}

async function destroyDue(keychain: Keychain, atMs: number, options: DestructionSweepOptions): Promise<{ destroyed: number; failed: number }> {
  const result = await sweepDue(
    {
      listDue: (limit) => keychain.dueDestructions(atMs, limit),
      idOf: (due) => due.instanceId,
      act: ({ instanceId }) => keychain.destroyIfDue(instanceId, atMs),
      transaction: (batch) => keychain.transaction(batch),
      clock: keychain.clock,
      mayAct: options.mayAct,
      recordWithin: instancesRecorder(options.recordWithin),
    },
    {
      batchSize: options.batchSize,
      pause: options.yieldBetweenBatches,
      onDone: (destroyed) => options.onDestroyed?.(destroyed.name),
      onFailed: (instanceId, error) => options.onFailed?.(instanceId, asStrongroomError(error)),
    },
  );
  return { destroyed: result.done, failed: result.failed };
}
