/**
 * The JSON text of a deeply frozen plain value, written once and then
 * reused for as long as the value lives. A frozen value cannot change, so its
 * text cannot either: nothing is ever invalidated here, a new state is a new
 * object (the keychain's cached views are frozen and replaced whenever their
 * rows change: domain/keys/key-rows.ts). Encoding the same 1 KB key and
 * instance views again for every Get was a tenth of the server's time.
 *
 * Only plain objects and arrays whose every level is frozen qualify, holding
 * only strings, finite-or-not numbers, booleans and null: no Buffers (their
 * bytes can change under a freeze and they must become base64), no Dates or
 * toJSON, no accessors. Anything else answers null and is encoded as before.
 *
 * Module state: a WeakMap of immutable values to their text; it cannot make
 * any output differ from JSON.stringify's and holds nothing alive.
 */

const texts = new WeakMap<object, string>();
/** Frozen values found not to qualify (a Buffer inside, a Date): not walked again. */
const refused = new WeakSet<object>();

/** Nesting walked at most when checking a value (views are a few levels deep). */
const MAX_DEPTH = 16;

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null || Array.isArray(value);
}

/** Whether every level of `value` is a frozen plain object or array of JSON scalars, read through data properties only. */
function deeplyFrozenData(value: unknown, depth: number): boolean {
  if (value === null) return true;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return true;
  if (type !== 'object' || depth > MAX_DEPTH) return false;
  const object = value as object;
  if (!Object.isFrozen(object) || !isPlain(object)) return false;
  for (const key of Reflect.ownKeys(object)) {
    if (typeof key === 'symbol') return false;
    const descriptor = Object.getOwnPropertyDescriptor(object, key)!;
    if (!('value' in descriptor)) return false; // an accessor may answer differently each time
    if (!descriptor.enumerable) continue;
    if (!deeplyFrozenData(descriptor.value, depth + 1)) return false;
  }
  return true;
}

/**
 * JSON.stringify(value) when `value` is a deeply frozen plain object or
 * array (kept, so the next call is a lookup); null for anything else.
 */
export function frozenJson(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || !Object.isFrozen(value)) return null;
  const known = texts.get(value);
  if (known !== undefined) return known;
  if (refused.has(value)) return null;
  if (!deeplyFrozenData(value, 0)) {
    refused.add(value);
    return null;
  }
  const text = JSON.stringify(value);
  texts.set(value, text);
  return text;
}

/**
 * Whether `value` is known to be JSON data only (its text is kept above), so
 * holds no Buffer anywhere: what zeroes a result's Buffers need not walk it.
 * False for anything not yet encoded, whatever it holds.
 */
export function isKeptJsonData(value: unknown): boolean {
  return typeof value === 'object' && value !== null && texts.has(value);
}
