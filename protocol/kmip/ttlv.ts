/**
 * The generic TTLV tree of KMIP (KMIP 2.1 §9.1, 1.4 §9.1): every item is a
 * 3-byte tag, a 1-byte type, a 4-byte length and a value padded to a multiple
 * of 8 bytes. This module holds the node model, the item types and the limits
 * the codecs enforce; ttlv-decoder.ts and ttlv-encoder.ts turn bytes into
 * trees and back. Pure: no I/O, no clock, no logger, no module state.
 */

/** The item types and their type bytes (KMIP 2.1 §9.1.1.2). Date-Time Extended is 2.x only. */
export const ITEM_TYPES = {
  Structure: 0x01,
  Integer: 0x02,
  LongInteger: 0x03,
  BigInteger: 0x04,
  Enumeration: 0x05,
  Boolean: 0x06,
  TextString: 0x07,
  ByteString: 0x08,
  DateTime: 0x09,
  Interval: 0x0a,
  DateTimeExtended: 0x0b,
} as const;

export type ItemType = keyof typeof ITEM_TYPES;

/** The type name of each type byte, for the decoder. */
export const ITEM_TYPE_BY_BYTE: ReadonlyMap<number, ItemType> = new Map(
  (Object.entries(ITEM_TYPES) as Array<[ItemType, number]>).map(([name, byte]) => [byte, name]),
);

/** Value length of each fixed-size type (KMIP 2.1 §9.1.1.3); the others are variable. */
export const FIXED_VALUE_LENGTH: Readonly<Partial<Record<ItemType, number>>> = {
  Integer: 4,
  LongInteger: 8,
  Enumeration: 4,
  Boolean: 8,
  DateTime: 8,
  Interval: 4,
  DateTimeExtended: 8,
};

/** Bytes of an item's tag, type and length. */
export const TTLV_HEADER_BYTES = 8;
/** Every value is padded with zeros to a multiple of this. */
export const TTLV_ALIGNMENT = 8;
/** First byte of a KMIP-defined tag. */
export const KMIP_TAG_PREFIX = 0x42;
/** First byte of an extension (vendor) tag. */
export const EXTENSION_TAG_PREFIX = 0x54;

/**
 * Largest message, header included: 1 MiB holds any request the appliance
 * serves (an Encrypt of its largest data, a batch of Gets) many times over.
 * Checked against the declared length before a byte of the body is buffered,
 * so a hostile header can never make us allocate what it claims.
 */
export const KMIP_MAX_MESSAGE_BYTES = 1024 * 1024;
/**
 * Deepest nesting accepted (the message structure is depth 1). Real messages
 * nest about 8 deep (message, batch item, payload, attributes, attribute,
 * value, key block, key value); 32 leaves room for vendors while keeping every
 * recursive walk of a tree far from the stack limit.
 */
export const KMIP_MAX_DEPTH = 32;

interface NodeOf<T extends ItemType, V> {
  readonly tag: number;
  readonly type: T;
  readonly value: V;
}

/**
 * One TTLV item. Integer is signed 32-bit; Enumeration and Interval are
 * unsigned 32-bit; Long Integer, Date-Time (seconds since the epoch) and
 * Date-Time Extended (microseconds) are signed 64-bit bigints; Big Integer is
 * an arbitrary bigint.
 */
export type TtlvNode =
  | NodeOf<'Structure', readonly TtlvNode[]>
  | NodeOf<'Integer', number>
  | NodeOf<'LongInteger', bigint>
  | NodeOf<'BigInteger', bigint>
  | NodeOf<'Enumeration', number>
  | NodeOf<'Boolean', boolean>
  | NodeOf<'TextString', string>
  | NodeOf<'ByteString', Uint8Array>
  | NodeOf<'DateTime', bigint>
  | NodeOf<'Interval', number>
  | NodeOf<'DateTimeExtended', bigint>;

export type TtlvNodeOf<T extends ItemType> = Extract<TtlvNode, { type: T }>;

export const INT32_MIN = -0x8000_0000;
export const INT32_MAX = 0x7fff_ffff;
export const UINT32_MAX = 0xffff_ffff;
export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

/** True for a tag of KMIP (0x42xxxx) or of an extension (0x54xxxx). */
export function isValidTag(tag: number): boolean {
  return Number.isInteger(tag) && tag >= 0 && tag <= 0xffffff && (tag >>> 16 === KMIP_TAG_PREFIX || tag >>> 16 === EXTENSION_TAG_PREFIX);
}

/** Bytes a value of `length` takes once padded. */
export function paddedLength(length: number): number {
  return Math.ceil(length / TTLV_ALIGNMENT) * TTLV_ALIGNMENT;
}

/** Zeroes every Byte String of a tree (payloads carry key material and plaintexts); depth-bounded like every walk. */
export function wipeByteStrings(node: TtlvNode | undefined, depth = 0): void {
  if (node === undefined || depth > KMIP_MAX_DEPTH * 2) return;
  if (node.type === 'ByteString') node.value.fill(0);
  else if (node.type === 'Structure') for (const child of node.value) wipeByteStrings(child, depth + 1);
}

/**
 * A structure's children from a builder's list (absent ones dropped, lists
 * spread): a loop rather than flat() and filter(), which cost more than the
 * rest of a Get's encoding together (this runs for every structure of every
 * response).
 */
export function presentFields(fields: ReadonlyArray<TtlvNode | undefined | readonly TtlvNode[]>): TtlvNode[] {
  const out: TtlvNode[] = [];
  for (const field of fields) {
    if (field === undefined) continue;
    if (Array.isArray(field)) {
      // as flat() then filter(): an absent entry of a list is dropped too
      for (const each of field as ReadonlyArray<TtlvNode | undefined>) if (each !== undefined) out.push(each);
    }
    else out.push(field as TtlvNode);
  }
  return out;
}
