/**
 * Strict TTLV decoding (KMIP 2.1 §9.1, 1.4 §9.1): bytes → one TtlvNode. Every
 * rule is checked and broken rules throw KmipCodecError with a stable reason
 * (docs/kmip.md §1): the message size, 3-byte tags 0x42xxxx or 0x54xxxx, known
 * types, each fixed-size type's length, zero padding, Booleans 0 or 1,
 * well-formed UTF-8, Big Integers a multiple of 8 bytes, children filling
 * their structure exactly, and the nesting depth. Nothing is allocated from a
 * length before that length is checked against the bytes actually present.
 * Byte Strings are copied, so the caller may zero its buffer afterwards.
 * Pure: no I/O, no clock, no logger, no module state.
 */
import { isUtf8 } from 'node:buffer';
import { KmipCodecError } from './kmip-codec-error';
import {
  FIXED_VALUE_LENGTH,
  ITEM_TYPE_BY_BYTE,
  KMIP_MAX_DEPTH,
  KMIP_MAX_MESSAGE_BYTES,
  TTLV_ALIGNMENT,
  TTLV_HEADER_BYTES,
  TtlvNode,
  isValidTag,
  paddedLength,
} from './ttlv';

export interface TtlvDecodeLimits {
  /** Largest input accepted, header included (default KMIP_MAX_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number;
  /** Deepest nesting accepted, the top item being depth 1 (default KMIP_MAX_DEPTH). */
  readonly maxDepth?: number;
}

interface Cursor {
  readonly bytes: Buffer;
  readonly maxDepth: number;
  /** Offset of the next item to read. */
  pos: number;
}

/**
 * Decodes exactly one TTLV item filling all of `bytes` (a whole message, as
 * the stream reader cut it with ttlvMessageLength).
 *
 * @example decodeTtlv(Buffer.from('42000d02000000040000000100000000', 'hex'))
 *   // { tag: 0x42000d, type: 'Integer', value: 1 }
 */
export function decodeTtlv(input: Uint8Array, limits: TtlvDecodeLimits = {}): TtlvNode {
  const maxMessageBytes = limits.maxMessageBytes ?? KMIP_MAX_MESSAGE_BYTES;
  const maxDepth = limits.maxDepth ?? KMIP_MAX_DEPTH;
  if (input.length > maxMessageBytes) {
    throw new KmipCodecError('MESSAGE_TOO_LARGE', `message of ${input.length} bytes exceeds the limit of ${maxMessageBytes}`);
  }
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.length);
  const cursor: Cursor = { bytes, maxDepth, pos: 0 };
  const node = readItem(cursor, bytes.length, 1);
  if (cursor.pos !== bytes.length) {
    throw new KmipCodecError('TRAILING_BYTES', `${bytes.length - cursor.pos} bytes follow the top-level item`, cursor.pos);
  }
  return node;
}

/** Reads the item at cursor.pos, which must end by `limit` (its parent's end, or the input's). */
function readItem(cursor: Cursor, limit: number, depth: number): TtlvNode {
  const { bytes } = cursor;
  const start = cursor.pos;
  if (depth > cursor.maxDepth) throw new KmipCodecError('TOO_DEEP', `nesting deeper than ${cursor.maxDepth}`, start);
  if (start + TTLV_HEADER_BYTES > limit) throw overrun(cursor, limit, start, 'item header');
  const tag = (bytes[start] << 16) | (bytes[start + 1] << 8) | bytes[start + 2];
  if (!isValidTag(tag)) throw new KmipCodecError('BAD_TAG', `tag 0x${tag.toString(16).padStart(6, '0')} is neither 0x42xxxx nor 0x54xxxx`, start);
  const type = ITEM_TYPE_BY_BYTE.get(bytes[start + 3]);
  if (type === undefined) throw new KmipCodecError('BAD_TYPE', `unknown item type 0x${bytes[start + 3].toString(16).padStart(2, '0')}`, start + 3);
  const length = bytes.readUInt32BE(start + 4);
  const fixed = FIXED_VALUE_LENGTH[type];
  if (fixed !== undefined && length !== fixed) throw new KmipCodecError('BAD_LENGTH', `${type} of length ${length}, not ${fixed}`, start + 4);
  if (type === 'BigInteger' && (length === 0 || length % TTLV_ALIGNMENT !== 0)) {
    throw new KmipCodecError('BAD_BIG_INTEGER_LENGTH', `Big Integer of length ${length}, not a positive multiple of ${TTLV_ALIGNMENT}`, start + 4);
  }
  if (type === 'Structure' && length % TTLV_ALIGNMENT !== 0) {
    throw new KmipCodecError('BAD_LENGTH', `Structure of length ${length}, not a multiple of ${TTLV_ALIGNMENT}`, start + 4);
  }
  const valueStart = start + TTLV_HEADER_BYTES;
  const end = valueStart + paddedLength(length);
  if (end > limit) throw overrun(cursor, limit, start, `${type} value`);
  for (let i = valueStart + length; i < end; i++) {
    if (bytes[i] !== 0) throw new KmipCodecError('BAD_PADDING', 'a padding byte is not zero', i);
  }
  cursor.pos = end;
  switch (type) {
    case 'Structure': {
      const children: TtlvNode[] = [];
      cursor.pos = valueStart;
      while (cursor.pos < end) children.push(readItem(cursor, end, depth + 1));
      return { tag, type, value: children };
    }
    case 'Integer':
      return { tag, type, value: bytes.readInt32BE(valueStart) };
    case 'Enumeration':
    case 'Interval':
      return { tag, type, value: bytes.readUInt32BE(valueStart) };
    case 'LongInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      return { tag, type, value: bytes.readBigInt64BE(valueStart) };
    case 'Boolean': {
      const raw = bytes.readBigUInt64BE(valueStart);
      if (raw > 1n) throw new KmipCodecError('BAD_BOOLEAN', 'a Boolean is neither 0 nor 1', valueStart);
      return { tag, type, value: raw === 1n };
    }
    case 'BigInteger':
      return { tag, type, value: twosComplementToBigInt(bytes.subarray(valueStart, valueStart + length)) };
    case 'TextString':
      return { tag, type, value: decodeUtf8(cursor, valueStart, length) };
    case 'ByteString':
      return { tag, type, value: Uint8Array.prototype.slice.call(bytes, valueStart, valueStart + length) };
  }
}

function overrun(cursor: Cursor, limit: number, offset: number, what: string): KmipCodecError {
  return limit === cursor.bytes.length
    ? new KmipCodecError('TRUNCATED', `the ${what} runs past the end of the message`, offset)
    : new KmipCodecError('STRUCTURE_LENGTH_MISMATCH', `the ${what} runs past the end of its structure`, offset);
}

function decodeUtf8(cursor: Cursor, start: number, length: number): string {
  // isUtf8 is the WHATWG fatal decoder's test (no overlongs, no surrogates,
  // nothing past U+10FFFF); toString then cannot substitute U+FFFD.
  const text = cursor.bytes.subarray(start, start + length);
  if (!isUtf8(text)) throw new KmipCodecError('BAD_UTF8', 'a Text String is not well-formed UTF-8', start);
  return text.toString('utf8');
}

/** Big-endian two's complement bytes → bigint. */
export function twosComplementToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  const unsigned = BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`);
  return bytes[0] & 0x80 ? unsigned - (1n << BigInt(bytes.length * 8)) : unsigned;
}
