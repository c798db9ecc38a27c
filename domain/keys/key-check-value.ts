/**
 * Key check values (KCV): a short, public fingerprint of key material that a
 * key custodian reads out beside the key, so that the officers approving an
 * import (domain/keys/import-seal.ts) can tell that the bytes the appliance
 * holds are the bytes the ceremony meant, without seeing them.
 *
 * - AES keys: the ANSI X9.24-1:2017 KCV, the leftmost 5 bytes (10 hex digits)
 *   of the AES-CMAC (NIST SP 800-38B, RFC 4493) of one all-zero block. CMAC
 *   of a single complete block M is AES_K(M xor K1), K1 = dbl(AES_K(0^128)),
 *   so it takes two AES-ECB block encryptions (node:crypto has no CMAC).
 * - HMAC and ChaCha20 keys (no standard KCV): the leftmost 5 bytes of
 *   SHA-256 of the material, labelled `SHA-256` so nobody compares it with
 *   an AES KCV.
 * Five bytes identify a key among those a ceremony handles and tell an
 * attacker nothing useful about 128 bits or more of material.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { wipe } from '../../common/secret';
import { Algorithm, algorithmInfo } from '../algorithms';

/** Bytes of the check value shown (X9.24-1:2017's length for the CMAC KCV). */
const KCV_BYTES = 5;
const BLOCK_BYTES = 16;

export type KeyCheckValueKind = 'AES-CMAC' | 'SHA-256';

export interface KeyCheckValue {
  /** Upper-case hex, 10 digits. */
  readonly value: string;
  readonly kind: KeyCheckValueKind;
}

/** One AES-ECB block encryption (no padding): the building block of CMAC. */
function aesBlock(key: Buffer, block: Buffer): Buffer {
  const cipher = createCipheriv(`aes-${key.length * 8}-ecb`, key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

/** SP 800-38B's doubling in GF(2^128): shift left one bit, xor 0x87 into the last byte if the top bit fell off. */
function double(block: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK_BYTES);
  for (let i = 0; i < BLOCK_BYTES; i++) out[i] = ((block[i] << 1) & 0xff) | (i + 1 < BLOCK_BYTES ? block[i + 1] >> 7 : 0);
  if (block[0] & 0x80) out[BLOCK_BYTES - 1] ^= 0x87;
  return out;
}

/** AES-CMAC of exactly one complete 16-byte block (RFC 4493 §2.4 with n = 1). */
export function aesCmacOneBlock(key: Buffer, block: Buffer): Buffer {
  if (block.length !== BLOCK_BYTES) throw new Error('aesCmacOneBlock takes one 16-byte block');
  const l = aesBlock(key, Buffer.alloc(BLOCK_BYTES));
  const k1 = double(l);
  const masked = Buffer.alloc(BLOCK_BYTES);
  for (let i = 0; i < BLOCK_BYTES; i++) masked[i] = block[i] ^ k1[i];
  try {
    return aesBlock(key, masked);
  } finally {
    wipe(l, k1, masked);
  }
}

/** The check value of `material` for a key of `algorithm` (see the file comment for which kind). */
export function keyCheckValue(algorithm: Algorithm, material: Buffer): KeyCheckValue {
  if (algorithmInfo(algorithm).family === 'aes') {
    const tag = aesCmacOneBlock(material, Buffer.alloc(BLOCK_BYTES));
    try {
      return { value: tag.subarray(0, KCV_BYTES).toString('hex').toUpperCase(), kind: 'AES-CMAC' };
    } finally {
      wipe(tag);
    }
  }
  const digest = createHash('sha256').update(material).digest();
  try {
    return { value: digest.subarray(0, KCV_BYTES).toString('hex').toUpperCase(), kind: 'SHA-256' };
  } finally {
    wipe(digest);
  }
}
