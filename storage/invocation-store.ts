/**
 * The invocation-count capability of the keychain store: for each key
 * instance, how many AES-GCM invocations (Encrypt, GenerateDataKey: each a
 * fresh random 96-bit IV under the instance's material) have been reserved.
 * NIST SP 800-38D §8.3 allows at most 2^32 invocations per key with random
 * IVs; domain/gcm-invocations.ts refuses well before that.
 *
 * Why it is its own capability: it is written on the hot path of Encrypt,
 * in blocks (one write per N invocations, not one per call), and a
 * reservation must be durable before any invocation of its block is used,
 * whatever transaction the caller is in or not in. It is not a keychain
 * change: no cache depends on it, so it never moves the change stamp.
 *
 * The contract. raiseMark runs `next` under the write lock with the
 * instance's stored mark (null: none) and stores what it returns, so two
 * processes on one file never get the same block; the domain decides the
 * new mark and its row MAC (domain/trust/authenticated-invocations.ts), the
 * store keeps them. It is called outside any transaction (a rolled-back
 * outer transaction must not undo a reservation whose invocations were
 * used). Errors as in keychain-store.ts; any call after close() is STORAGE_ERROR.
 */
import { StorageError } from '../common/errors';

export interface InvocationMark {
  readonly reserved: number;
  /** The row's MAC (domain/trust/); absent only in a store that was never given one. */
  readonly rowMac?: Buffer;
}

export interface InvocationStore {
  /** The stored mark of `instanceId`, or null when none was reserved. */
  readMark(instanceId: string): InvocationMark | null;

  /**
   * Replaces the instance's mark by `next(current)`, atomically and durably;
   * STORAGE_ERROR unless the new mark is a whole number above the current one.
   * Returns the new mark.
   */
  raiseMark(instanceId: string, next: (current: InvocationMark | null) => InvocationMark): number;
}

/** The contract both stores enforce: a mark only grows, by a whole number. */
export function assertRaise(current: InvocationMark | null, raised: InvocationMark): void {
  if (!(Number.isSafeInteger(raised.reserved) && raised.reserved > (current?.reserved ?? 0))) {
    throw new StorageError('STORAGE_ERROR', 'invocation reservation: a mark only grows, by a whole number');
  }
}
