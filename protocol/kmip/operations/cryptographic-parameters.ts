/**
 * Reading what the cryptographic operations share: the Cryptographic
 * Parameters structure (KMIP 2.1 §7.6) turned into the native raw mode of
 * Encrypt and Decrypt or the MAC algorithm, and the streaming fields
 * (Correlation Value, Init Indicator, Final Indicator), which this server
 * refuses. What the appliance does not do is Feature Not Supported, naming
 * the field and the value (an algorithm or mode name, never data). Pure.
 */
import type { RawMode } from '../../../domain/vocabulary/cipher-modes';
import { KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';

export interface CipherChoice {
  readonly mode: RawMode;
  readonly tagLength?: number;
  /** Random IV: true asks the server to draw the IV (and answer it). */
  readonly randomIv?: boolean;
}

const unsupported = (message: string): KmipOperationError => new KmipOperationError('FeatureNotSupported', message);

/** The IV length each mode's drawn IV has: an IV Length asking another is refused. */
const DRAWN_IV_BITS: Readonly<Record<RawMode, number>> = { 'AES-GCM': 96, 'CHACHA20-POLY1305': 96, 'AES-CBC-PKCS5': 128 };

/**
 * The raw mode of the Cryptographic Parameters of an Encrypt or Decrypt.
 * Without a Block Cipher Mode or Cryptographic Algorithm the mode is AES-GCM:
 * the key's own Cryptographic Parameters attribute is not consulted.
 * ECB (no IV: equal blocks encrypt alike, and one block is the bare AES
 * permutation, which decrypts GCM under the same key) and plain ChaCha20
 * (unauthenticated) are refused, as are the modes the appliance lacks.
 */
export function readCipherParameters(parameters: PayloadReader | undefined): CipherChoice {
  if (parameters === undefined) return { mode: 'AES-GCM' };
  const blockMode = parameters.enumName('BlockCipherMode');
  const padding = parameters.enumName('PaddingMethod');
  const algorithm = parameters.enumName('CryptographicAlgorithm');
  const randomIv = parameters.boolean('RandomIV');
  const ivLength = parameters.integer('IVLength');
  const tagLength = parameters.integer('TagLength');
  parameters.rejectOthers();

  const mode = modeOf(blockMode, algorithm);
  if (mode === 'AES-CBC-PKCS5' && padding !== 'PKCS5') {
    throw unsupported(`CBC is served with Padding Method PKCS5 only, not ${padding ?? 'none'}`);
  }
  if (mode !== 'AES-CBC-PKCS5' && padding !== undefined && padding !== 'None') {
    throw unsupported(`${mode} takes no Padding Method ${padding}`);
  }
  if (ivLength !== undefined && ivLength !== DRAWN_IV_BITS[mode]) {
    throw unsupported(`${mode} IVs here are ${DRAWN_IV_BITS[mode]} bits, not IV Length ${ivLength}`);
  }
  if (tagLength !== undefined && mode === 'AES-CBC-PKCS5') throw new KmipOperationError('InvalidField', 'CBC takes no Tag Length');
  return { mode, tagLength, randomIv };
}

function modeOf(blockMode: string | undefined, algorithm: string | undefined): RawMode {
  if (algorithm !== undefined && !['AES', 'ChaCha20Poly1305'].includes(algorithm)) {
    throw unsupported(`Cryptographic Algorithm ${algorithm} is not served for Encrypt and Decrypt: AES (GCM, CBC with PKCS5) and ChaCha20Poly1305 are`);
  }
  if (algorithm === 'ChaCha20Poly1305' || blockMode === 'AEAD') {
    if (algorithm === 'AES' || (blockMode !== undefined && blockMode !== 'AEAD')) throw new KmipOperationError('InvalidField', 'ChaCha20Poly1305 goes with Block Cipher Mode AEAD only');
    return 'CHACHA20-POLY1305';
  }
  switch (blockMode) {
    case undefined:
    case 'GCM':
      return 'AES-GCM';
    case 'CBC':
      return 'AES-CBC-PKCS5';
    case 'ECB':
      throw unsupported('Block Cipher Mode ECB is not served: it has no IV (equal blocks encrypt alike) and is the bare AES permutation; use GCM or CBC');
    default:
      throw unsupported(`Block Cipher Mode ${blockMode} is not served: GCM, CBC (PKCS5) and AEAD (ChaCha20Poly1305) are`);
  }
}

/** The MAC algorithm named by Cryptographic Parameters (Cryptographic Algorithm HMAC_*, or Hashing Algorithm), if any. */
export function readMacParameters(parameters: PayloadReader | undefined): 'HMAC-SHA256' | 'HMAC-SHA512' | undefined {
  if (parameters === undefined) return undefined;
  const algorithm = parameters.enumName('CryptographicAlgorithm');
  const hashing = parameters.enumName('HashingAlgorithm');
  parameters.rejectOthers();
  const byAlgorithm = algorithm === undefined ? undefined : HMAC_BY_ALGORITHM[algorithm];
  const byHashing = hashing === undefined ? undefined : HMAC_BY_HASH[hashing];
  if (algorithm !== undefined && byAlgorithm === undefined) throw unsupported(`Cryptographic Algorithm ${algorithm} is not served for MAC: HMAC_SHA256 and HMAC_SHA512 are`);
  if (hashing !== undefined && byHashing === undefined) throw unsupported(`Hashing Algorithm ${hashing} is not served for MAC: SHA_256 and SHA_512 are`);
  if (byAlgorithm !== undefined && byHashing !== undefined && byAlgorithm !== byHashing) {
    throw new KmipOperationError('InvalidField', `Cryptographic Algorithm ${algorithm} and Hashing Algorithm ${hashing} disagree`);
  }
  return byAlgorithm ?? byHashing;
}

const HMAC_BY_ALGORITHM: Readonly<Record<string, 'HMAC-SHA256' | 'HMAC-SHA512'>> = { HMAC_SHA256: 'HMAC-SHA256', HMAC_SHA512: 'HMAC-SHA512' };
const HMAC_BY_HASH: Readonly<Record<string, 'HMAC-SHA256' | 'HMAC-SHA512'>> = { SHA_256: 'HMAC-SHA256', SHA_512: 'HMAC-SHA512' };

/**
 * Refuses streaming (a Correlation Value, or an Init or Final Indicator that
 * is not part of one whole request): every request here carries all its
 * data, so a client that streams learns so at its first request.
 */
export function refuseStreaming(reader: PayloadReader): void {
  const correlation = reader.bytes('CorrelationValue');
  const init = reader.boolean('InitIndicator');
  const final = reader.boolean('FinalIndicator');
  const whole = correlation === undefined && init !== false && final !== false && !(init === true && final === undefined);
  if (!whole) {
    throw unsupported('streaming (Correlation Value, Init Indicator, Final Indicator) is not served: send all the Data in one request');
  }
}
