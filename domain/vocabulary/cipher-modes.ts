/**
 * The raw cipher modes of Encrypt and Decrypt (docs/protocol.md §6.1) and
 * their bounds, named for the wire schema and the domain alike
 * (domain/raw-ciphers.ts implements them). It imports nothing, so the
 * codecs may import it too.
 */

export const RAW_MODES = ['AES-GCM', 'AES-CBC-PKCS5', 'CHACHA20-POLY1305', 'AES-ECB', 'AES-ECB-PKCS5', 'CHACHA20'] as const;
export type RawMode = (typeof RAW_MODES)[number];

/** Tag lengths taken (bytes): NIST SP 800-38D §5.2.1.2 allows 96–128 bits for general use; shorter tags are refused. */
export const MIN_TAG_BYTES = 12;
export const MAX_TAG_BYTES = 16;
export const DEFAULT_TAG_BYTES = 16;
/** Longest caller GCM IV: GHASH takes any length, NIST's tests go to 1024 bits; longer is not an IV. */
export const MAX_GCM_IV_BYTES = 128;
/** Largest ChaCha20 initial block counter: 32 bits (RFC 8439's counter; the 64-bit-nonce variant's counter starts within it too). */
export const MAX_CHACHA20_COUNTER = 0xffffffff;
/** A streamed AES-GCM encryption's correlation value (domain/gcm-streams.ts): 128 random bits, unguessable. */
export const GCM_STREAM_CORRELATION_BYTES = 16;
