/**
 * The kept JSON text of deeply frozen values (protocol/frozen-json.ts) and
 * encodeResult's field-by-field path over it: the bytes on the wire are the
 * ones JSON.stringify of the same result wrote before, and anything that is
 * not frozen plain data all the way down is encoded as before.
 */
import fc from 'fast-check';
import { deepFreeze } from '../../common/deep-freeze';
import { FrameDecoder } from '../../protocol/frame-codec';
import { frozenJson, isKeptJsonData } from '../../protocol/frozen-json';
import { binaryToBase64, encodeResult } from '../../protocol/response';

/** The frame's JSON text, as the client reads it. */
function payload(frame: Buffer): string {
  const [one] = new FrameDecoder().push(frame);
  return one.toString('utf8');
}

/** What encodeResult wrote before frozen views were kept: one JSON.stringify of the whole message. */
function stringified(id: string | number, result: unknown): string {
  return JSON.stringify({ id, result: binaryToBase64(result ?? {}, 1) });
}

describe('frozenJson', () => {
  it('keeps the text of a deeply frozen view and answers the same text after', () => {
    const view = deepFreeze({ name: 'i-1', state: 'Active', usage: ['encrypt'], custom: { a: '1' }, at: null, n: 3, ok: true });
    expect(frozenJson(view)).toBe(JSON.stringify(view));
    expect(frozenJson(view)).toBe(JSON.stringify(view));
  });

  it('answers null for what is not frozen plain data all the way down', () => {
    expect(frozenJson({ a: 1 })).toBeNull(); // not frozen
    expect(frozenJson(Object.freeze({ inner: { a: 1 } }))).toBeNull(); // a level not frozen
    expect(frozenJson(deepFreeze({ material: Buffer.from('key') }))).toBeNull(); // bytes that can change (and must become base64)
    expect(frozenJson(deepFreeze({ at: new Date(0) }))).toBeNull(); // toJSON
    expect(frozenJson(Object.freeze(Object.defineProperty({}, 'x', { get: () => Math.random(), enumerable: true })))).toBeNull(); // an accessor
    expect(frozenJson(Object.freeze(new (class View { readonly a = 1 })()))).toBeNull(); // not a plain object
    expect(frozenJson('text')).toBeNull();
  });
});

describe('isKeptJsonData', () => {
  it('holds for a view once its text is kept, and never for a frozen value holding bytes', () => {
    const view = deepFreeze({ name: 'i-1' });
    expect(isKeptJsonData(view)).toBe(false); // not encoded yet: not known
    frozenJson(view);
    expect(isKeptJsonData(view)).toBe(true);
    const withBytes = deepFreeze({ material: Buffer.from('key') });
    frozenJson(withBytes);
    encodeResult(1, { withBytes });
    expect(isKeptJsonData(withBytes)).toBe(false);
  });
});

describe('encodeResult with frozen views', () => {
  it('writes the bytes one JSON.stringify of the whole result wrote (a Get: views, material, undefined left out)', () => {
    const key = deepFreeze({ id: 'k1', fullName: 'app/data', usage: ['encrypt', 'decrypt'], customAttributes: { '2': 'two', __proto__x: 'y', é: 'ü' }, nextRolloverAt: null });
    const instance = deepFreeze({ name: 'i-1', version: 1, state: 'Active', current: true, fresh: false });
    const result = { key, instance, material: Buffer.from('0123456789abcdef0123456789abcdef'), note: undefined, f: () => 1, at: new Date(0) };
    expect(payload(encodeResult('r-1', result))).toBe(stringified('r-1', result));
    expect(payload(encodeResult(7, result))).toBe(stringified(7, result)); // kept text reused
  });

  it('matches JSON.stringify for any result of frozen and unfrozen fields', () => {
    const json = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double());
    const view = fc.dictionary(fc.string(), fc.oneof(json, fc.array(json), fc.dictionary(fc.string(), json)));
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.tuple(fc.boolean(), view)), fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.nat()), (fields, id) => {
        const result: Record<string, unknown> = {};
        for (const [name, [frozen, value]] of Object.entries(fields)) result[name] = frozen ? deepFreeze(value) : value;
        expect(payload(encodeResult(id, result))).toBe(stringified(id, result));
      }),
      { numRuns: 300 },
    );
  });
});
