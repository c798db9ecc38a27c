/**
 * A tiny declarative validator for operation arguments (docs/protocol.md
 * §3.3 step 4, §3.4, §6): a schema maps each field to its type and limits;
 * `validateObject` returns a new object holding only validated values, with
 * base64 fields decoded to Buffers (or, given Buffers in process, copied). Unknown fields, missing fields and wrong
 * types are INVALID_REQUEST naming the field, never its value. Pure: no I/O,
 * no clock, no logger, no module state.
 */
import { ProtocolError } from './protocol-error';
import { isJsonObject, ownField } from './json-limits';

export type FieldSpec =
  | { readonly type: 'string'; readonly optional?: boolean; readonly minLength?: number; readonly maxLength: number }
  | { readonly type: 'base64'; readonly optional?: boolean; readonly maxLength?: number }
  | { readonly type: 'integer'; readonly optional?: boolean; readonly min: number; readonly max: number }
  | { readonly type: 'boolean'; readonly optional?: boolean }
  | { readonly type: 'string[]'; readonly optional?: boolean; readonly maxItems: number; readonly maxLength: number }
  | {
      readonly type: 'stringMap';
      readonly optional?: boolean;
      readonly maxEntries: number;
      readonly keyPattern: RegExp;
      readonly maxLength: number;
    }
  | { readonly type: 'enum'; readonly optional?: boolean; readonly values: readonly string[] }
  | { readonly type: 'items'; readonly optional?: boolean; readonly minItems: number; readonly maxItems: number };

export type FieldType = FieldSpec['type'];

export interface Schema {
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** Each inner list: at least one of these fields must be present. */
  readonly atLeastOneOf?: readonly (readonly string[])[];
  /** Each inner list: exactly one of these fields must be present. */
  readonly exactlyOneOf?: readonly (readonly string[])[];
}

/** Longest field name quoted back in an error: a hostile 1 MiB key name is not echoed. */
const MAX_QUOTED_NAME = 64;

/** A field name safe to put in a message: printable ASCII, truncated. */
export function quoteName(name: string): string {
  const clipped = name.length > MAX_QUOTED_NAME ? `${name.slice(0, MAX_QUOTED_NAME)}…` : name;
  return clipped.replace(/[^\x20-\x7e…]/g, '?');
}

export function invalid(message: string, field?: string, expected?: string): ProtocolError {
  const details: Record<string, string> = {};
  if (field !== undefined) details.field = quoteName(field);
  if (expected !== undefined) details.expected = expected;
  return new ProtocolError('INVALID_REQUEST', message, details);
}

/** RFC 4648 §4 alphabet with padding only at the end; length and pad bits are checked separately. */
const BASE64_SHAPE = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Strict RFC 4648 base64 (standard alphabet, with padding, no whitespace,
 * zero pad bits) to bytes; null when the text is anything else. Buffer.from
 * alone would skip junk silently. The caller owns (and wipes) the result.
 */
export function decodeBase64Strict(text: string): Buffer | null {
  if (text.length % 4 !== 0 || !BASE64_SHAPE.test(text)) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (pad > 0) {
    // The last data character carries 4 (for "==") or 2 (for "=") unused bits, which must be zero.
    const last = BASE64_ALPHABET.indexOf(text.charAt(text.length - pad - 1));
    const unusedMask = pad === 2 ? 0x0f : 0x03;
    if (last < 0 || (last & unusedMask) !== 0) return null;
  }
  return Buffer.from(text, 'base64');
}

/**
 * Bytes given as bytes, by a caller in this process (a KMIP operation's
 * `ctx.call`; JSON never yields them): the field's limit is counted in the
 * base64 characters the JSON wire would carry, so both wires take the same
 * values, and the result is a copy that the validated arguments own (their
 * holder wipes it; the caller wipes its own). Not turned into base64 text
 * and back: a string of key material could never be zeroed.
 */
function checkedBytes(field: string, maxLength: number | undefined, value: Uint8Array): Buffer {
  if (maxLength !== undefined && Math.ceil(value.length / 3) * 4 > maxLength) {
    throw invalid(`field ${quoteName(field)} is longer than ${maxLength} characters`, field, 'base64');
  }
  return Buffer.from(value);
}

function checkString(field: string, value: unknown, minLength: number, maxLength: number): string {
  if (typeof value !== 'string') throw invalid(`field ${quoteName(field)} must be a string`, field, 'string');
  if (value.length < minLength || value.length > maxLength) {
    throw invalid(`field ${quoteName(field)} must be ${minLength}..${maxLength} characters`, field, 'string');
  }
  return value;
}

function validateField(field: string, spec: FieldSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'string':
      return checkString(field, value, spec.minLength ?? 0, spec.maxLength);
    case 'base64': {
      if (value instanceof Uint8Array) return checkedBytes(field, spec.maxLength, value);
      if (typeof value !== 'string') throw invalid(`field ${quoteName(field)} must be a base64 string`, field, 'base64');
      if (spec.maxLength !== undefined && value.length > spec.maxLength) {
        throw invalid(`field ${quoteName(field)} is longer than ${spec.maxLength} characters`, field, 'base64');
      }
      const bytes = decodeBase64Strict(value);
      if (bytes === null) throw invalid(`field ${quoteName(field)} must be RFC 4648 base64 with padding`, field, 'base64');
      return bytes;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw invalid(`field ${quoteName(field)} must be an integer`, field, 'integer');
      }
      if (value < spec.min || value > spec.max) {
        throw invalid(`field ${quoteName(field)} must be ${spec.min}..${spec.max}`, field, 'integer');
      }
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(`field ${quoteName(field)} must be a boolean`, field, 'boolean');
      return value;
    case 'string[]': {
      if (!Array.isArray(value)) throw invalid(`field ${quoteName(field)} must be an array of strings`, field, 'string[]');
      if (value.length > spec.maxItems) {
        throw invalid(`field ${quoteName(field)} holds more than ${spec.maxItems} items`, field, 'string[]');
      }
      return value.map((item) => {
        if (typeof item !== 'string' || item.length > spec.maxLength) {
          throw invalid(`field ${quoteName(field)} must hold strings of at most ${spec.maxLength} characters`, field, 'string[]');
        }
        return item;
      });
    }
    case 'stringMap':
      return validateStringMap(field, value, spec.maxEntries, spec.keyPattern, spec.maxLength);
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        throw invalid(`field ${quoteName(field)} must be one of ${spec.values.join(', ')}`, field, 'enum');
      }
      return value;
    case 'items':
      return validateItems(field, value, spec.minItems, spec.maxItems);
  }
}

/**
 * An object of string values into a prototype-less map (so a `__proto__`
 * name is just a name). Shared with the request envelope's `meta.custom`.
 */
export function validateStringMap(field: string, value: unknown, maxEntries: number, keyPattern: RegExp, maxLength: number): Record<string, string> {
  if (!isJsonObject(value)) throw invalid(`field ${quoteName(field)} must be an object of strings`, field, 'stringMap');
  const names = Object.keys(value);
  if (names.length > maxEntries) throw invalid(`field ${quoteName(field)} holds more than ${maxEntries} entries`, field, 'stringMap');
  const out = Object.create(null) as Record<string, string>;
  for (const name of names) {
    if (!keyPattern.test(name)) throw invalid(`field ${quoteName(field)} has an invalid entry name`, field, 'stringMap');
    const entry = ownField(value, name);
    if (typeof entry !== 'string' || entry.length > maxLength) {
      throw invalid(`field ${quoteName(field)} must hold strings of at most ${maxLength} characters`, field, 'stringMap');
    }
    out[name] = entry;
  }
  return out;
}

/** Batch items, shape only: each `{op: string, args?: object}`; each item's own args are checked later, one by one. */
function validateItems(field: string, value: unknown, minItems: number, maxItems: number): Array<{ op: string; args: Record<string, unknown> }> {
  if (!Array.isArray(value)) throw invalid(`field ${quoteName(field)} must be an array`, field, 'items');
  if (value.length < minItems || value.length > maxItems) {
    throw invalid(`field ${quoteName(field)} must hold ${minItems}..${maxItems} items`, field, 'items');
  }
  return value.map((item, index) => {
    const where = `${field}[${index}]`;
    if (!isJsonObject(item)) throw invalid(`${where} must be an object`, where, 'object');
    for (const key of Object.keys(item)) {
      if (key !== 'op' && key !== 'args') throw invalid(`${where} has unknown field ${quoteName(key)}`, `${where}.${key}`);
    }
    const op = ownField(item, 'op');
    if (typeof op !== 'string') throw invalid(`${where}.op must be a string`, `${where}.op`, 'string');
    const given = ownField(item, 'args');
    const args = given === undefined ? {} : given;
    if (!isJsonObject(args)) throw invalid(`${where}.args must be an object`, `${where}.args`, 'object');
    return { op, args };
  });
}

/**
 * Checks `input` against `schema` and returns a new object with only the
 * schema's fields (absent optional fields are left out). `where` prefixes
 * field names in errors (e.g. "items[3].args").
 */
export function validateObject(schema: Schema, input: unknown, where = 'args'): Record<string, unknown> {
  if (!isJsonObject(input)) throw invalid(`${where} must be an object`, where, 'object');
  const fields = schema.fields;
  for (const key of Object.keys(input)) {
    if (!Object.prototype.hasOwnProperty.call(fields, key)) throw invalid(`unknown field ${quoteName(`${where}.${key}`)}`, `${where}.${key}`);
  }
  const out: Record<string, unknown> = {};
  try {
    for (const field of Object.keys(fields)) {
      const spec = fields[field];
      const value = ownField(input, field);
      if (value === undefined) {
        if (spec.optional !== true) throw invalid(`missing field ${quoteName(`${where}.${field}`)}`, `${where}.${field}`, spec.type);
        continue;
      }
      out[field] = validateField(`${where}.${field}`, spec, value);
    }
    const present = (names: readonly string[]): number => names.filter((name) => out[name] !== undefined).length;
    for (const group of schema.atLeastOneOf ?? []) {
      if (present(group) < 1) throw invalid(`${where} needs one of ${group.join(', ')}`, `${where}.${group.join('|')}`);
    }
    for (const group of schema.exactlyOneOf ?? []) {
      if (present(group) !== 1) throw invalid(`${where} needs exactly one of ${group.join(', ')}`, `${where}.${group.join('|')}`);
    }
  } catch (err) {
    // Bytes already decoded from base64 fields may be key material: wipe them before giving up.
    for (const value of Object.values(out)) if (Buffer.isBuffer(value)) value.fill(0);
    throw err;
  }
  return out;
}
