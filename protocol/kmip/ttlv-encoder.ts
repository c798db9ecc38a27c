/**
 * TTLV encoding (KMIP 2.1 §9.1, 1.4 §9.1): one TtlvNode → canonical bytes.
 * Canonical: every value padded with zeros to a multiple of 8, Booleans 0 or
 * 1, Big Integers in the fewest bytes that hold their two's complement,
 * sign-extended to a multiple of 8. Values outside their type's range, text
 * that is not well-formed Unicode, bad tags and trees deeper than
 * KMIP_MAX_DEPTH throw KmipCodecError. Sizes are measured first, then the
 * bytes are written into one buffer. Pure: no I/O, no clock, no logger.
 */
import { KmipCodecError } from './kmip-codec-error';
import {
  FIXED_VALUE_LENGTH,
  INT32_MAX,
  INT32_MIN,
  INT64_MAX,
  INT64_MIN,
  ITEM_TYPES,
  KMIP_MAX_DEPTH,
  TTLV_ALIGNMENT,
  TTLV_HEADER_BYTES,
  TtlvNode,
  UINT32_MAX,
  isValidTag,
  paddedLength,
} from './ttlv';

/** A lone UTF-16 surrogate: it has no UTF-8 encoding. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Encodes one item and everything under it.
 *
 * @example encodeTtlv({ tag: 0x42000d, type: 'Integer', value: 1 }).toString('hex')
 *   // '42000d02000000040000000100000000'
 */
export function encodeTtlv(node: TtlvNode, maxDepth: number = KMIP_MAX_DEPTH): Buffer {
  const out = Buffer.alloc(measure(node, 1, maxDepth));
  write(node, out, 0);
  return out;
}

/**
 * Bytes encodeTtlv(node) would return, checked as encodeTtlv checks (it
 * throws the same KmipCodecError), without writing them: for a size limit
 * that would otherwise encode a response (key bytes included) once more
 * only to measure it.
 */
export function encodedLength(node: TtlvNode, maxDepth: number = KMIP_MAX_DEPTH): number {
  return measure(node, 1, maxDepth);
}

/** Bytes the item takes, header and padding included; validates as it goes. */
function measure(node: TtlvNode, depth: number, maxDepth: number): number {
  if (depth > maxDepth) throw new KmipCodecError('TOO_DEEP', `nesting deeper than ${maxDepth}`);
  if (!isValidTag(node.tag)) throw new KmipCodecError('BAD_TAG', `tag ${String(node.tag)} is neither 0x42xxxx nor 0x54xxxx`);
  return TTLV_HEADER_BYTES + paddedLength(valueLength(node, depth, maxDepth));
}

function valueLength(node: TtlvNode, depth: number, maxDepth: number): number {
  switch (node.type) {
    case 'Structure': {
      if (!Array.isArray(node.value)) throw badValue(node);
      let total = 0;
      for (const child of node.value) total += measure(child, depth + 1, maxDepth);
      return total;
    }
    case 'Integer':
      if (!Number.isInteger(node.value) || node.value < INT32_MIN || node.value > INT32_MAX) throw badValue(node);
      return 4;
    case 'Enumeration':
    case 'Interval':
      if (!Number.isInteger(node.value) || node.value < 0 || node.value > UINT32_MAX) throw badValue(node);
      return 4;
    case 'LongInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      if (typeof node.value !== 'bigint' || node.value < INT64_MIN || node.value > INT64_MAX) throw badValue(node);
      return 8;
    case 'Boolean':
      if (typeof node.value !== 'boolean') throw badValue(node);
      return 8;
    case 'BigInteger':
      if (typeof node.value !== 'bigint') throw badValue(node);
      return bigIntByteLength(node.value);
    case 'TextString':
      if (typeof node.value !== 'string' || LONE_SURROGATE.test(node.value)) throw badValue(node);
      return Buffer.byteLength(node.value, 'utf8');
    case 'ByteString':
      if (!(node.value instanceof Uint8Array)) throw badValue(node);
      return node.value.length;
    default:
      throw new KmipCodecError('UNKNOWN_ITEM_TYPE', `unknown item type ${String((node as { type: unknown }).type)}`);
  }
}

function badValue(node: TtlvNode): KmipCodecError {
  return new KmipCodecError('BAD_VALUE', `a ${node.type} value of tag 0x${node.tag.toString(16)} is out of its type's range`);
}

/** Writes the (already validated) item at `offset`; returns the offset after it. */
function write(node: TtlvNode, out: Buffer, offset: number): number {
  // Byte stores rather than writeUIntBE/writeUInt8: the tag and type are already validated, and this runs for every item sent.
  out[offset] = node.tag >>> 16;
  out[offset + 1] = (node.tag >>> 8) & 0xff;
  out[offset + 2] = node.tag & 0xff;
  out[offset + 3] = ITEM_TYPES[node.type];
  const at = offset + TTLV_HEADER_BYTES;
  let length: number;
  switch (node.type) {
    case 'Structure': {
      let pos = at;
      for (const child of node.value) pos = write(child, out, pos);
      length = pos - at;
      break;
    }
    case 'Integer':
      out.writeInt32BE(node.value, at);
      length = 4;
      break;
    case 'Enumeration':
    case 'Interval':
      out.writeUInt32BE(node.value, at);
      length = 4;
      break;
    case 'LongInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      out.writeBigInt64BE(node.value, at);
      length = 8;
      break;
    case 'Boolean':
      out.writeBigUInt64BE(node.value ? 1n : 0n, at);
      length = 8;
      break;
    case 'BigInteger': {
      const bytes = bigIntToTwosComplement(node.value);
      out.set(bytes, at);
      length = bytes.length;
      break;
    }
    case 'TextString':
      length = out.write(node.value, at, 'utf8');
      break;
    case 'ByteString':
      out.set(node.value, at);
      length = node.value.length;
      break;
  }
  const fixed = FIXED_VALUE_LENGTH[node.type];
  out.writeUInt32BE(fixed ?? length, offset + 4);
  // Padding is already zero: the buffer came from Buffer.alloc.
  return at + paddedLength(length);
}

/** Bytes of the canonical Big Integer encoding of `value`: its two's complement, sign-extended to a multiple of 8. */
export function bigIntByteLength(value: bigint): number {
  // Bits of the magnitude (counted on its hex form: a quarter of the
  // binary string's size), plus one for the sign.
  const magnitude = value < 0n ? -value - 1n : value;
  const hex = magnitude.toString(16);
  const bits = magnitude === 0n ? 1 : (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0], 16))) + 1;
  return Math.max(TTLV_ALIGNMENT, Math.ceil(bits / (8 * TTLV_ALIGNMENT)) * TTLV_ALIGNMENT);
}

/** The canonical Big Integer bytes of `value` (KMIP 2.1 §9.1.1.4). */
export function bigIntToTwosComplement(value: bigint): Buffer {
  const length = bigIntByteLength(value);
  const unsigned = value < 0n ? (1n << BigInt(length * 8)) + value : value;
  return Buffer.from(unsigned.toString(16).padStart(length * 2, '0'), 'hex');
}
