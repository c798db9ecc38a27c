/**
 * A small strict XML reader for the subset the KMIP XML encoding uses
 * (Additional Message Encodings §6.1.6): elements with attributes, comments,
 * an optional XML declaration, whitespace between elements, and the five
 * predefined entities plus character references in attribute values. Refused:
 * DOCTYPE (no entity expansion, so no billion laughs or external entities),
 * CDATA, processing instructions, text content, namespaces, duplicate
 * attributes, mismatched tags. Iterative (an explicit stack, no recursion) and
 * bounded by a nesting depth. Pure: no I/O, no clock, no logger.
 */
import { KmipCodecError } from './kmip-codec-error';

export interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  /** Offset of the element's `<` in the text, for error messages. */
  readonly offset: number;
}

const NAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const SPACE = /[ \t\r\n]*/y;
const ATTRIBUTE_VALUE = /"([^"<]*)"|'([^'<]*)'/y;
const DECLARATION = /^<\?xml(?:[ \t\r\n]+[A-Za-z]+[ \t\r\n]*=[ \t\r\n]*(?:"[^"<>]*"|'[^'<>]*'))*[ \t\r\n]*\?>$/;
/** Longest XML declaration read: the regular expression above backtracks on long runs of spaces, so it only ever sees this much. */
const MAX_DECLARATION_CHARS = 256;
const ENTITY = /&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));/g;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function syntax(message: string, offset: number): KmipCodecError {
  return new KmipCodecError('XML_SYNTAX', message, offset);
}

/** Characters XML 1.0 allows (§2.2): no C0 controls but tab, CR and LF, no surrogates, no U+FFFE/U+FFFF. */
function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

function decodeEntities(raw: string, offset: number): string {
  if (!raw.includes('&')) return raw;
  const decoded = raw.replace(ENTITY, (_all, named: string | undefined, decimal: string | undefined, hex: string | undefined) => {
    if (named !== undefined) return PREDEFINED[named];
    const code = decimal !== undefined ? Number(decimal) : parseInt(hex as string, 16);
    if (!isXmlChar(code)) throw syntax('a character reference names a character XML does not allow', offset);
    return String.fromCodePoint(code);
  });
  // An ampersand left over is one that began no valid reference.
  if (raw.replace(ENTITY, '').includes('&')) throw syntax('an "&" that is not an entity or character reference', offset);
  return decoded;
}

/**
 * Parses a whole document: one root element, with comments, whitespace and an
 * optional XML declaration around it.
 */
export function readXml(text: string, maxDepth: number): XmlElement {
  let pos = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;

  const skipSpace = (): void => {
    SPACE.lastIndex = pos;
    SPACE.exec(text);
    pos = SPACE.lastIndex;
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) throw syntax('a name was expected', pos);
    pos = NAME.lastIndex;
    return m[0];
  };

  for (let i = 0; i < text.length; i++) {
    const code = text.codePointAt(i) as number;
    if (!isXmlChar(code)) throw syntax('a character XML does not allow', i);
    if (code > 0xffff) i++;
  }
  if (text.startsWith('<?xml')) {
    const end = text.indexOf('?>');
    if (end < 0 || end + 2 > MAX_DECLARATION_CHARS || !DECLARATION.test(text.slice(0, end + 2))) throw syntax('a malformed XML declaration', 0);
    pos = end + 2;
  }

  for (;;) {
    skipSpace();
    if (pos >= text.length) break;
    if (text[pos] !== '<') throw syntax('text content is not part of the KMIP XML encoding', pos);
    if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos + 4);
      if (end < 0) throw syntax('an unterminated comment', pos);
      if (text.slice(pos + 4, end).includes('--')) throw syntax('"--" inside a comment', pos);
      pos = end + 3;
      continue;
    }
    if (text.startsWith('<!', pos) || text.startsWith('<?', pos)) throw syntax('DOCTYPE, CDATA and processing instructions are refused', pos);
    if (text.startsWith('</', pos)) {
      const start = pos;
      pos += 2;
      const name = readName();
      skipSpace();
      if (text[pos] !== '>') throw syntax('a malformed end tag', start);
      pos++;
      const open = stack.pop();
      if (!open || open.name !== name) throw syntax(`the end tag </${name}> does not match its start tag`, start);
      continue;
    }
    if (root !== undefined && stack.length === 0) throw syntax('more than one root element', pos);
    const start = pos;
    pos++;
    const name = readName();
    const attributes = new Map<string, string>();
    for (;;) {
      const before = pos;
      skipSpace();
      if (text.startsWith('/>', pos) || text[pos] === '>') break;
      if (pos === before) throw syntax('attributes must be separated by whitespace', pos);
      const attributeName = readName();
      skipSpace();
      if (text[pos] !== '=') throw syntax('an attribute without "="', pos);
      pos++;
      skipSpace();
      ATTRIBUTE_VALUE.lastIndex = pos;
      const m = ATTRIBUTE_VALUE.exec(text);
      if (!m) throw syntax('an attribute value must be quoted and hold no "<"', pos);
      if (attributes.has(attributeName)) throw syntax(`a duplicate attribute ${attributeName}`, pos);
      attributes.set(attributeName, decodeEntities(m[1] ?? m[2], pos));
      pos = ATTRIBUTE_VALUE.lastIndex;
    }
    const element: XmlElement = { name, attributes, children: [], offset: start };
    if (stack.length + 1 > maxDepth) throw new KmipCodecError('TOO_DEEP', `XML nesting deeper than ${maxDepth}`, start);
    if (stack.length > 0) stack[stack.length - 1].children.push(element);
    else root = element;
    if (text.startsWith('/>', pos)) {
      pos += 2;
    } else {
      pos++;
      stack.push(element);
    }
  }
  if (stack.length > 0) throw syntax(`<${stack[stack.length - 1].name}> is never closed`, text.length);
  if (root === undefined) throw syntax('no root element', 0);
  return root;
}
