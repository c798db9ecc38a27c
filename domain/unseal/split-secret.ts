/**
 * Making and recombining the custodians' secret with the audited
 * `shamir-secret-sharing` library (GF(2^8), per-byte polynomials, random
 * x coordinates): no field arithmetic of our own.
 *
 * The library checks its arguments by constructor, so it gets plain
 * Uint8Arrays, never Buffers. Every array here that held the secret or a
 * share is wiped; the library's own scratch (polynomial coefficients inside
 * split, the y samples inside combine) is not reachable and is left to the
 * garbage collector: a known limit of using it.
 */
import { randomFillSync } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { KeychainError, ValidationError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { encodeShare, MAX_SHARES, SHARE_BYTES, UNSEAL_SECRET_BYTES } from './share-codec';

/** The smallest threshold: one share alone opening the keychain is not split knowledge. */
export const MIN_THRESHOLD = 2;

export interface ShareSet {
  /** The secret, in a buffer the caller wipes once the keychain key is bound to it. */
  readonly secret: Uint8Array;
  /** One printable share per custodian, custodian i at index i-1. Shown once, never stored. */
  readonly shares: readonly string[];
}

/** Checks N and M: 2 <= M <= N <= 16, or M = 1 when `allowSingle` (a lab, never production). */
export function checkShareCounts(shares: number, threshold: number, allowSingle = false): void {
  const minThreshold = allowSingle ? 1 : MIN_THRESHOLD;
  if (!Number.isInteger(shares) || shares < 1 || shares > MAX_SHARES) {
    throw new ValidationError(`--shares must be an integer 2..${MAX_SHARES}`, { details: { field: 'shares' } });
  }
  if (!Number.isInteger(threshold) || threshold < minThreshold || threshold > shares) {
    throw new ValidationError(
      threshold === 1 && !allowSingle
        ? '--threshold 1 lets one custodian unseal alone (no split knowledge); it needs --lab-single-share'
        : `--threshold must be an integer ${minThreshold}..${shares} (at most --shares)`,
      { details: { field: 'threshold' } },
    );
  }
  if (shares < 2 && !allowSingle) throw new ValidationError('--shares must be at least 2', { details: { field: 'shares' } });
}

/**
 * Draws a fresh 256-bit secret and splits it into `shares` shares, any
 * `threshold` of which recombine it. With threshold 1 (lab only) every
 * share is the secret itself plus an x coordinate, as the library cannot
 * split below 2.
 */
export async function makeShareSet(shares: number, threshold: number, allowSingle = false): Promise<ShareSet> {
  checkShareCounts(shares, threshold, allowSingle);
  const secret = randomFillSync(new Uint8Array(UNSEAL_SECRET_BYTES));
  let parts: Uint8Array[] = [];
  try {
    if (threshold === 1) {
      parts = Array.from({ length: shares }, (_, i) => {
        const share = new Uint8Array(SHARE_BYTES);
        share.set(secret);
        share[UNSEAL_SECRET_BYTES] = i + 1;
        return share;
      });
    } else {
      parts = await split(secret, Math.max(shares, 2), threshold);
      parts = parts.slice(0, shares);
    }
    return { secret, shares: parts.map((part, i) => encodeShare(i + 1, part)) };
  } catch (err) {
    wipe(secret);
    throw err;
  } finally {
    wipe(...parts);
  }
}

/**
 * Recombines exactly `threshold` shares (distinct x coordinates, checked at
 * submission) into a candidate secret the caller wipes. It cannot tell a
 * right combination from a wrong one: the share-bound keychain key does.
 */
export async function combineShares(shares: readonly Uint8Array[], threshold: number): Promise<Uint8Array> {
  if (shares.length !== threshold) throw new KeychainError('INTERNAL_ERROR', 'combine needs exactly threshold shares');
  if (threshold === 1) return Uint8Array.from(shares[0].subarray(0, UNSEAL_SECRET_BYTES));
  try {
    return await combine([...shares]);
  } catch (err) {
    throw new KeychainError('UNSEAL_SHARES_INVALID', 'the submitted shares cannot be combined; progress is reset, every custodian submits again', { cause: err });
  }
}
