/**
 * Per-custodian share commitments: at init, for each custodian i,
 *
 *   commitment_i = SHA-256(encodeFields(['strongroom/unseal-share-commitment/v1', keychain id, i]) || share_i)
 *
 * (share_i the 33 share bytes: 256 bits of y values and the x coordinate, so
 * the digest reveals nothing a guess could confirm), and the list is stored
 * as an HSM-sealed secret (domain/unseal/hsm-sealed-secrets.ts): AES-GCM
 * under a data key only the HSM unwraps, so nobody without the HSM can
 * forge or alter it, and master-key rotation rewraps it with the rest.
 *
 * Why: the share checksum catches typos, not forgeries (anyone computes
 * it), and the shares' combination can only be checked at the threshold.
 * Without a per-share check, one officer could submit a made-up share
 * labelled "custodian 3", so that the real custodian 3 is refused as a
 * duplicate and the attempt fails at the threshold: a ceremony sabotaged at
 * will. With the commitments a share is checked on its own, at submission,
 * and a wrong one is refused (UNSEAL_SHARE_INVALID, naming the custodian
 * number) without being held or costing anyone's progress.
 *
 * Keychains made before commitments existed have none: their shares are
 * checked only at the threshold, and UnsealStatus says so (shareCheck).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Clock } from '../../common/clock';
import { KeychainError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainRootStore } from '../../storage/keychain-root-store';
import { TransactionalStore } from '../../storage/transactional-store';
import { encodeFields } from '../field-encoding';
import { getHsmSealedSecret, putHsmSealedSecret } from './hsm-sealed-secrets';
import { decodeShare, DecodedShare, MAX_SHARES } from './share-codec';

const LABEL = 'strongroom/unseal-share-commitment/v1';
/** The HSM-sealed secret holding the list (JSON: version and one hex digest per custodian). */
export const SHARE_COMMITMENTS_NAME = 'unseal/share-commitments';
const DIGEST_BYTES = 32;

/** Custodian number (1..N) → commitment. */
export type ShareCommitments = ReadonlyMap<number, Buffer>;

export function shareCommitment(keychainId: string, custodian: number, shareBytes: Uint8Array): Buffer {
  return createHash('sha256').update(encodeFields([LABEL, keychainId, custodian])).update(shareBytes).digest();
}

/**
 * Stores the commitments of `shares` (the printed texts, custodian i at
 * index i-1) for the keychain in `store`. Init calls it once, right after
 * the keychain is made; the decoded share bytes are zeroed.
 */
export async function storeShareCommitments(store: KeychainRootStore & TransactionalStore, hsm: HsmPort, clock: Clock, shares: readonly string[]): Promise<void> {
  const meta = store.getMeta();
  if (meta === null) throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', 'no keychain in this data folder; run `strongroom init` first');
  if (shares.length < 1 || shares.length > MAX_SHARES) throw new KeychainError('INTERNAL_ERROR', 'share commitments need 1..16 shares');
  const digests = shares.map((text, index) => {
    const decoded = decodeShare(text);
    try {
      if (decoded.custodian !== index + 1) throw new KeychainError('INTERNAL_ERROR', 'shares must be in custodian order');
      return shareCommitment(meta.keychainId, decoded.custodian, decoded.bytes).toString('hex');
    } finally {
      wipe(decoded.bytes);
    }
  });
  const encoded = Buffer.from(JSON.stringify({ v: 1, commitments: digests }), 'utf8');
  await putHsmSealedSecret(store, hsm, clock, SHARE_COMMITMENTS_NAME, encoded);
}

/** The stored commitments, or null for a keychain made without them. INTEGRITY_FAILURE when the record was altered. */
export async function loadShareCommitments(store: KeychainRootStore, hsm: HsmPort): Promise<ShareCommitments | null> {
  const sealed = await getHsmSealedSecret(store, hsm, SHARE_COMMITMENTS_NAME);
  if (sealed === null) return null;
  try {
    const parsed = JSON.parse(sealed.toString('utf8')) as { v?: unknown; commitments?: unknown };
    const list = parsed.commitments;
    if (parsed.v !== 1 || !Array.isArray(list) || list.length < 1 || list.length > MAX_SHARES || !list.every((d) => typeof d === 'string' && /^[0-9a-f]{64}$/.test(d))) {
      throw new Error('malformed');
    }
    return new Map((list as string[]).map((digest, index) => [index + 1, Buffer.from(digest, 'hex')]));
  } catch (cause) {
    throw new KeychainError('INTEGRITY_FAILURE', 'the stored share commitments are malformed', { cause });
  } finally {
    wipe(sealed);
  }
}

/** Whether `share` is the one committed to for its custodian number (constant-time comparison). */
export function matchesCommitment(commitments: ShareCommitments, keychainId: string, share: DecodedShare): boolean {
  const expected = commitments.get(share.custodian);
  if (expected === undefined) return false;
  const actual = shareCommitment(keychainId, share.custodian, share.bytes);
  return actual.length === DIGEST_BYTES && timingSafeEqual(actual, expected);
}
