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
 * The contract. reserveInvocations adds `count` to the instance's mark
 * atomically (two processes on one file never get the same block) and
 * returns the new mark: the caller's block is [mark - count, mark). A mark
 * only grows. It is called outside any transaction (a rolled-back outer
 * transaction must not undo a reservation whose invocations were used).
 * Errors as in keychain-store.ts; any call after close() is STORAGE_ERROR.
 */
export interface InvocationStore {
  /** The mark reserved so far for `instanceId` (0: none). */
  invocationsReserved(instanceId: string): number;

  /** Adds `count` (≥ 1) to the instance's mark, durably; returns the new mark. */
  reserveInvocations(instanceId: string, count: number): number;
}
