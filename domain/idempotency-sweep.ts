/**
 * The retention of idempotency records (idempotency_retention, default
 * PT24H): records older than it are deleted, in bounded batches, by the
 * scheduled sweep (rollover-service.ts), so a retry within the retention is
 * answered from its record and the table does not grow for ever. A retry
 * after it runs again: what bounds the harm then is the write's own rules
 * (a name taken, a state already reached), as for a write sent twice
 * without a key.
 *
 * Not audited per record: a record is a stored answer, not keychain state;
 * deleting one changes no key, client or grant. The count is logged.
 */
import { Keychain } from './keychain';

/** Records deleted per transaction: one commit never holds the writer lock long. */
export const IDEMPOTENCY_SWEEP_BATCH = 500;

/** Deletes every record written before nowMs - retentionMs, a batch per transaction, yielding between batches; answers how many. */
export async function sweepIdempotencyRecords(keychain: Keychain, nowMs: number, retentionMs: number, yieldBetweenBatches: () => Promise<void>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = keychain.transaction(() => keychain.idempotency.deleteOlderThan(nowMs - retentionMs, IDEMPOTENCY_SWEEP_BATCH));
    total += deleted;
    if (deleted < IDEMPOTENCY_SWEEP_BATCH) return total;
    await yieldBetweenBatches();
  }
}
