/**
 * Sealing of key-instance material under the keychain key: AES-256-GCM with a
 * fresh 96-bit IV per seal and additional authenticated data that binds the
 * keychain, key id, instance id, version, algorithm and sealing key version.
 * A row whose bytes are altered, or whose sealed material is moved to another
 * row, key or version, fails to open (INTEGRITY_FAILURE) instead of yielding
 * the wrong key.
 *
 * Sealed layout: format (1 byte, 0x01) || IV (12) || ciphertext || tag (16).
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { KeychainError } from '../common/errors';
import { encodeFields } from './field-encoding';

const SEAL_FORMAT_V1 = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEYCHAIN_KEY_BYTES = 32;
/** Domain separation: these AADs are for instance material and nothing else. */
const AAD_LABEL = 'strongroom/instance-material/v1';

export interface SealBinding {
  readonly keychainId: string;
  readonly keyId: string;
  readonly instanceId: string;
  readonly version: number;
  readonly algorithm: string;
  readonly sealVersion: number;
}

/** The AAD: length-prefixed fields, so no two different bindings encode to the same bytes. */
export function encodeAad(binding: SealBinding): Buffer {
  return encodeFields([
    AAD_LABEL,
    binding.keychainId,
    binding.keyId,
    binding.instanceId,
    binding.version,
    binding.algorithm,
    binding.sealVersion,
  ]);
}

function checkKey(keychainKey: Buffer): void {
  if (keychainKey.length !== KEYCHAIN_KEY_BYTES) {
    throw new KeychainError('INTERNAL_ERROR', 'keychain key has the wrong length');
  }
}

/** AES-256-GCM under `key` with a fresh IV: format || IV || ciphertext || tag. */
export function sealWithAad(key: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
  checkKey(key);
  const iv = randomFillSync(Buffer.alloc(IV_BYTES));
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([Buffer.from([SEAL_FORMAT_V1]), iv, body, tail, cipher.getAuthTag()]);
}

/**
 * Opens what sealWithAad made; returns the plaintext in a fresh Buffer the
 * caller must zero. Any failure is `failure(why)`, thrown.
 */
export function openWithAad(key: Buffer, aad: Buffer, sealed: Buffer, failure: (why: string, cause?: unknown) => Error): Buffer {
  checkKey(key);
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES) throw failure('too short');
  if (sealed[0] !== SEAL_FORMAT_V1) throw failure('unknown format');
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const plain = decipher.update(body);
  try {
    const tail = decipher.final();
    if (tail.length === 0) return plain;
    const whole = Buffer.concat([plain, tail]);
    plain.fill(0);
    tail.fill(0);
    return whole;
  } catch (err) {
    // GCM released unauthenticated plaintext from update(): it must not survive.
    plain.fill(0);
    throw failure('tag mismatch', err);
  }
}

export function sealMaterial(keychainKey: Buffer, binding: SealBinding, material: Buffer): Buffer {
  return sealWithAad(keychainKey, encodeAad(binding), material);
}

/** Returns the material in a fresh Buffer the caller must zero. */
export function openMaterial(keychainKey: Buffer, binding: SealBinding, sealed: Buffer): Buffer {
  return openWithAad(keychainKey, encodeAad(binding), sealed, (why, cause) =>
    new KeychainError('INTEGRITY_FAILURE', `sealed material of instance ${binding.instanceId} failed authentication (${why})`, {
      cause,
      details: { keyId: binding.keyId, instanceId: binding.instanceId },
    }),
  );
}
