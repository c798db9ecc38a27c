/**
 * The raw cipher modes of Encrypt and Decrypt (docs/protocol.md §6.1), for
 * clients that bring their own format (KMIP's Cryptographic Parameters):
 * AES-GCM and ChaCha20-Poly1305 with the caller's AAD and a tag of 12–16
 * bytes, and AES-CBC with PKCS#5 padding. The ciphertext is the bare
 * cipher output; the IV and tag travel beside it, not in it. Pure: the
 * caller (domain/crypto-service.ts) checks grants, usage, state, counts
 * AEAD invocations and gives the material; the IV is given (the caller's
 * own, checked here) or drawn by the caller.
 *
 * An AAD that is one of the appliance's own (domain/crypto-service.ts
 * aadFor: the first field is a `strongroom/…` label) is refused in both
 * directions: a raw Encrypt could otherwise make a valid wrapped data key
 * for a key of the caller's choosing, and a raw Decrypt unwrap one, with
 * the `encrypt` or `decrypt` permission alone instead of `generate-data-key`
 * or `decrypt-data-key`.
 */
import { CipherGCMTypes, Decipher, createCipheriv, createDecipheriv } from 'node:crypto';
import { KeychainError, ValidationError } from '../common/errors';
import { DEFAULT_TAG_BYTES, MAX_GCM_IV_BYTES, MAX_TAG_BYTES, MIN_TAG_BYTES, RAW_MODES, RawMode } from './vocabulary/cipher-modes';

export { RAW_MODES };
export type { RawMode };

/** What each mode needs of the key's algorithm and its IV. */
interface ModeInfo {
  readonly ciphers: Readonly<Record<string, string>>;
  /** The IV length the appliance draws, and the lengths a caller may give. */
  readonly ivBytes: number;
  readonly callerIv: (length: number) => boolean;
  readonly aead: boolean;
}

const MODES: Readonly<Record<RawMode, ModeInfo>> = {
  'AES-GCM': {
    ciphers: { 'AES-128': 'aes-128-gcm', 'AES-192': 'aes-192-gcm', 'AES-256': 'aes-256-gcm' },
    ivBytes: 12,
    callerIv: (length) => length >= 1 && length <= MAX_GCM_IV_BYTES,
    aead: true,
  },
  'CHACHA20-POLY1305': {
    ciphers: { CHACHA20: 'chacha20-poly1305' },
    ivBytes: 12,
    // RFC 8439: a 96-bit nonce, nothing else.
    callerIv: (length) => length === 12,
    aead: true,
  },
  'AES-CBC-PKCS5': {
    ciphers: { 'AES-128': 'aes-128-cbc', 'AES-192': 'aes-192-cbc', 'AES-256': 'aes-256-cbc' },
    ivBytes: 16,
    callerIv: (length) => length === 16,
    aead: false,
  },
};

export interface RawOptions {
  readonly aad?: Buffer;
  readonly tagLength?: number;
}

export interface RawSealed {
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
  /** AEAD modes only. */
  readonly tag?: Buffer;
}

/** Whether a mode authenticates (and so counts against the key's AEAD invocation budget, and takes AAD and a tag). */
export const isAead = (mode: RawMode): boolean => MODES[mode].aead;

/** The IV length the appliance draws for a mode. */
export const generatedIvBytes = (mode: RawMode): number => MODES[mode].ivBytes;

/** The algorithms a mode takes, for the family check and its message. */
export const modeAlgorithms = (mode: RawMode): Readonly<Record<string, string>> => MODES[mode].ciphers;

/**
 * Refuses what does not fit the mode before any material is opened: AAD,
 * tag or tag length on CBC; a tag length outside 12–16; an IV of a length
 * the mode does not take; an appliance AAD.
 */
export function checkRawOptions(mode: RawMode, options: RawOptions & { iv?: Buffer; tag?: Buffer }): void {
  const info = MODES[mode];
  if (!info.aead && (options.aad !== undefined || options.tag !== undefined || options.tagLength !== undefined)) {
    throw new ValidationError(`${mode} is not authenticated: it takes no aad, tag or tagLength`);
  }
  const tagLength = options.tagLength ?? options.tag?.length;
  if (info.aead && tagLength !== undefined && (tagLength < MIN_TAG_BYTES || tagLength > MAX_TAG_BYTES)) {
    throw new ValidationError(`${mode} tags are ${MIN_TAG_BYTES} to ${MAX_TAG_BYTES} bytes, not ${tagLength}`);
  }
  if (options.tag !== undefined && options.tagLength !== undefined && options.tag.length !== options.tagLength) {
    throw new ValidationError(`the tag is ${options.tag.length} bytes but tagLength says ${options.tagLength}`);
  }
  if (options.iv !== undefined && !info.callerIv(options.iv.length)) {
    throw new ValidationError(`${mode} takes no IV of ${options.iv.length} bytes (it draws ${info.ivBytes})`);
  }
  if (options.aad !== undefined && isApplianceAad(options.aad)) {
    throw new ValidationError('the aad is one of the appliance\'s own (a strongroom/ label): raw modes do not take it');
  }
}

/** An AAD made by domain/crypto-service.ts aadFor: its first field (4-byte length, then UTF-8) starts `strongroom/`. */
function isApplianceAad(aad: Buffer): boolean {
  return aad.length >= 4 + 11 && aad.subarray(4, 4 + 11).toString('latin1') === 'strongroom/';
}

/** Encrypts under `material` (the key's algorithm checked by the caller against modeAlgorithms). */
export function rawSeal(mode: RawMode, algorithm: string, material: Buffer, plaintext: Buffer, iv: Buffer, options: RawOptions): RawSealed {
  const info = MODES[mode];
  if (!info.aead) {
    const cipher = createCipheriv(info.ciphers[algorithm], material, iv);
    return { ciphertext: Buffer.concat([cipher.update(plaintext), cipher.final()]), iv };
  }
  const tagLength = options.tagLength ?? DEFAULT_TAG_BYTES;
  const cipher = createCipheriv(info.ciphers[algorithm] as CipherGCMTypes, material, iv, { authTagLength: tagLength });
  if (options.aad !== undefined) cipher.setAAD(options.aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, iv, tag: cipher.getAuthTag() };
}

/**
 * Decrypts; the plaintext is the caller's to zero. A wrong tag (AEAD) or
 * bad padding (CBC) is INTEGRITY_FAILURE with one message for either, so
 * the answer is no padding oracle beyond the fact of failure.
 */
export function rawOpen(mode: RawMode, algorithm: string, material: Buffer, ciphertext: Buffer, iv: Buffer, tag: Buffer | undefined, aad: Buffer | undefined): Buffer {
  const info = MODES[mode];
  if (info.aead && tag === undefined) throw new ValidationError(`${mode} decryption needs the tag`);
  let decipher: Decipher;
  if (tag !== undefined && info.aead) {
    // The OpenSSL names of both AEAD modes; the GCM type stands for either (same calls).
    const aead = createDecipheriv(info.ciphers[algorithm] as CipherGCMTypes, material, iv, { authTagLength: tag.length });
    if (aad !== undefined) aead.setAAD(aad);
    aead.setAuthTag(tag);
    decipher = aead;
  } else {
    decipher = createDecipheriv(info.ciphers[algorithm], material, iv);
  }
  const plain = decipher.update(ciphertext);
  try {
    return Buffer.concat([plain, decipher.final()]);
  } catch (cause) {
    throw new KeychainError('INTEGRITY_FAILURE', `the ${mode} ciphertext failed ${info.aead ? 'authentication' : 'its padding check'}: wrong key, IV, ${info.aead ? 'aad or tag' : 'or ciphertext'}, or altered`, { cause });
  } finally {
    plain.fill(0);
  }
}
