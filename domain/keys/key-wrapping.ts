/**
 * The two ways key material leaves or enters the appliance wrapped (BYOK,
 * issue 14), as pure functions over bytes:
 *
 * - AES key wrap with padding (RFC 5649, "KWP"; NIST SP 800-38F KWP with
 *   the RFC's alternative IV A65959A6) under an AES key of 128, 192 or 256
 *   bits. Any length of material (a SECRET too); the unwrap checks the
 *   integrity value and the padding, so a wrong key or an altered blob is
 *   refused (UNWRAP_FAILED), never returned as other bytes.
 * - RSA-OAEP with SHA-256 and MGF1-SHA-256 (RFC 8017 §7.1; AWS KMS's and
 *   Azure's RSAES_OAEP_SHA_256) under an RSA public key the requester gives
 *   as a SubjectPublicKeyInfo PEM, of 2048 bits or more (NIST SP 800-131A:
 *   anything smaller is disallowed for key transport).
 *
 * Both run in node:crypto, after the keychain opened the material: the
 * appliance's instance material is sealed in software under the keychain
 * key (the HSM holds only the master key that unwraps it), so every use of
 * a key already has its bytes in this process for a moment. Handing them to
 * the HSM to wrap would mean importing them into the token as a session
 * object first: one more copy, in a second place, for no gain.
 */
import { createCipheriv, createDecipheriv, createHash, createPublicKey, constants, KeyObject, publicEncrypt } from 'node:crypto';
import { KeychainError } from '../../common/errors';
import { wipe } from '../../common/secret';

/** The wrapping methods, in the wire's spelling (protocol/op-schemas.ts WRAP_METHODS). */
export type WrapMethod = 'AES-KWP' | 'RSA-OAEP-SHA256';

/** RFC 5649 §3: the alternative initial value's constant half. */
const KWP_IV = Buffer.from('A65959A6', 'hex');
/** Smallest RSA modulus accepted for key transport (SP 800-131A Rev. 2, §6). */
export const MIN_RSA_BITS = 2048;
/** Largest: beyond this an RSA "key" is a denial of service, not a key. */
export const MAX_RSA_BITS = 16384;

function kwpCipher(kek: Buffer): string {
  if (![16, 24, 32].includes(kek.length)) throw new KeychainError('USAGE_NOT_PERMITTED', 'AES key wrap needs an AES-128, AES-192 or AES-256 wrapping key');
  return `id-aes${kek.length * 8}-wrap-pad`;
}

/** RFC 5649 wrap of `material` under `kek`; the material stays the caller's to zero. */
export function kwpWrap(kek: Buffer, material: Buffer): Buffer {
  const cipher = createCipheriv(kwpCipher(kek), kek, KWP_IV);
  return Buffer.concat([cipher.update(material), cipher.final()]);
}

/** RFC 5649 unwrap; the result is the caller's to zero. UNWRAP_FAILED when the integrity check fails. */
export function kwpUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const failed = (cause?: unknown): KeychainError =>
    new KeychainError('UNWRAP_FAILED', 'the wrapped material did not unwrap under the named key (RFC 5649 integrity check failed): it was wrapped under another key, or altered', { cause });
  // RFC 5649 output is a whole number of 8-byte semiblocks, at least two.
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) throw failed();
  const decipher = createDecipheriv(kwpCipher(kek), kek, KWP_IV);
  let head: Buffer | null = null;
  try {
    head = decipher.update(wrapped);
    const tail = decipher.final();
    const out = Buffer.concat([head, tail]);
    wipe(tail);
    return out;
  } catch (err) {
    throw failed(err);
  } finally {
    if (head !== null) wipe(head);
  }
}

/** A requester's RSA public key, checked, with its fingerprint. */
export interface RsaWrappingKey {
  readonly key: KeyObject;
  readonly bits: number;
  /** Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo: `openssl pkey -pubin -outform DER | sha256sum` prints the same. */
  readonly fingerprint: string;
}

/**
 * Parses a SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"): RSA (not RSA-PSS,
 * whose key may not encrypt), MIN_RSA_BITS to MAX_RSA_BITS. WRAPPING_KEY_REFUSED otherwise.
 */
export function parseRsaWrappingKey(pem: string): RsaWrappingKey {
  if (!/^-----BEGIN PUBLIC KEY-----\r?\n/.test(pem.trimStart())) throw wrappingRefused('must be a SubjectPublicKeyInfo PEM (-----BEGIN PUBLIC KEY-----)');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw wrappingRefused('is not a readable public key PEM', err);
  }
  if (key.asymmetricKeyType !== 'rsa') throw wrappingRefused(`is ${key.asymmetricKeyType ?? 'not an asymmetric key'}, not RSA`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) throw wrappingRefused(`has ${bits} bits; RSA-OAEP wrapping takes ${MIN_RSA_BITS} to ${MAX_RSA_BITS}`);
  const der = key.export({ type: 'spki', format: 'der' });
  return { key, bits, fingerprint: createHash('sha256').update(der).digest('hex') };
}

function wrappingRefused(why: string, cause?: unknown): KeychainError {
  return new KeychainError('WRAPPING_KEY_REFUSED', `the wrapping public key ${why}`, { cause, details: { field: 'wrapPublicKey' } });
}

/** Largest material RSA-OAEP-SHA256 carries under a `bits` modulus: k - 2·hLen - 2 bytes (RFC 8017 §7.1.1). */
export function oaepCapacity(bits: number): number {
  return Math.floor(bits / 8) - 2 * 32 - 2;
}

/** RSA-OAEP-SHA256 (MGF1-SHA256, empty label) of `material` under the requester's key; the material stays the caller's to zero. */
export function rsaOaepWrap(wrapping: RsaWrappingKey, material: Buffer): Buffer {
  if (material.length > oaepCapacity(wrapping.bits)) {
    throw new KeychainError('WRAPPING_KEY_REFUSED', `the material (${material.length} bytes) is longer than RSA-OAEP-SHA256 under a ${wrapping.bits}-bit key carries (${oaepCapacity(wrapping.bits)}); wrap it under an AES key (AES-KWP) or a larger RSA key`, {
      details: { field: 'wrapPublicKey' },
    });
  }
  return publicEncrypt({ key: wrapping.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
}
