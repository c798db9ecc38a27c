/**
 * The KMIP XML encoding (KMIP Additional Message Encodings v1.0 §6.1) ↔ the
 * TTLV tree: `<Tag type="Type" value="…"/>` for a primitive,
 * `<Tag>children</Tag>` for a Structure (type absent or "Structure"), and
 * `<TTLV tag="0x54xxxx" type="…">` for a tag the dictionary does not name.
 * Values are written as kmip-text-values.ts says. The OASIS test-case files
 * wrap their messages in `<KMIP>`: parseKmipXmlDocument reads those. Bounded
 * by a text size and the nesting depth. Pure: no I/O, no clock, no logger.
 */
import { tagName, tagNumber, vocabularyTag } from './dictionary';
import { KmipCodecError } from './kmip-codec-error';
import { formatTextValue, parseTextValue, PrimitiveNode, TextParseOptions } from './kmip-text-values';
import { readXml, XmlElement } from './xml-reader';
import { ITEM_TYPES, ItemType, KMIP_MAX_DEPTH, isValidTag, TtlvNode } from './ttlv';

/** Largest XML or JSON text accepted: 4 MiB holds a maximal TTLV message written out (hex doubles bytes). */
export const KMIP_MAX_TEXT_CHARS = 4 * 1024 * 1024;

export interface KmipTextOptions extends TextParseOptions {
  /** Longest text accepted (default KMIP_MAX_TEXT_CHARS). */
  readonly maxChars?: number;
  /** Deepest nesting accepted, the message being depth 1 (default KMIP_MAX_DEPTH). */
  readonly maxDepth?: number;
}

/** The name of the element that carries a tag the dictionary does not name. */
const UNNAMED_TAG_ELEMENT = 'TTLV';
/** The root element of the OASIS test-case files. */
const TEST_CASE_ROOT = 'KMIP';
const HEX_TAG = /^0x[0-9A-Fa-f]{6}$/;

function checkSize(text: string, options: KmipTextOptions): void {
  const maxChars = options.maxChars ?? KMIP_MAX_TEXT_CHARS;
  if (text.length > maxChars) throw new KmipCodecError('TEXT_TOO_LARGE', `a text of ${text.length} characters exceeds the limit of ${maxChars}`);
}

/** Parses one KMIP message (or any item) written in the XML encoding. */
export function parseKmipXml(text: string, options: KmipTextOptions = {}): TtlvNode {
  checkSize(text, options);
  return elementToNode(readXml(text, options.maxDepth ?? KMIP_MAX_DEPTH), [], options);
}

/** Parses an OASIS test-case file: `<KMIP>` holding request and response messages, in order. */
export function parseKmipXmlDocument(text: string, options: KmipTextOptions = {}): TtlvNode[] {
  checkSize(text, options);
  const root = readXml(text, (options.maxDepth ?? KMIP_MAX_DEPTH) + 1);
  if (root.name !== TEST_CASE_ROOT || root.attributes.size > 0) throw new KmipCodecError('BAD_SHAPE', `a test-case file has one <${TEST_CASE_ROOT}> root`);
  return root.children.map((child) => elementToNode(child, [], options));
}

function shape(message: string, element: XmlElement): KmipCodecError {
  return new KmipCodecError('BAD_SHAPE', message, element.offset);
}

function elementTag(element: XmlElement): number {
  if (element.name !== UNNAMED_TAG_ELEMENT) {
    const tag = tagNumber(element.name);
    if (tag === undefined) throw new KmipCodecError('UNKNOWN_TAG', `<${element.name}> is not a KMIP tag name`, element.offset);
    return tag;
  }
  const hex = element.attributes.get('tag');
  if (hex === undefined || !HEX_TAG.test(hex)) throw shape(`<${UNNAMED_TAG_ELEMENT}> needs tag="0x" and 6 hex digits`, element);
  const tag = Number(hex);
  if (!isValidTag(tag)) throw new KmipCodecError('BAD_TAG', `tag ${hex} is neither 0x42xxxx nor 0x54xxxx`, element.offset);
  return tag;
}

function elementToNode(element: XmlElement, siblings: readonly TtlvNode[], options: KmipTextOptions): TtlvNode {
  const tag = elementTag(element);
  for (const name of element.attributes.keys()) {
    if (name !== 'type' && name !== 'value' && !(name === 'tag' && element.name === UNNAMED_TAG_ELEMENT)) throw shape(`an unexpected attribute ${name}`, element);
  }
  const typeName = element.attributes.get('type') ?? 'Structure';
  if (!Object.hasOwn(ITEM_TYPES, typeName)) throw new KmipCodecError('UNKNOWN_ITEM_TYPE', `type="${typeName}" is not a KMIP item type`, element.offset);
  const type = typeName as ItemType;
  const text = element.attributes.get('value');
  if (type === 'Structure') {
    if (text !== undefined) throw shape('a Structure has children, not a value', element);
    const children: TtlvNode[] = [];
    for (const child of element.children) children.push(elementToNode(child, children, options));
    return { tag, type, value: children };
  }
  if (element.children.length > 0) throw shape(`a ${type} has a value, not children`, element);
  if (text === undefined) throw shape(`a ${type} needs value="…"`, element);
  try {
    return { tag, type, value: parseTextValue(type, text, vocabularyTag(tag, siblings), options) } as PrimitiveNode;
  } catch (error) {
    if (error instanceof KmipCodecError) throw new KmipCodecError(error.reason, `<${element.name}>: ${error.message}`, element.offset);
    throw error;
  }
}

/** Characters XML 1.0 cannot carry at all, even as references. */
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function escapeAttribute(value: string): string {
  if (NOT_XML_CHAR.test(value)) throw new KmipCodecError('BAD_VALUE', 'a Text String holds a character XML cannot carry');
  return value.replace(/[&<>"\t\n\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' })[c] as string);
}

/**
 * Writes an item in the XML encoding, one element per line, indented by two
 * spaces per level, as the OASIS test cases are laid out.
 */
export function formatKmipXml(node: TtlvNode): string {
  const lines: string[] = [];
  writeElement(node, [], 0, 0, lines);
  return `${lines.join('\n')}\n`;
}

/** Writes `node`, the item after the first `before` of `siblings`. */
function writeElement(node: TtlvNode, siblings: readonly TtlvNode[], before: number, level: number, lines: string[]): void {
  if (level >= KMIP_MAX_DEPTH) throw new KmipCodecError('TOO_DEEP', `nesting deeper than ${KMIP_MAX_DEPTH}`);
  const indent = '  '.repeat(level);
  const name = tagName(node.tag);
  const element = name ?? UNNAMED_TAG_ELEMENT;
  const tagAttribute = name === undefined ? ` tag="0x${node.tag.toString(16).padStart(6, '0')}"` : '';
  if (node.type === 'Structure') {
    if (node.value.length === 0) {
      lines.push(`${indent}<${element}${tagAttribute}/>`);
      return;
    }
    lines.push(`${indent}<${element}${tagAttribute}>`);
    node.value.forEach((child, i) => writeElement(child, node.value, i, level + 1, lines));
    lines.push(`${indent}</${element}>`);
    return;
  }
  const value = escapeAttribute(formatTextValue(node, vocabularyTag(node.tag, siblings, before), 'xml'));
  lines.push(`${indent}<${element}${tagAttribute} type="${node.type}" value="${value}"/>`);
}
