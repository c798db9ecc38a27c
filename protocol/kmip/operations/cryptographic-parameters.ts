/**
 * Reading what the cryptographic operations share: the Cryptographic
 * Parameters structure (KMIP 2.1 §7.6) turned into the native raw mode of
 * Encrypt and Decrypt or the MAC algorithm, and the streaming fields
 * (Correlation Value, Init Indicator, Final Indicator), which this server
 * refuses. What the appliance does not do is Feature Not Supported, naming
 * the field and the value (an algorithm or mode name, never data). Pure:
 * the key's own (default) parameters are read by key-cipher-defaults.ts.
 */
import type { RawMode } from '../../../domain/vocabulary/cipher-modes';
import { KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';

/** The fields of a Cryptographic Parameters structure Encrypt and Decrypt read; absent ones were not sent. */
export interface CipherFields {
  readonly blockCipherMode?: string;
  readonly paddingMethod?: string;
  readonly algorithm?: string;
  readonly randomIv?: boolean;
  readonly ivLength?: number;
  readonly tagLength?: number;
  readonly initialCounterValue?: number;
}

export interface CipherChoice {
  readonly mode: RawMode;
  readonly tagLength?: number;
  /** Random IV: true asks the server to draw the IV (and answer it). */
  readonly randomIv?: boolean;
  /** CHACHA20's Initial Counter Value. */
  readonly initialCounter?: number;
}

const unsupported = (message: string): KmipOperationError => new KmipOperationError('FeatureNotSupported', message);

/** The IV length each mode's drawn IV has (bits; 0: none): an IV Length asking another is refused. */
const DRAWN_IV_BITS: Readonly<Record<RawMode, number>> = {
  'AES-GCM': 96,
  'CHACHA20-POLY1305': 96,
  CHACHA20: 96,
  'AES-CBC-PKCS5': 128,
  'AES-ECB': 0,
  'AES-ECB-PKCS5': 0,
};

const AEAD_MODES: ReadonlySet<RawMode> = new Set(['AES-GCM', 'CHACHA20-POLY1305']);

/** The fields of a Cryptographic Parameters structure (absent: none); others are refused as Invalid Field. */
export function readCipherFields(parameters: PayloadReader | undefined): CipherFields {
  if (parameters === undefined) return {};
  const fields: CipherFields = {
    blockCipherMode: parameters.enumName('BlockCipherMode'),
    paddingMethod: parameters.enumName('PaddingMethod'),
    algorithm: parameters.enumName('CryptographicAlgorithm'),
    randomIv: parameters.boolean('RandomIV'),
    ivLength: parameters.integer('IVLength'),
    tagLength: parameters.integer('TagLength'),
    initialCounterValue: parameters.integer('InitialCounterValue'),
  };
  parameters.rejectOthers();
  return fields;
}

/** Whether the fields leave the cipher open (neither a Block Cipher Mode nor an algorithm): the key's own parameters then decide. */
export const leavesCipherOpen = (fields: CipherFields): boolean => fields.blockCipherMode === undefined && fields.algorithm === undefined;

/** What the request says beside its parameters, for a mode they leave open. */
export interface CipherHints {
  /** The key's native algorithm, when it was read (key-cipher-defaults.ts). */
  readonly keyAlgorithm?: string;
  /** The request carries AAD or a tag. */
  readonly authenticated?: boolean;
}

/**
 * The raw mode of the Cryptographic Parameters of an Encrypt or Decrypt.
 * Without a Block Cipher Mode or Cryptographic Algorithm the mode is
 * AES-GCM, or for a CHACHA20 key the ChaCha20 stream cipher, unless a Tag
 * Length, AAD or tag asks for ChaCha20-Poly1305 (KMIP keeps both under one
 * key type here, and the OASIS ChaCha20 cases name no mode). ECB is served
 * bare or PKCS5-padded (the native Encrypt asks `get` for it); the modes
 * the appliance lacks are refused.
 */
export function chooseCipher(fields: CipherFields, hints: CipherHints = {}): CipherChoice {
  const mode = modeOf(fields, hints);
  const { paddingMethod: padding, ivLength, tagLength } = fields;
  if (mode === 'AES-CBC-PKCS5' && padding !== 'PKCS5') {
    throw unsupported(`CBC is served with Padding Method PKCS5 only, not ${padding ?? 'none'}`);
  }
  if (!mode.endsWith('PKCS5') && padding !== undefined && padding !== 'None') {
    throw unsupported(`${mode} takes no Padding Method ${padding}`);
  }
  if (ivLength !== undefined && ivLength !== DRAWN_IV_BITS[mode]) {
    throw unsupported(DRAWN_IV_BITS[mode] === 0 ? `${mode} takes no IV, so no IV Length` : `${mode} IVs here are ${DRAWN_IV_BITS[mode]} bits, not IV Length ${ivLength}`);
  }
  if (tagLength !== undefined && !AEAD_MODES.has(mode)) throw new KmipOperationError('InvalidField', `${mode} takes no Tag Length`);
  if (fields.initialCounterValue !== undefined && mode !== 'CHACHA20') {
    throw unsupported(`Initial Counter Value is served for ChaCha20 only, not ${mode}`);
  }
  if (fields.randomIv === true && DRAWN_IV_BITS[mode] === 0) throw new KmipOperationError('InvalidField', `${mode} takes no IV, so Random IV cannot be true`);
  return { mode, tagLength, randomIv: fields.randomIv, initialCounter: fields.initialCounterValue };
}

function modeOf(fields: CipherFields, hints: CipherHints): RawMode {
  const { blockCipherMode: blockMode, algorithm, paddingMethod: padding } = fields;
  if (algorithm !== undefined && !['AES', 'ChaCha20', 'ChaCha20Poly1305'].includes(algorithm)) {
    throw unsupported(`Cryptographic Algorithm ${algorithm} is not served for Encrypt and Decrypt: AES (GCM, CBC and ECB), ChaCha20 and ChaCha20Poly1305 are`);
  }
  if (algorithm === 'ChaCha20Poly1305' || blockMode === 'AEAD') {
    if (algorithm === 'AES' || algorithm === 'ChaCha20' || (blockMode !== undefined && blockMode !== 'AEAD')) throw new KmipOperationError('InvalidField', 'ChaCha20Poly1305 goes with Block Cipher Mode AEAD only');
    return 'CHACHA20-POLY1305';
  }
  if (algorithm === 'ChaCha20') {
    if (blockMode !== undefined) throw new KmipOperationError('InvalidField', `ChaCha20 is a stream cipher: it takes no Block Cipher Mode ${blockMode}`);
    return 'CHACHA20';
  }
  switch (blockMode) {
    case undefined:
      if (hints.keyAlgorithm === 'CHACHA20') return fields.tagLength === undefined && hints.authenticated !== true ? 'CHACHA20' : 'CHACHA20-POLY1305';
      return 'AES-GCM';
    case 'GCM':
      return 'AES-GCM';
    case 'CBC':
      return 'AES-CBC-PKCS5';
    case 'ECB':
      return padding === 'PKCS5' ? 'AES-ECB-PKCS5' : 'AES-ECB';
    default:
      throw unsupported(`Block Cipher Mode ${blockMode} is not served: GCM, CBC (PKCS5), ECB and AEAD (ChaCha20Poly1305) are`);
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

/** The streaming fields of a request (KMIP 2.1 §6.1.18: Correlation Value, Init Indicator, Final Indicator). */
export interface StreamingFields {
  readonly correlation?: Uint8Array;
  readonly init?: boolean;
  readonly final?: boolean;
  /** One whole request: no Correlation Value, and the indicators absent or both true. */
  readonly whole: boolean;
}

export function readStreaming(reader: PayloadReader): StreamingFields {
  const correlation = reader.bytes('CorrelationValue');
  const init = reader.boolean('InitIndicator');
  const final = reader.boolean('FinalIndicator');
  const whole = correlation === undefined && (init === undefined || init === true) && (final === undefined || final === true) && !(init === true && final === undefined);
  return { correlation, init, final, whole };
}

/**
 * Refuses streaming (a Correlation Value, or an Init or Final Indicator that
 * is not part of one whole request) where it is not served, saying why, so
 * a client that streams learns so at its first request. Only Encrypt
 * streams (encrypt-decrypt.ts).
 */
export function refuseStreaming(reader: PayloadReader, why = 'every request here carries all its data: send all the Data in one request'): void {
  if (!readStreaming(reader).whole) throw unsupported(`streaming (Correlation Value, Init Indicator, Final Indicator) is not served: ${why}`);
}
