/**
 * Values as text, shared by the KMIP XML and JSON encodings (KMIP Additional
 * Message Encodings v1.0, §4.1 and §6.1): Integers in decimal, as `0x` and 8 hex digits, or, for masks, as flag names separated by
 * spaces or `|`; Long Integers in decimal or `0x` and 16 hex digits; Big
 * Integers and Byte Strings in hex; Enumerations by name or `0x` and 8 hex
 * digits; Booleans `true`/`false`; Date-Times in ISO 8601 or `0x` and 16 hex
 * digits; Intervals in decimal. The test cases' `$NOW`, `$NOW+n` and `$NOW-n`
 * resolve only when the caller gives `now`, their other placeholders only
 * through the caller's hook. Pure: no I/O, no clock.
 */
import { enumerationOfTag, maskOfTag, ValueTable } from './dictionary';
import { formatIsoMicros, isFormattableSeconds, parseIsoMicros } from './kmip-date-text';
import { KmipCodecError } from './kmip-codec-error';
import { bigIntToTwosComplement } from './ttlv-encoder';
import { twosComplementToBigInt } from './ttlv-decoder';
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, ItemType, TtlvNode, UINT32_MAX } from './ttlv';

export type PrimitiveType = Exclude<ItemType, 'Structure'>;
export type PrimitiveNode = Exclude<TtlvNode, { type: 'Structure' }>;
export type PrimitiveValue = PrimitiveNode['value'];
export type TextStyle = 'xml' | 'json';

export interface TextParseOptions {
  /** What `$NOW` means in a Date-Time (seconds since the epoch); without it a placeholder is refused. */
  readonly now?: bigint;
  /**
   * Resolves the other placeholders of the test cases (`$KEY_MATERIAL_0`,
   * `$IV_COUNTER_NONCE`, …) in values of any type but Text String (where a
   * placeholder is just text). Returning undefined refuses the placeholder.
   */
  readonly placeholder?: (text: string, type: PrimitiveType) => PrimitiveValue | undefined;
}

const DECIMAL = /^-?(0|[1-9]\d*)$/;
const HEX_32 = /^0x[0-9A-Fa-f]{8}$/;
const HEX_64 = /^0x[0-9A-Fa-f]{16}$/;
const HEX_BYTES = /^(?:[0-9A-Fa-f]{2})*$/;
const NOW_PLACEHOLDER = /^\$NOW(?:([+-])(\d{1,12}))?$/;
const PLACEHOLDER = /^\$[A-Z][A-Z0-9_]*(?:[+-]\d{1,12})?$/;
const MICROS_PER_SECOND = 1_000_000n;

function bad(what: string): KmipCodecError {
  return new KmipCodecError('BAD_VALUE', `${what} does not parse or is out of range`);
}

function decimalInRange(text: string, min: bigint, max: bigint, what: string): bigint {
  if (!DECIMAL.test(text)) throw bad(what);
  const value = BigInt(text);
  if (value < min || value > max) throw bad(what);
  return value;
}

/** `0x` and 8 or 16 hex digits → the signed or unsigned value they spell. */
function hexValue(text: string, signed: boolean): bigint {
  const bits = BigInt((text.length - 2) * 4);
  const raw = BigInt(text);
  return signed && raw >= 1n << (bits - 1n) ? raw - (1n << bits) : raw;
}

function parseMask(text: string, table: ValueTable): number {
  const parts = text.split(/[\s|]+/).filter((part) => part.length > 0);
  if (parts.length === 0) throw bad('an empty mask');
  let bits = 0;
  for (const part of parts) {
    const flag = HEX_32.test(part) ? Number(part) : table.byName.get(part);
    if (flag === undefined) throw new KmipCodecError('UNKNOWN_ENUMERATION', `a flag name is not one of ${table.name}`);
    bits = (bits | flag) >>> 0;
  }
  return bits | 0;
}

function parseEnumeration(text: string, table: ValueTable | undefined): number {
  if (HEX_32.test(text)) return Number(text);
  const value = table?.byName.get(text);
  if (value === undefined) {
    throw new KmipCodecError('UNKNOWN_ENUMERATION', table ? `an enumeration name is not one of ${table.name}` : 'an enumeration of a tag without a known enumeration must be given in hex');
  }
  return value;
}

function parseDateTime(text: string, options: TextParseOptions): bigint {
  const placeholder = NOW_PLACEHOLDER.exec(text);
  if (placeholder) {
    if (options.now === undefined) throw new KmipCodecError('UNRESOLVED_PLACEHOLDER', 'a $NOW placeholder with no time given to resolve it');
    const delta = placeholder[2] === undefined ? 0n : BigInt(placeholder[2]);
    const value = placeholder[1] === '-' ? options.now - delta : options.now + delta;
    if (value < INT64_MIN || value > INT64_MAX) throw bad('a Date-Time');
    return value;
  }
  if (HEX_64.test(text)) return hexValue(text, true);
  return parseIsoMicros(text, false) / MICROS_PER_SECOND;
}

/**
 * Parses the text of a value of `type`. `vocabulary` is the tag whose
 * enumeration or mask names apply (dictionary.vocabularyTag).
 */
export function parseTextValue(type: PrimitiveType, text: string, vocabulary: number, options: TextParseOptions = {}): PrimitiveValue {
  if (type !== 'TextString' && PLACEHOLDER.test(text)) {
    const resolved = options.placeholder?.(text, type);
    if (resolved !== undefined) return resolved;
    if (!(type === 'DateTime' && NOW_PLACEHOLDER.test(text))) {
      throw new KmipCodecError('UNRESOLVED_PLACEHOLDER', `a ${type} placeholder with nothing given to resolve it`);
    }
  }
  switch (type) {
    case 'Integer': {
      if (HEX_32.test(text)) return Number(hexValue(text, true));
      const table = maskOfTag(vocabulary);
      if (table && !DECIMAL.test(text)) return parseMask(text, table);
      return Number(decimalInRange(text, BigInt(INT32_MIN), BigInt(INT32_MAX), 'an Integer'));
    }
    case 'LongInteger':
      return HEX_64.test(text) ? hexValue(text, true) : decimalInRange(text, INT64_MIN, INT64_MAX, 'a Long Integer');
    case 'BigInteger': {
      const hex = text.startsWith('0x') ? text.slice(2) : text;
      if (hex.length === 0 || !HEX_BYTES.test(hex)) throw bad('a Big Integer');
      return twosComplementToBigInt(Buffer.from(hex, 'hex'));
    }
    case 'Enumeration':
      return parseEnumeration(text, enumerationOfTag(vocabulary));
    case 'Boolean':
      if (text === 'true') return true;
      if (text === 'false') return false;
      if (HEX_64.test(text) && BigInt(text) <= 1n) return BigInt(text) === 1n;
      throw bad('a Boolean');
    case 'TextString':
      return text;
    case 'ByteString':
      if (!HEX_BYTES.test(text)) throw bad('a Byte String');
      return new Uint8Array(Buffer.from(text, 'hex'));
    case 'DateTime':
      return parseDateTime(text, options);
    case 'Interval':
      return HEX_32.test(text) ? Number(text) : Number(decimalInRange(text, 0n, BigInt(UINT32_MAX), 'an Interval'));
    case 'DateTimeExtended':
      return HEX_64.test(text) ? hexValue(text, true) : parseIsoMicros(text, true);
  }
}

function hex(value: bigint, digits: number): string {
  const unsigned = value < 0n ? (1n << BigInt(digits * 4)) + value : value;
  return `0x${unsigned.toString(16).padStart(digits, '0')}`;
}

function formatMask(value: number, table: ValueTable, style: TextStyle): string | undefined {
  let rest = value >>> 0;
  const names: string[] = [];
  for (const [flag, name] of table.byValue) {
    if ((rest & flag) >>> 0 === flag && flag !== 0) {
      names.push(name);
      rest = (rest & ~flag) >>> 0;
    }
  }
  return rest === 0 && names.length > 0 ? names.join(style === 'xml' ? ' ' : '|') : undefined;
}

/**
 * The canonical text of a primitive value: what parseTextValue reads back to
 * the same value. Masks whose bits all have names are written as names,
 * known enumerations by name, dates in ISO 8601 (UTC) when the year has four
 * digits; the rest in decimal or hex.
 */
export function formatTextValue(node: PrimitiveNode, vocabulary: number, style: TextStyle): string {
  switch (node.type) {
    case 'Integer': {
      const table = maskOfTag(vocabulary);
      return (table && formatMask(node.value, table, style)) ?? String(node.value);
    }
    case 'LongInteger':
    case 'Interval':
      return String(node.value);
    case 'BigInteger': {
      const digits = bigIntToTwosComplement(node.value).toString('hex');
      return style === 'json' ? `0x${digits}` : digits;
    }
    case 'Enumeration':
      return enumerationOfTag(vocabulary)?.byValue.get(node.value) ?? hex(BigInt(node.value), 8);
    case 'Boolean':
      return node.value ? 'true' : 'false';
    case 'TextString':
      return node.value;
    case 'ByteString':
      return Buffer.from(node.value.buffer, node.value.byteOffset, node.value.length).toString('hex');
    case 'DateTime':
      return isFormattableSeconds(node.value) ? formatIsoMicros(node.value * MICROS_PER_SECOND, false) : hex(node.value, 16);
    case 'DateTimeExtended': {
      const seconds = node.value >= 0n ? node.value / MICROS_PER_SECOND : -((-node.value + MICROS_PER_SECOND - 1n) / MICROS_PER_SECOND);
      return isFormattableSeconds(seconds) ? formatIsoMicros(node.value, true) : hex(node.value, 16);
    }
  }
}
