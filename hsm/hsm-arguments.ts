/**
 * Argument checks shared by every HsmPort implementation, so that the soft
 * and the PKCS#11 ports refuse the same inputs with the same code
 * (INVALID_ARGUMENT) before touching a token.
 */
import { ValidationError } from '../common/errors';
import type { WrappedKey } from './hsm-port';

/** Smallest key the port wraps: 128 bits; anything shorter is not key material. */
export const MIN_WRAP_KEY_BYTES = 16;
/** Largest key the port wraps: 512 bits (e.g. an AES-256-SIV or HMAC-SHA-512 key). */
export const MAX_WRAP_KEY_BYTES = 64;
/**
 * Key lengths must be whole 64-bit semiblocks. SoftHSM2 2.6.1's C_WrapKey
 * with CKM_AES_KEY_WRAP_PAD zero-pads the key to a multiple of 8 BEFORE
 * wrapping, so a 20-byte key comes back from C_UnwrapKey as 24 bytes (the
 * RFC 5649 length field says 24). Every real key size (AES-128/192/256,
 * HMAC-SHA-256/512, AES-256-SIV) is a multiple of 8, so both ports refuse
 * other lengths rather than return the wrong bytes.
 */
export const WRAP_KEY_BYTES_MULTIPLE = 8;
/**
 * Largest wrapped blob accepted: AES-KWP output of MAX_WRAP_KEY_BYTES is 72
 * bytes; the margin still stops a hostile length reaching the token.
 */
export const MAX_WRAPPED_BYTES = 128;
/** A SHA-256 digest. */
export const DIGEST_BYTES = 32;
/** Master key versions fit CKA_ID's 4 bytes and the keychain's integer column. */
export const MAX_MASTER_KEY_VERSION = 0x7fffffff;

export function assertVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 1 || version > MAX_MASTER_KEY_VERSION) {
    throw new ValidationError(`master key version must be an integer in 1..${MAX_MASTER_KEY_VERSION}`, {
      details: { version: String(version) },
    });
  }
}

export function assertKeyBytes(keyBytes: Buffer): void {
  if (
    !Buffer.isBuffer(keyBytes) ||
    keyBytes.length < MIN_WRAP_KEY_BYTES ||
    keyBytes.length > MAX_WRAP_KEY_BYTES ||
    keyBytes.length % WRAP_KEY_BYTES_MULTIPLE !== 0
  ) {
    throw new ValidationError(
      `key to wrap must be ${MIN_WRAP_KEY_BYTES}..${MAX_WRAP_KEY_BYTES} bytes, a multiple of ${WRAP_KEY_BYTES_MULTIPLE}`,
      { details: { length: Buffer.isBuffer(keyBytes) ? keyBytes.length : -1 } },
    );
  }
}

export function assertWrapped(wrapped: WrappedKey): void {
  if (wrapped.mechanism !== 'AES_KEY_WRAP_PAD') {
    throw new ValidationError('unknown wrapping mechanism', { details: { mechanism: String(wrapped.mechanism) } });
  }
  assertVersion(wrapped.masterKeyVersion);
  if (!Buffer.isBuffer(wrapped.wrapped) || wrapped.wrapped.length === 0 || wrapped.wrapped.length > MAX_WRAPPED_BYTES) {
    throw new ValidationError(`wrapped key must be 1..${MAX_WRAPPED_BYTES} bytes`);
  }
}

export function assertDigest(digest: Buffer): void {
  if (!Buffer.isBuffer(digest) || digest.length !== DIGEST_BYTES) {
    throw new ValidationError(`digest must be ${DIGEST_BYTES} bytes (SHA-256)`, {
      details: { length: Buffer.isBuffer(digest) ? digest.length : -1 },
    });
  }
}
