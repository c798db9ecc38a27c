/**
 * The KMIP JSON encoding (KMIP Additional Message Encodings v1.0 §4.1) ↔ the
 * TTLV tree: each item is an object `{"tag", "type", "value"}`; tag is a name or `0x` and 6 hex digits; type is absent (or
 * "Structure") for a Structure, whose value is an array of items. Numbers may
 * be JSON numbers where they fit (Integer, Interval, Enumeration, and Long
 * Integer within ±2^53) or text as kmip-text-values.ts reads it; Booleans are
 * JSON booleans. The text is scanned for depth and element count before
 * JSON.parse runs (protocol/json-limits.ts). Pure: no I/O, no clock.
 */
import { tagName, tagNumber, vocabularyTag } from './dictionary';
import { KmipCodecError } from './kmip-codec-error';
import { formatTextValue, parseTextValue, PrimitiveNode, PrimitiveType, PrimitiveValue } from './kmip-text-values';
import { KMIP_MAX_TEXT_CHARS, KmipTextOptions } from './kmip-xml';
import { isJsonObject, scanJsonLimits } from '../json-limits';
import { INT32_MAX, INT32_MIN, ITEM_TYPES, ItemType, KMIP_MAX_DEPTH, KMIP_MAX_MESSAGE_BYTES, TTLV_HEADER_BYTES, UINT32_MAX, isValidTag, TtlvNode } from './ttlv';

/** Most JSON values in one text: 4 per item (object, tag, type, value) for as many items as a maximal TTLV message holds. */
export const KMIP_MAX_JSON_ELEMENTS = 4 * (KMIP_MAX_MESSAGE_BYTES / TTLV_HEADER_BYTES);

/** One item in the JSON encoding. */
export interface KmipJsonItem {
  readonly tag: string;
  readonly type?: string;
  readonly value: unknown;
}

const HEX_TAG = /^0x[0-9A-Fa-f]{6}$/;
const ITEM_KEYS = new Set(['tag', 'type', 'value']);

/** Parses one KMIP message (or any item) written in the JSON encoding. */
export function parseKmipJson(text: string, options: KmipTextOptions = {}): TtlvNode {
  const maxChars = options.maxChars ?? KMIP_MAX_TEXT_CHARS;
  if (text.length > maxChars) throw new KmipCodecError('TEXT_TOO_LARGE', `a text of ${text.length} characters exceeds the limit of ${maxChars}`);
  const maxDepth = options.maxDepth ?? KMIP_MAX_DEPTH;
  let parsed: unknown;
  try {
    // Each level of items is an object and its value array: two JSON levels.
    scanJsonLimits(text, { maxDepth: 2 * maxDepth, maxElements: KMIP_MAX_JSON_ELEMENTS });
    parsed = JSON.parse(text);
  } catch {
    throw new KmipCodecError('JSON_SYNTAX', 'not JSON within the depth and element limits');
  }
  return jsonToNode(parsed, [], options);
}

function shape(message: string): KmipCodecError {
  return new KmipCodecError('BAD_SHAPE', message);
}

function jsonTag(tag: unknown): number {
  if (typeof tag !== 'string') throw shape('an item needs "tag", a name or 0x and 6 hex digits');
  if (HEX_TAG.test(tag)) {
    const number = Number(tag);
    if (!isValidTag(number)) throw new KmipCodecError('BAD_TAG', `tag ${tag} is neither 0x42xxxx nor 0x54xxxx`);
    return number;
  }
  const number = tagNumber(tag);
  if (number === undefined) throw new KmipCodecError('UNKNOWN_TAG', `"${tag.slice(0, 64)}" is not a KMIP tag name`);
  return number;
}

/** Converts an already-parsed JSON item; exported for transports that parse JSON themselves. */
export function jsonToNode(item: unknown, siblings: readonly TtlvNode[], options: KmipTextOptions = {}, depth = 1): TtlvNode {
  if (depth > (options.maxDepth ?? KMIP_MAX_DEPTH)) throw new KmipCodecError('TOO_DEEP', 'nesting deeper than the limit');
  if (!isJsonObject(item)) throw shape('an item is a JSON object');
  for (const key of Object.keys(item)) if (!ITEM_KEYS.has(key)) throw shape(`an unexpected field "${key.slice(0, 64)}"`);
  const tag = jsonTag(item.tag);
  const typeName = item.type ?? 'Structure';
  if (typeof typeName !== 'string' || !Object.hasOwn(ITEM_TYPES, typeName)) throw new KmipCodecError('UNKNOWN_ITEM_TYPE', 'an item type KMIP does not define');
  const type = typeName as ItemType;
  if (!Object.hasOwn(item, 'value')) throw shape('an item needs "value"');
  const value = item.value;
  if (type === 'Structure') {
    if (!Array.isArray(value)) throw shape('a Structure\'s value is an array of items');
    const children: TtlvNode[] = [];
    for (const child of value) children.push(jsonToNode(child, children, options, depth + 1));
    return { tag, type, value: children };
  }
  return { tag, type, value: primitiveValue(type, value, vocabularyTag(tag, siblings), options) } as PrimitiveNode;
}

function primitiveValue(type: PrimitiveType, value: unknown, vocabulary: number, options: KmipTextOptions): PrimitiveValue {
  if (typeof value === 'string') return parseTextValue(type, value, vocabulary, options);
  const bad = (): KmipCodecError => new KmipCodecError('BAD_VALUE', `a ${type} value has the wrong JSON type or is out of range`);
  if (typeof value === 'boolean') {
    if (type !== 'Boolean') throw bad();
    return value;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw bad();
  switch (type) {
    case 'Integer':
      if (value < INT32_MIN || value > INT32_MAX) throw bad();
      return value;
    case 'Enumeration':
    case 'Interval':
      if (value < 0 || value > UINT32_MAX) throw bad();
      return value;
    case 'LongInteger':
    case 'BigInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      return BigInt(value);
    default:
      throw bad();
  }
}

/** An item in the JSON encoding, as an object ready for JSON.stringify. */
export function nodeToJson(node: TtlvNode, siblings: readonly TtlvNode[] = [], before: number = siblings.length, depth = 1): KmipJsonItem {
  if (depth > KMIP_MAX_DEPTH) throw new KmipCodecError('TOO_DEEP', `nesting deeper than ${KMIP_MAX_DEPTH}`);
  const tag = tagName(node.tag) ?? `0x${node.tag.toString(16).padStart(6, '0')}`;
  if (node.type === 'Structure') return { tag, value: node.value.map((child, i) => nodeToJson(child, node.value, i, depth + 1)) };
  const vocabulary = vocabularyTag(node.tag, siblings, before);
  switch (node.type) {
    case 'Integer': {
      const text = formatTextValue(node, vocabulary, 'json');
      return { tag, type: node.type, value: /^-?\d+$/.test(text) ? node.value : text };
    }
    case 'Interval':
    case 'Boolean':
      return { tag, type: node.type, value: node.value };
    case 'LongInteger':
      return {
        tag,
        type: node.type,
        value: node.value >= BigInt(Number.MIN_SAFE_INTEGER) && node.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(node.value) : `0x${BigInt.asUintN(64, node.value).toString(16).padStart(16, '0')}`,
      };
    default:
      return { tag, type: node.type, value: formatTextValue(node, vocabulary, 'json') };
  }
}

/** Writes an item in the JSON encoding. */
export function formatKmipJson(node: TtlvNode): string {
  return JSON.stringify(nodeToJson(node));
}
