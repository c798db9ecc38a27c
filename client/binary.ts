/**
 * Binary values between the API (Buffers) and the wire (base64, docs/
 * protocol.md §3.4). Pure.
 */
import { StrongroomClientError } from './client-error';

/** Deepest argument tree converted: arguments are flat, a Batch adds two levels; deeper is a caller bug (or a cycle). */
export const MAX_ARGS_DEPTH = 8;

/** A copy of `value` with every Buffer/Uint8Array replaced by base64 text (before JSON.stringify turns it into a number array). */
export function binaryToBase64(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_ARGS_DEPTH) throw new StrongroomClientError('INVALID_ARGUMENT', 'arguments are nested too deep', { details: { field: 'args' } });
  if (Array.isArray(value)) return value.map((item) => binaryToBase64(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = binaryToBase64((value as Record<string, unknown>)[key], depth + 1);
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes a base64 field of a result; MALFORMED_RESPONSE when the server sent something else. */
export function base64Field(result: unknown, field: string): Buffer {
  const value = (result as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || !BASE64.test(value)) {
    throw new StrongroomClientError('MALFORMED_RESPONSE', `the server's result has no valid base64 field ${field}`, { details: { field } });
  }
  return Buffer.from(value, 'base64');
}

/** Reads a string field of a result; MALFORMED_RESPONSE otherwise. */
export function stringField(result: unknown, field: string): string {
  const value = (result as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string') throw new StrongroomClientError('MALFORMED_RESPONSE', `the server's result has no string field ${field}`, { details: { field } });
  return value;
}
