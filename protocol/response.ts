/**
 * Encoding of responses (docs/protocol.md §3.2) into frames, and decoding of
 * a response payload for the client. Binary values (Buffers, Uint8Arrays)
 * anywhere in a result become base64 strings (§3.4). Pure: no I/O, no clock,
 * no logger, no module state.
 *
 * Secrets: encodeResult never keeps or changes the caller's Buffers, and
 * encodes the JSON straight into the frame (no intermediate copy); the caller zeroes its
 * Buffers (and, once written, the returned frame) after encodeResult returns.
 */
import { StrongroomError } from '../common/errors';
import { FRAME_HEADER_BYTES } from './frame-codec';
import { frozenJson } from './frozen-json';
import { JsonLimits, isJsonObject, ownField, parseJsonPayload } from './json-limits';
import { ProtocolError } from './protocol-error';
import { readRequestId, RequestId } from './request';

/**
 * Limits a client uses for responses: a Locate page (1000 KeyViews of ~20
 * values) exceeds the request limit, while the frame limit already bounds a
 * hostile server to ~500k values in 1 MiB. Depth stays low: views are shallow.
 */
export const RESPONSE_JSON_LIMITS: JsonLimits = Object.freeze({ maxDepth: 32, maxElements: 1_000_000 });
/** Deepest result tree encodeResult walks: results are server-made and shallow; deeper means a bug (or a cycle). */
export const MAX_RESULT_DEPTH = 64;
/** Error codes a client accepts from a server: upper-case tokens, so an unknown (newer) code still passes through. */
const ERROR_CODE_SHAPE = /^[A-Z][A-Z0-9_]{0,63}$/;

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export interface DecodedResponse {
  readonly id: RequestId | null;
  readonly result?: unknown;
  readonly error?: WireError;
}

/**
 * `value` with every Buffer/Uint8Array replaced by its base64 text (before
 * JSON.stringify's Buffer.toJSON can copy the bytes into a number array).
 * Only the objects on the way to a binary value are copied: a result's
 * views mostly hold none, and copying them all cost the hot path.
 */
export function binaryToBase64(value: unknown, depth: number): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_RESULT_DEPTH) throw new StrongroomError('INTERNAL_ERROR', 'result nested too deep to encode');
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item = binaryToBase64(value[i], depth + 1);
      if (item !== value[i] && copy === null) copy = value.slice(0, i);
      if (copy !== null) copy.push(item);
    }
    return copy ?? value;
  }
  // Dates, errors and anything else with its own JSON form: JSON.stringify will call toJSON.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const keys = Object.keys(value);
  const source = value as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (let i = 0; i < keys.length; i++) {
    const original = source[keys[i]];
    const encoded = binaryToBase64(original, depth + 1);
    if (encoded !== original && out === null) {
      out = Object.create(null) as Record<string, unknown>;
      for (let j = 0; j < i; j++) out[keys[j]] = source[keys[j]];
    }
    if (out !== null) out[keys[i]] = encoded;
  }
  return out ?? value;
}

/** The frame of `message`'s JSON, encoded straight after the length prefix (no intermediate payload copy to zero). */
function frameJson(message: unknown): Buffer {
  return frameText(JSON.stringify(message));
}

/** The frame of JSON text `json`. */
function frameText(json: string): Buffer {
  const length = Buffer.byteLength(json, 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, FRAME_HEADER_BYTES, length, 'utf8');
  return frame;
}

function checkId(id: RequestId | null): void {
  if (id !== null && readRequestId(id) === null) throw new StrongroomError('INTERNAL_ERROR', 'response id is not a valid request id');
}

/**
 * The framed success response `{id, result}`. Buffers in the result become
 * base64; undefined fields are left out (as JSON.stringify does).
 * @example encodeResult('r-17', { mac: Buffer.from([1, 2]) }) // frame of {"id":"r-17","result":{"mac":"AQI="}}
 */
export function encodeResult(id: RequestId, result: unknown): Buffer {
  checkId(id);
  const value = result ?? {};
  const fields = isPlainRecord(value) ? fieldsJson(value) : null;
  if (fields === null) return frameJson({ id, result: binaryToBase64(value, 1) });
  return frameText(`{"id":${JSON.stringify(id)},"result":${fields}}`);
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * A plain result object's JSON written field by field when at least one
 * field is a deeply frozen view whose text is kept (frozen-json.ts: a Get's
 * key and instance views); null when none is, and the whole result is
 * stringified as before. Each other field is encoded as JSON.stringify
 * encodes it in place (undefined, functions and symbols left out; Buffers
 * as base64), save that a toJSON method is called with '' rather than the
 * field's name (a Date's ignores it; results hold no other).
 */
function fieldsJson(result: Record<string, unknown>): string | null {
  const keys = Object.keys(result);
  const kept: Array<string | null> = new Array(keys.length);
  let any = false;
  for (let i = 0; i < keys.length; i++) {
    kept[i] = frozenJson(result[keys[i]]);
    if (kept[i] !== null) any = true;
  }
  if (!any) return null;
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    // As a member of an object, JSON.stringify turns these into nothing (and would answer undefined for them alone).
    const text = kept[i] ?? JSON.stringify(binaryToBase64(result[keys[i]], 2));
    if (text === undefined) continue;
    out += `${out === '' ? '' : ','}${JSON.stringify(keys[i])}:${text}`;
  }
  return `{${out}}`;
}

/** The framed failure response `{id, error: {code, message, details?}}`; id null when the request's id could not be read. */
export function encodeError(id: RequestId | null, error: StrongroomError): Buffer {
  checkId(id);
  return frameJson({ id, error: error.toJSON() });
}

function junk(message: string): ProtocolError {
  return new ProtocolError('MALFORMED_REQUEST', message);
}

function decodeWireError(value: unknown): WireError {
  if (!isJsonObject(value)) throw junk('response error must be an object');
  for (const key of Object.keys(value)) if (key !== 'code' && key !== 'message' && key !== 'details') throw junk('response error has an unknown field');
  const code = ownField(value, 'code');
  const message = ownField(value, 'message');
  const details = ownField(value, 'details');
  if (typeof code !== 'string' || !ERROR_CODE_SHAPE.test(code)) throw junk('response error code is invalid');
  if (typeof message !== 'string') throw junk('response error message must be a string');
  if (details === undefined) return { code, message };
  if (!isJsonObject(details)) throw junk('response error details must be an object');
  return { code, message, details };
}

/**
 * Decodes one response payload (client side). Exactly one of `result` and
 * `error`; the id a valid request id or null. Any other shape is
 * MALFORMED_REQUEST (the server sent something that is not a response).
 */
export function decodeResponse(payload: Buffer, limits: JsonLimits = RESPONSE_JSON_LIMITS): DecodedResponse {
  const message = parseJsonPayload(payload, limits) as Record<string, unknown>;
  for (const key of Object.keys(message)) if (key !== 'id' && key !== 'result' && key !== 'error') throw junk('response has an unknown field');
  const rawId = ownField(message, 'id');
  const id = rawId === null ? null : readRequestId(rawId);
  if (id === null && rawId !== null) throw junk('response id is missing or invalid');
  const result = ownField(message, 'result');
  const error = ownField(message, 'error');
  if ((result === undefined) === (error === undefined)) throw junk('response must hold exactly one of result and error');
  return error !== undefined ? { id, error: decodeWireError(error) } : { id, result };
}
