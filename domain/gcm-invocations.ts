/**
 * The per-instance AES-GCM invocation budget. Encrypt and GenerateDataKey
 * seal under the instance's material with a fresh random 96-bit IV (the raw
 * AES-GCM and ChaCha20-Poly1305 modes of Encrypt count here too, a
 * caller's own IV included: one count per key whatever the mode); NIST SP
 * 800-38D §8.3 caps such invocations at 2^32 per key, past which the chance
 * of a repeated IV (which gives away the authentication key and the XOR of
 * two plaintexts) exceeds 2^-32. The appliance refuses well before: at
 * `limit` (gcm_invocation_limit, 2^31 by default) a protect operation is
 * INVOCATION_LIMIT_REACHED and the key must be rolled over (its new
 * instance has new material and a count of its own).
 *
 * The count must survive restarts but Encrypt runs ~10k times a second, so
 * it is reserved in blocks (by default 16384, or 1/1024 of a smaller limit,
 * at least 1): before the first invocation of a block, the store's mark is
 * raised by `block` (durable, atomic across processes: each process gets
 * its own block); invocations then count in memory. After a
 * restart the count resumes at the stored mark: the unused rest of a block
 * counts as used (at most `block` per instance per restart, conservative:
 * the count can be high, never low). A refused call writes nothing.
 *
 * At `warnAt` (90% of the limit) `onNearLimit` is called once per instance
 * and process, so the operator hears of it while there is time to roll the
 * key over (the server logs it as a warning). Injected: store, limits,
 * callback; no clock needed.
 */
import { ConfigError, KeychainError } from '../common/errors';

/**
 * The counts as this budget uses them: the marks, authenticated
 * (domain/trust/authenticated-invocations.ts over storage/invocation-store.ts).
 */
export interface InvocationCounts {
  /** The mark reserved so far for `instanceId` (0: none). */
  invocationsReserved(instanceId: string): number;
  /** Adds `count` (≥ 1) to the instance's mark, durably and atomically; returns the new mark. */
  reserveInvocations(instanceId: string, count: number): number;
}

/** NIST SP 800-38D §8.3: random 96-bit IVs, at most 2^32 invocations per key. */
export const GCM_RANDOM_IV_MAX_INVOCATIONS = 2 ** 32;
/** Default refusal point: half the NIST bound, so an over-count of blocks or a restart storm never nears it. */
export const DEFAULT_GCM_INVOCATION_LIMIT = 2 ** 31;
/** Most invocations reserved per store write: at ~11k Encrypts a second, about one write a second. */
export const DEFAULT_INVOCATION_BLOCK = 16_384;
/** A block is at most this share of the limit, so a restart (which forfeits the rest of a block) costs at most 1/1024 of it. */
const BLOCK_SHARE_OF_LIMIT = 1024;
/** The share of the limit at which the operator is warned. */
export const NEAR_LIMIT_FRACTION = 0.9;

export interface InvocationLimits {
  readonly limit: number;
  /** Invocations reserved per store write (default: see above). */
  readonly block?: number;
}

export interface NearLimit {
  readonly instanceId: string;
  readonly instanceName: string;
  readonly used: number;
  readonly limit: number;
}

interface Budget {
  /** The number the next invocation gets. */
  next: number;
  /** The end (exclusive) of the block this process reserved. */
  end: number;
  warned: boolean;
}

export class GcmInvocations {
  readonly limit: number;
  private readonly block: number;
  private readonly warnAt: number;
  private readonly budgets = new Map<string, Budget>();

  constructor(
    private readonly store: InvocationCounts,
    limits: InvocationLimits = { limit: DEFAULT_GCM_INVOCATION_LIMIT },
    private readonly onNearLimit: (near: NearLimit) => void = () => undefined,
  ) {
    if (!(Number.isSafeInteger(limits.limit) && limits.limit >= 1 && limits.limit <= GCM_RANDOM_IV_MAX_INVOCATIONS)) {
      throw new ConfigError(`gcm_invocation_limit must be a whole number from 1 to 2^32 (${GCM_RANDOM_IV_MAX_INVOCATIONS}), not ${limits.limit}`);
    }
    this.limit = limits.limit;
    const block = limits.block ?? Math.min(DEFAULT_INVOCATION_BLOCK, Math.floor(this.limit / BLOCK_SHARE_OF_LIMIT));
    this.block = Math.max(1, Math.min(block, this.limit));
    this.warnAt = Math.floor(this.limit * NEAR_LIMIT_FRACTION);
  }

  /**
   * Counts one invocation under the instance's material, reserving a block
   * first when this process has none left. Throws INVOCATION_LIMIT_REACHED
   * (nothing written) once the limit is reached; a storage error propagates,
   * so an invocation that could not be counted does not happen.
   */
  take(instanceId: string, instanceName: string): void {
    let budget = this.budgets.get(instanceId);
    if (budget === undefined) {
      const mark = this.store.invocationsReserved(instanceId);
      budget = { next: mark, end: mark, warned: false };
      this.budgets.set(instanceId, budget);
    }
    if (budget.next >= this.limit) throw this.limitReached(instanceName);
    if (budget.next >= budget.end) {
      const mark = this.store.reserveInvocations(instanceId, this.block);
      // Another process may have reserved since: this block is [mark - block, mark).
      budget.next = mark - this.block;
      budget.end = mark;
      if (budget.next >= this.limit) throw this.limitReached(instanceName);
    }
    budget.next++;
    if (!budget.warned && budget.next >= this.warnAt) {
      budget.warned = true;
      this.onNearLimit({ instanceId, instanceName, used: budget.next, limit: this.limit });
    }
  }

  private limitReached(instanceName: string): KeychainError {
    return new KeychainError('INVOCATION_LIMIT_REACHED', `instance ${instanceName} reached its limit of ${this.limit} AES-GCM invocations: roll the key over`, {
      details: { instance: instanceName, limit: this.limit },
    });
  }
}
