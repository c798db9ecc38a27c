/**
 * The raw cipher modes of Encrypt and Decrypt (docs/protocol.md §6.1), for
 * clients that bring their own format (KMIP's Cryptographic Parameters):
 * AES-GCM and ChaCha20-Poly1305 with the caller's AAD and a tag of 12–16
 * bytes, AES-CBC with PKCS#5 padding, AES-ECB (bare or PKCS#5-padded) and
 * the ChaCha20 stream cipher (RFC 8439, or the original 64-bit nonce, with
 * an initial block counter). The ciphertext is the bare cipher output; the
 * IV and tag travel beside it, not in it. Pure: the caller
 * (domain/crypto-service.ts) checks grants, usage, state, counts nonce
 * invocations and gives the material; the IV is given (the caller's own,
 * checked here) or drawn by the caller.
 *
 * ECB is the block cipher itself, one block at a time: an ECB encryption
 * of a chosen block is what a caller-chosen IV gives under the other modes
 * (GCM and CTR keystream, GCM's hash key E(0), a CBC encryption), so its
 * encryption needs what a chosen IV needs (operations/crypto-operations.ts
 * `get`). Its decryption needs no more than `decrypt`: the inverse
 * permutation opens only what CBC or ECB sealed, which `decrypt` opens
 * anyway, and yields no GCM keystream or hash key.
 *
 * An AAD that is one of the appliance's own (domain/crypto-service.ts
 * aadFor: the first field is a `strongroom/…` label) is refused in both
 * directions: a raw Encrypt could otherwise make a valid wrapped data key
 * for a key of the caller's choosing, and a raw Decrypt unwrap one, with
 * the `encrypt` or `decrypt` permission alone instead of `generate-data-key`
 * or `decrypt-data-key`.
 */
import { CipherGCM, CipherGCMTypes, Decipher, createCipheriv, createDecipheriv } from 'node:crypto';
import { KeychainError, ValidationError } from '../common/errors';
import { DEFAULT_TAG_BYTES, MAX_CHACHA20_COUNTER, MAX_GCM_IV_BYTES, MAX_TAG_BYTES, MIN_TAG_BYTES, RAW_MODES, RawMode } from './vocabulary/cipher-modes';

export { RAW_MODES };
export type { RawMode };

const AES_BLOCK_BYTES = 16;
const CHACHA20_BLOCK_BYTES = 64;

/** What each mode needs of the key's algorithm and its IV. */
interface ModeInfo {
  readonly ciphers: Readonly<Record<string, string>>;
  /** The IV length the appliance draws (0: the mode takes no IV), and the lengths a caller may give. */
  readonly ivBytes: number;
  readonly callerIv: (length: number) => boolean;
  readonly aead: boolean;
  /** Whether a drawn IV is a random nonce whose collisions the instance's invocation budget bounds. */
  readonly nonce: boolean;
  /** PKCS#5 padding (CBC, ECB-PKCS5); false for the stream modes and bare ECB (whole blocks only). */
  readonly padded: boolean;
  /** The bare block cipher (ECB): encrypting with it needs `get`, like a chosen IV. */
  readonly bareBlock: boolean;
}

const AES_CBC = { 'AES-128': 'aes-128-cbc', 'AES-192': 'aes-192-cbc', 'AES-256': 'aes-256-cbc' };
const AES_ECB = { 'AES-128': 'aes-128-ecb', 'AES-192': 'aes-192-ecb', 'AES-256': 'aes-256-ecb' };
const noIv = (): boolean => false;

const MODES: Readonly<Record<RawMode, ModeInfo>> = {
  'AES-GCM': {
    ciphers: { 'AES-128': 'aes-128-gcm', 'AES-192': 'aes-192-gcm', 'AES-256': 'aes-256-gcm' },
    ivBytes: 12,
    callerIv: (length) => length >= 1 && length <= MAX_GCM_IV_BYTES,
    aead: true,
    nonce: true,
    padded: false,
    bareBlock: false,
  },
  'CHACHA20-POLY1305': {
    ciphers: { CHACHA20: 'chacha20-poly1305' },
    ivBytes: 12,
    // RFC 8439: a 96-bit nonce, nothing else.
    callerIv: (length) => length === 12,
    aead: true,
    nonce: true,
    padded: false,
    bareBlock: false,
  },
  'AES-CBC-PKCS5': { ciphers: AES_CBC, ivBytes: 16, callerIv: (length) => length === 16, aead: false, nonce: false, padded: true, bareBlock: false },
  'AES-ECB': { ciphers: AES_ECB, ivBytes: 0, callerIv: noIv, aead: false, nonce: false, padded: false, bareBlock: true },
  'AES-ECB-PKCS5': { ciphers: AES_ECB, ivBytes: 0, callerIv: noIv, aead: false, nonce: false, padded: true, bareBlock: true },
  CHACHA20: {
    ciphers: { CHACHA20: 'chacha20' },
    ivBytes: 12,
    // RFC 8439's 96-bit nonce (32-bit counter), or the original 64-bit nonce (64-bit counter).
    callerIv: (length) => length === 12 || length === 8,
    aead: false,
    nonce: true,
    padded: false,
    bareBlock: false,
  },
};

export interface RawOptions {
  readonly aad?: Buffer;
  readonly tagLength?: number;
  /** CHACHA20 only: the block counter of the first 64 bytes (default 0). */
  readonly initialCounter?: number;
}

export interface RawSealed {
  readonly ciphertext: Buffer;
  /** Absent for ECB, which takes none. */
  readonly iv?: Buffer;
  /** AEAD modes only. */
  readonly tag?: Buffer;
}

/** Whether a mode authenticates (it takes AAD and a tag). */
export const isAead = (mode: RawMode): boolean => MODES[mode].aead;

/** Whether a mode's drawn IV is a random nonce, so each encryption counts against the instance's invocation budget. */
export const isNonceMode = (mode: RawMode): boolean => MODES[mode].nonce;

/** Whether a mode is the bare block cipher (ECB): its encryption needs `get`, as a chosen IV does. */
export const isBareBlock = (mode: RawMode): boolean => MODES[mode].bareBlock;

/** The IV length the appliance draws for a mode (0: none). */
export const generatedIvBytes = (mode: RawMode): number => MODES[mode].ivBytes;

/** The algorithms a mode takes, for the family check and its message. */
export const modeAlgorithms = (mode: RawMode): Readonly<Record<string, string>> => MODES[mode].ciphers;

/**
 * Refuses what does not fit the mode before any material is opened: AAD,
 * tag or tag length on a mode that does not authenticate; a tag length
 * outside 12–16 (TAG_LENGTH_REFUSED); an IV of a length the mode does not
 * take, or any for ECB; an initial counter outside CHACHA20; bare ECB data
 * that is not whole blocks; an appliance AAD.
 */
export function checkRawOptions(mode: RawMode, options: RawOptions & { iv?: Buffer; tag?: Buffer; data?: Buffer }): void {
  const info = MODES[mode];
  if (!info.aead && (options.aad !== undefined || options.tag !== undefined || options.tagLength !== undefined)) {
    throw new ValidationError(`${mode} is not authenticated: it takes no aad, tag or tagLength`);
  }
  const tagLength = options.tagLength ?? options.tag?.length;
  if (info.aead && tagLength !== undefined && (tagLength < MIN_TAG_BYTES || tagLength > MAX_TAG_BYTES)) {
    throw new KeychainError('TAG_LENGTH_REFUSED', `${mode} tags are ${MIN_TAG_BYTES} to ${MAX_TAG_BYTES} bytes, not ${tagLength}`, { details: { tagLength } });
  }
  if (options.tag !== undefined && options.tagLength !== undefined && options.tag.length !== options.tagLength) {
    throw new ValidationError(`the tag is ${options.tag.length} bytes but tagLength says ${options.tagLength}`);
  }
  if (options.iv !== undefined && !info.callerIv(options.iv.length)) {
    throw new ValidationError(info.ivBytes === 0 ? `${mode} takes no IV` : `${mode} takes no IV of ${options.iv.length} bytes (it draws ${info.ivBytes})`);
  }
  if (options.initialCounter !== undefined && mode !== 'CHACHA20') throw new ValidationError(`${mode} takes no initialCounter (CHACHA20 does)`);
  if (mode === 'CHACHA20' && options.data !== undefined) checkCounterRoom(options.initialCounter ?? 0, options.iv?.length ?? info.ivBytes, options.data.length);
  if (mode === 'AES-ECB' && options.data !== undefined && options.data.length % AES_BLOCK_BYTES !== 0) {
    throw new ValidationError(`AES-ECB without padding takes whole ${AES_BLOCK_BYTES}-byte blocks, not ${options.data.length} bytes (AES-ECB-PKCS5 pads)`);
  }
  if (options.aad !== undefined && isApplianceAad(options.aad)) {
    throw new ValidationError('the aad is one of the appliance\'s own (a strongroom/ label): raw modes do not take it');
  }
}

/** RFC 8439's 32-bit counter must not wrap within one message (OpenSSL would carry it into the nonce). */
function checkCounterRoom(counter: number, nonceBytes: number, dataBytes: number): void {
  if (counter > MAX_CHACHA20_COUNTER) throw new ValidationError(`the ChaCha20 initial counter is at most ${MAX_CHACHA20_COUNTER}`);
  const blocks = Math.ceil(dataBytes / CHACHA20_BLOCK_BYTES);
  if (nonceBytes === 12 && counter + blocks > MAX_CHACHA20_COUNTER + 1) {
    throw new ValidationError(`the ChaCha20 block counter would wrap: ${blocks} blocks from ${counter} pass 2^32 under a 96-bit nonce`);
  }
}

/** An AAD made by domain/crypto-service.ts aadFor: its first field (4-byte length, then UTF-8) starts `strongroom/`. */
function isApplianceAad(aad: Buffer): boolean {
  return aad.length >= 4 + 11 && aad.subarray(4, 4 + 11).toString('latin1') === 'strongroom/';
}

/**
 * OpenSSL's ChaCha20 IV is the last four words of the state: the block
 * counter (little-endian) then the nonce, so a 12-byte nonce leaves a 32-bit
 * counter and an 8-byte one a 64-bit counter.
 */
function chacha20Iv(nonce: Buffer, counter: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(counter, 0);
  nonce.copy(iv, 16 - nonce.length);
  return iv;
}

/** A decipher or cipher of a non-AEAD mode (CBC, ECB, ChaCha20), padding set as the mode says. */
function plainCipher(mode: RawMode, algorithm: string, material: Buffer, iv: Buffer | undefined, counter: number | undefined, encrypt: boolean) {
  const info = MODES[mode];
  const cipherIv = mode === 'CHACHA20' ? chacha20Iv(iv as Buffer, counter ?? 0) : info.ivBytes === 0 ? null : (iv as Buffer);
  const cipher = encrypt ? createCipheriv(info.ciphers[algorithm], material, cipherIv) : createDecipheriv(info.ciphers[algorithm], material, cipherIv);
  if (!info.padded) cipher.setAutoPadding(false);
  return cipher;
}

/** Encrypts under `material` (the key's algorithm checked by the caller against modeAlgorithms); `iv` is absent for ECB only. */
export function rawSeal(mode: RawMode, algorithm: string, material: Buffer, plaintext: Buffer, iv: Buffer | undefined, options: RawOptions): RawSealed {
  const info = MODES[mode];
  if (!info.aead) {
    const cipher = plainCipher(mode, algorithm, material, iv, options.initialCounter, true);
    return { ciphertext: Buffer.concat([cipher.update(plaintext), cipher.final()]), iv };
  }
  const cipher = aeadCipher(mode, algorithm, material, iv as Buffer, options);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, iv, tag: cipher.getAuthTag() };
}

/** An AEAD encryption under `material`, its AAD given, ready for the data (rawSeal; a streamed GCM keeps it between parts: gcm-streams.ts). */
export function aeadCipher(mode: RawMode, algorithm: string, material: Buffer, iv: Buffer, options: RawOptions): CipherGCM {
  const cipher = createCipheriv(MODES[mode].ciphers[algorithm] as CipherGCMTypes, material, iv, { authTagLength: options.tagLength ?? DEFAULT_TAG_BYTES });
  if (options.aad !== undefined) cipher.setAAD(options.aad);
  return cipher;
}

/**
 * Decrypts; the plaintext is the caller's to zero. A wrong tag (AEAD) or
 * bad padding (CBC, ECB-PKCS5) is INTEGRITY_FAILURE with one message for
 * either, so the answer is no padding oracle beyond the fact of failure.
 */
export function rawOpen(mode: RawMode, algorithm: string, material: Buffer, ciphertext: Buffer, iv: Buffer | undefined, tag: Buffer | undefined, aad: Buffer | undefined, initialCounter?: number): Buffer {
  const info = MODES[mode];
  if (info.aead && tag === undefined) throw new ValidationError(`${mode} decryption needs the tag`);
  let decipher: Decipher;
  if (tag !== undefined && info.aead) {
    // The OpenSSL names of both AEAD modes; the GCM type stands for either (same calls).
    const aead = createDecipheriv(info.ciphers[algorithm] as CipherGCMTypes, material, iv as Buffer, { authTagLength: tag.length });
    if (aad !== undefined) aead.setAAD(aad);
    aead.setAuthTag(tag);
    decipher = aead;
  } else {
    decipher = plainCipher(mode, algorithm, material, iv, initialCounter, false);
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
