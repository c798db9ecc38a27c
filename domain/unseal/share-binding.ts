/**
 * Binding the keychain key to the custodians' Shamir secret, so that neither
 * the HSM alone nor the shares alone yield it.
 *
 *   KEK   = HKDF-SHA256(secret, salt = keychain id, info = 'strongroom/unseal-kek/v1', 32 bytes)
 *   inner = 'SRU' || AES-256-GCM_KEK(keychain key; AAD = keychain id, keychain key version, shares, threshold)
 *   row   = CKM_AES_KEY_WRAP_PAD_master-key-vN(inner)            (what keychain_keys.wrapped holds)
 *
 * Why the HSM wrap is the OUTER layer: master-key rotation then rewraps the
 * 64-byte inner blob from one master key version to the next with the HSM
 * alone: it needs neither the custodians nor the plaintext keychain key, so
 * rotation can run while the appliance is sealed and never widens who sees
 * the key. The inner GCM layer is unchanged by rotation. The cost: a wrong
 * combination of shares is found after one HSM unwrap (GCM fails on the
 * inner blob), which is one call per rate-limited attempt.
 *
 * Without the shares the HSM yields only `inner`, 64 bytes of ciphertext
 * under a 256-bit KEK; without the HSM the file holds only the RFC 5649 wrap.
 * The header makes the inner blob exactly 64 bytes (3 + 1 + 12 + 32 + 16),
 * a whole number of 8-byte semiblocks as the HSM port requires. The GCM tag
 * is also the integrity check of the shares: a forged or mistyped share that
 * passed its checksum, a share of another set, or too few shares give
 * another secret and the tag fails (UNSEAL_SHARES_INVALID, which never says
 * which share was wrong: the combination cannot tell).
 */
import { hkdfSync } from 'node:crypto';
import { KeychainError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { encodeFields } from '../field-encoding';
import { openWithAad, sealWithAad } from '../instance-seal';
import { UNSEAL_SECRET_BYTES } from './share-codec';

const KEK_INFO = 'strongroom/unseal-kek/v1';
const AAD_LABEL = 'strongroom/share-bound-keychain-key/v1';
/** Marks an inner blob, and pads it to 64 bytes. */
const BOUND_HEADER = Buffer.from('SRU', 'ascii');
export const BOUND_KEY_BYTES = 64;
const KEK_BYTES = 32;

export interface BindingContext {
  readonly keychainId: string;
  /** The keychain key version (keychain_keys.version). */
  readonly version: number;
  readonly shares: number;
  readonly threshold: number;
}

/** The key-encryption key of the shares' secret; the caller wipes it. */
export function deriveUnsealKek(secret: Uint8Array, keychainId: string): Buffer {
  if (secret.length !== UNSEAL_SECRET_BYTES) throw new KeychainError('INTERNAL_ERROR', 'the unseal secret has the wrong length');
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from(keychainId, 'utf8'), KEK_INFO, KEK_BYTES));
}

function aad(context: BindingContext): Buffer {
  return encodeFields([AAD_LABEL, context.keychainId, context.version, context.shares, context.threshold]);
}

/** The inner blob of `keychainKey` (64 bytes), for the HSM to wrap. */
export function bindKeychainKey(kek: Buffer, context: BindingContext, keychainKey: Buffer): Buffer {
  const sealed = sealWithAad(kek, aad(context), keychainKey);
  const bound = Buffer.concat([BOUND_HEADER, sealed]);
  wipe(sealed);
  if (bound.length !== BOUND_KEY_BYTES) throw new KeychainError('INTERNAL_ERROR', 'a share-bound keychain key has the wrong length');
  return bound;
}

/** Whether what the HSM unwrapped is an inner (share-bound) blob rather than a bare keychain key. */
export function isBoundKeychainKey(unwrapped: Buffer): boolean {
  return unwrapped.length === BOUND_KEY_BYTES && unwrapped.subarray(0, BOUND_HEADER.length).equals(BOUND_HEADER);
}

/** Opens the inner blob; the keychain key in a fresh Buffer the caller wipes. UNSEAL_SHARES_INVALID when the secret is not the one. */
export function openBoundKeychainKey(kek: Buffer, context: BindingContext, bound: Buffer): Buffer {
  if (!isBoundKeychainKey(bound)) {
    throw new KeychainError('INTEGRITY_FAILURE', `keychain key v${context.version} is not share-bound although the unseal policy says it is`);
  }
  return openWithAad(kek, aad(context), bound.subarray(BOUND_HEADER.length), (_why, cause) =>
    new KeychainError('UNSEAL_SHARES_INVALID', 'the submitted shares do not open this keychain; progress is reset, every custodian submits again', { cause }),
  );
}
