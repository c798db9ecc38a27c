/**
 * The text form of a custodian's Shamir share, as `strongroom init --shares`
 * prints it and `strongroom unseal` reads it:
 *
 *   sr1-<custodian>-<share, RFC 4648 base32, no padding>-<checksum>
 *   sr1-2-GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGE-K7QA
 *
 * `custodian` is the share's number (1..N) so custodians and the audit trail
 * can tell shares apart without seeing them. The checksum (20 bits of
 * SHA-256 over the version, the number and the share bytes) catches typos
 * before a share is counted; it cannot stop a deliberate forgery (anyone can
 * compute it), which the AES-GCM tag under the combined secret catches at
 * the threshold (domain/unseal/share-binding.ts). Input is case-insensitive
 * and may contain spaces, so a share can be read out in groups.
 *
 * Pure: no I/O. The decoded share bytes are the caller's to wipe.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { MAX_SHARE_TEXT_LENGTH } from '../../protocol/op-schemas';

export const SHARE_PREFIX = 'sr1';
/** The Shamir secret: 256 bits. */
export const UNSEAL_SECRET_BYTES = 32;
/** A share of shamir-secret-sharing: one y byte per secret byte, then the x coordinate. */
export const SHARE_BYTES = UNSEAL_SECRET_BYTES + 1;
/** Most custodians: a ceremony, not a crowd (the library allows 255). */
export const MAX_SHARES = 16;
/** Base32 characters of the checksum: 20 bits, a typo slips through once in a million. */
const CHECKSUM_CHARS = 4;
/** Longest share text accepted, spaces included: the wire's UnsealSubmit bound (protocol/op-schemas.ts). */
export const MAX_SHARE_TEXT = MAX_SHARE_TEXT_LENGTH;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export interface DecodedShare {
  /** The custodian number printed with the share, 1..MAX_SHARES. */
  readonly custodian: number;
  /** The share as the library wants it (a plain Uint8Array); wipe it after use. */
  readonly bytes: Uint8Array;
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 into exactly `length` bytes; null when it does not fit. */
function unbase32(text: string, length: number): Uint8Array | null {
  if (text.length !== Math.ceil((length * 8) / 5)) return null;
  const out = new Uint8Array(length);
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const char of text) {
    const digit = BASE32.indexOf(char);
    if (digit < 0) {
      wipe(out);
      return null;
    }
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      if (index < length) out[index++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  // Canonical text only: the unused low bits of the last character are zero.
  if ((value & ((1 << bits) - 1)) !== 0) {
    wipe(out);
    return null;
  }
  return out;
}

function checksum(custodian: number, bytes: Uint8Array): string {
  const digest = createHash('sha256').update(`${SHARE_PREFIX}-${custodian}-`).update(bytes).digest();
  try {
    return base32(digest.subarray(0, 3)).slice(0, CHECKSUM_CHARS);
  } finally {
    wipe(digest);
  }
}

/** The printable form of share `bytes` of custodian `custodian`. */
export function encodeShare(custodian: number, bytes: Uint8Array): string {
  checkCustodian(custodian);
  if (bytes.length !== SHARE_BYTES) throw new ValidationError(`a share is ${SHARE_BYTES} bytes`);
  return `${SHARE_PREFIX}-${custodian}-${base32(bytes)}-${checksum(custodian, bytes)}`;
}

/**
 * Parses share text; INVALID_ARGUMENT (never echoing the text) when it is
 * not a share of this format or its checksum fails.
 */
export function decodeShare(text: string): DecodedShare {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_SHARE_TEXT) {
    throw malformed(`a share is one line of at most ${MAX_SHARE_TEXT} characters`);
  }
  const compact = text.replace(/\s+/g, '').toUpperCase();
  const parts = compact.split('-');
  if (parts.length !== 4 || parts[0] !== SHARE_PREFIX.toUpperCase()) {
    throw malformed(`a share reads ${SHARE_PREFIX}-<custodian>-<share>-<checksum>`);
  }
  const [, number, body, check] = parts;
  if (!/^[1-9][0-9]?$/.test(number)) throw malformed('the custodian number of the share is not 1..16');
  const custodian = Number(number);
  checkCustodian(custodian);
  const bytes = unbase32(body, SHARE_BYTES);
  if (bytes === null) throw malformed('the share part has the wrong length or a character outside A-Z, 2-7');
  if (bytes[SHARE_BYTES - 1] === 0 || checksum(custodian, bytes) !== check) {
    wipe(bytes);
    throw malformed('the share checksum does not match: a character was mistyped');
  }
  return { custodian, bytes };
}

function checkCustodian(custodian: number): void {
  if (!Number.isInteger(custodian) || custodian < 1 || custodian > MAX_SHARES) {
    throw malformed(`custodian numbers are 1..${MAX_SHARES}`);
  }
}

function malformed(message: string): ValidationError {
  return new ValidationError(`not a valid unseal share: ${message}; copy it again exactly as init printed it`, { details: { field: 'share' } });
}
