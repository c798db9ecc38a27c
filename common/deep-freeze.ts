/**
 * Deep freezing of plain data shared between requests (the keychain's
 * cached views): a value that every request hitting a cache entry receives
 * must not be changed by one of them, and a frozen value lets the wire
 * encoder keep its JSON text (protocol/frozen-json.ts).
 */

/** Levels frozen at most (views are a few levels deep). */
const MAX_DEPTH = 16;

/** Freezes `value` and every object and array in it (typed arrays and Buffers are left as they are: they cannot be frozen). Returns `value`. */
export function deepFreeze<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH || ArrayBuffer.isView(value)) return value;
  for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child, depth + 1);
  return Object.freeze(value);
}
