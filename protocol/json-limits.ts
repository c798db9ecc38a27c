/**
 * Bounded JSON parsing for the native protocol (docs/protocol.md §2, §3.3
 * step 3): the payload must be UTF-8 without a byte-order mark, hold one JSON
 * object, nest at most `maxDepth` deep (the outer object is depth 1) and hold
 * at most `maxElements` JSON values. Depth and count are checked by a linear
 * pre-scan that stops at the first excess, before JSON.parse runs, so a 1 MiB
 * `[[[[…` never reaches the recursive parser. Pure: no I/O, no clock, no
 * logger, no module state. Errors never quote the payload (it may hold key
 * material).
 */
import { ProtocolError } from './protocol-error';

/** Deepest nesting accepted (the request object is depth 1). Guards the recursive JSON.parse and every tree walk after it against stack exhaustion. */
export const MAX_JSON_DEPTH = 16;
/** Most JSON values (objects, arrays, strings, numbers, literals) in one payload. Bounds the objects a small frame can make us allocate (`[0,0,0,…]` costs ~2 bytes per value on the wire, far more in the heap). */
export const MAX_JSON_ELEMENTS = 10_000;
/** No configuration may set a depth above this: V8's JSON.parse and our validators must stay far from the stack limit. */
export const HARD_MAX_JSON_DEPTH = 256;

export interface JsonLimits {
  readonly maxDepth: number;
  readonly maxElements: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: MAX_JSON_DEPTH, maxElements: MAX_JSON_ELEMENTS };

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

function malformed(message: string): ProtocolError {
  return new ProtocolError('MALFORMED_REQUEST', message);
}

function checkLimits(limits: JsonLimits): void {
  const { maxDepth, maxElements } = limits;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > HARD_MAX_JSON_DEPTH) {
    throw new RangeError(`maxDepth must be 1..${HARD_MAX_JSON_DEPTH}`);
  }
  if (!Number.isSafeInteger(maxElements) || maxElements < 1) throw new RangeError('maxElements must be a positive integer');
}

/** Strict UTF-8 to text; a BOM or any invalid sequence (overlong, surrogate, truncated) is MALFORMED_REQUEST. */
function decodeUtf8(payload: Buffer): string {
  if (payload.length >= 3 && payload[0] === UTF8_BOM[0] && payload[1] === UTF8_BOM[1] && payload[2] === UTF8_BOM[2]) {
    throw malformed('payload starts with a byte-order mark');
  }
  try {
    // ignoreBOM: true keeps a BOM in the text instead of silently dropping it (checked above anyway).
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload);
  } catch {
    throw malformed('payload is not valid UTF-8');
  }
}

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const COMMA = 0x2c;
const COLON = 0x3a;

function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Characters that can appear in a number or in true/false/null (and, in bad JSON, anything else JSON.parse will refuse). */
function isScalarChar(c: number): boolean {
  return !isJsonWhitespace(c) && c !== QUOTE && c !== OPEN_OBJECT && c !== CLOSE_OBJECT && c !== OPEN_ARRAY && c !== CLOSE_ARRAY && c !== COMMA && c !== COLON;
}

/**
 * One linear pass over the text: counts nesting depth and values, skipping
 * string contents (with their escapes), and throws at the first excess. It
 * does not validate syntax (JSON.parse does, afterwards); for valid JSON its
 * counts are exact, for invalid JSON they still bound what JSON.parse would
 * recurse into before failing. Object keys are not counted as values.
 */
export function scanJsonLimits(text: string, limits: JsonLimits): { depth: number; elements: number } {
  checkLimits(limits);
  // inObject[d] tells whether the container at depth d is an object; depth is bounded, so is this array.
  const inObject: boolean[] = [];
  let depth = 0;
  let maxSeen = 0;
  let elements = 0;
  let expectingKey = false;
  const countValue = (): void => {
    elements += 1;
    if (elements > limits.maxElements) throw malformed(`more than ${limits.maxElements} JSON values`);
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isJsonWhitespace(c)) {
      i += 1;
    } else if (c === QUOTE) {
      i += 1;
      while (i < n) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i += 2;
        else if (s === QUOTE) break;
        else i += 1;
      }
      if (i >= n) throw malformed('unterminated string');
      i += 1;
      if (expectingKey) expectingKey = false;
      else countValue();
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      countValue();
      depth += 1;
      if (depth > limits.maxDepth) throw malformed(`JSON nested deeper than ${limits.maxDepth}`);
      if (depth > maxSeen) maxSeen = depth;
      inObject[depth] = c === OPEN_OBJECT;
      expectingKey = c === OPEN_OBJECT;
      i += 1;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 0) throw malformed('unbalanced closing bracket');
      depth -= 1;
      expectingKey = false;
      i += 1;
    } else if (c === COMMA) {
      expectingKey = depth > 0 && inObject[depth] === true;
      i += 1;
    } else if (c === COLON) {
      expectingKey = false;
      i += 1;
    } else {
      countValue();
      while (i < n && isScalarChar(text.charCodeAt(i))) i += 1;
    }
  }
  return { depth: maxSeen, elements };
}

/**
 * Decodes one payload into a JSON object within the limits. Returns what
 * JSON.parse returns (a plain object). Duplicate keys are not detected:
 * JSON.parse keeps the last one. A `__proto__` key becomes an ordinary own
 * property (JSON.parse never sets a prototype); validators must read fields
 * explicitly and never spread or Object.assign such objects.
 * @example parseJsonPayload(Buffer.from('{"id":1,"op":"Query"}'), DEFAULT_JSON_LIMITS)
 */
export function parseJsonPayload(payload: Buffer, limits: JsonLimits): unknown {
  checkLimits(limits);
  const text = decodeUtf8(payload);
  scanJsonLimits(text, limits);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('payload is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('payload must be a JSON object');
  }
  return value;
}

/** True for a JSON object value (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own-property read that never consults the prototype chain (so `toString`, `__proto__` are only ever own fields). */
export function ownField(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}
