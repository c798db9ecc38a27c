/**
 * Responses (docs/protocol.md §3.2, §3.4): Buffers become base64, the error
 * shape, the id echo, and the client's decodeResponse.
 */
import fc from 'fast-check';
import { StrongroomError } from '../../common/errors';
import { FrameDecoder } from '../../protocol/frame-codec';
import { ProtocolError } from '../../protocol/protocol-error';
import { decodeResponse, encodeError, encodeResult, RESPONSE_JSON_LIMITS } from '../../protocol/response';
import { codeOf } from '../support/error-code';

/** The one payload in a frame, parsed. */
function unframe(frame: Buffer): Record<string, unknown> {
  const payloads = new FrameDecoder().push(frame);
  expect(payloads).toHaveLength(1);
  return JSON.parse(payloads[0].toString('utf8')) as Record<string, unknown>;
}

describe('encodeResult', () => {
  it('frames {id, result} and turns Buffers anywhere into base64', () => {
    const mac = Buffer.from([1, 2, 3]);
    const result = { mac, nested: { list: [Buffer.from('hi'), 'text', 5, null, true] }, bytes: new Uint8Array([255]), instance: 'i-1' };
    expect(unframe(encodeResult('r-17', result))).toEqual({
      id: 'r-17', result: { mac: 'AQID', nested: { list: ['aGk=', 'text', 5, null, true] }, bytes: '/w==', instance: 'i-1' },
    });
  });

  it('leaves the caller\'s Buffers untouched (the caller zeroes them after)', () => {
    const material = Buffer.from('secret-key-bytes');
    encodeResult(1, { material });
    expect(material.toString()).toBe('secret-key-bytes');
  });

  it('encodes a Buffer view on a larger pool by its own bytes only', () => {
    const pool = Buffer.from('xxABCDyy');
    expect(unframe(encodeResult(1, { v: pool.subarray(2, 6) }))).toEqual({ id: 1, result: { v: Buffer.from('ABCD').toString('base64') } });
  });

  it('keeps Dates in their JSON form and leaves out undefined fields', () => {
    expect(unframe(encodeResult(2, { at: new Date(0), gone: undefined }))).toEqual({ id: 2, result: { at: '1970-01-01T00:00:00.000Z' } });
  });

  it('echoes integer and string ids, and refuses an id that is not a request id', () => {
    expect(unframe(encodeResult(2 ** 53 - 1, {})).id).toBe(2 ** 53 - 1);
    expect(unframe(encodeResult(' ~', {})).id).toBe(' ~');
    expect(codeOf(() => encodeResult(-1, {}))).toBe('INTERNAL_ERROR');
    expect(codeOf(() => encodeResult('a'.repeat(65), {}))).toBe('INTERNAL_ERROR');
  });

  it('keeps a "__proto__" result key as data', () => {
    const result = JSON.parse('{"customAttributes":{"__proto__":"x"}}') as unknown;
    expect(JSON.stringify(unframe(encodeResult(1, result)))).toBe('{"id":1,"result":{"customAttributes":{"__proto__":"x"}}}');
  });
});

describe('encodeError', () => {
  it('matches §3.2: {id, error: {code, message}} without empty details', () => {
    const got = unframe(encodeError('r-17', new StrongroomError('KEY_NOT_FOUND', 'no key named "hr/payroll"')));
    expect(got).toEqual({ id: 'r-17', error: { code: 'KEY_NOT_FOUND', message: expect.any(String) } });
    expect(Object.keys(got.error as object)).toEqual(['code', 'message']);
  });

  it('carries details when present', () => {
    const got = unframe(encodeError(4, new StrongroomError('RATE_LIMITED', 'slow down', { details: { retryAfterMs: 250 } })));
    expect(got).toEqual({ id: 4, error: { code: 'RATE_LIMITED', message: expect.any(String), details: { retryAfterMs: 250 } } });
  });

  it('sends id null when the request id could not be read', () => {
    const got = unframe(encodeError(null, new ProtocolError('MALFORMED_REQUEST', 'bad')));
    expect(got.id).toBeNull();
    expect((got.error as { code: string }).code).toBe('MALFORMED_REQUEST');
  });
});

describe('decodeResponse', () => {
  const payloadOf = (frame: Buffer): Buffer => new FrameDecoder().push(frame)[0];

  it('round-trips a result (binary values arrive as base64 text)', () => {
    expect(decodeResponse(payloadOf(encodeResult('r-1', { plaintext: Buffer.from('hi'), instance: 'i' })), RESPONSE_JSON_LIMITS))
      .toEqual({ id: 'r-1', result: { plaintext: 'aGk=', instance: 'i' } });
  });

  it('round-trips an error, with and without details, and a null id', () => {
    const err = new StrongroomError('RATE_LIMITED', 'slow down', { details: { retryAfterMs: 9 } });
    expect(decodeResponse(payloadOf(encodeError(7, err)))).toEqual({ id: 7, error: { code: 'RATE_LIMITED', message: 'slow down', details: { retryAfterMs: 9 } } });
    expect(decodeResponse(payloadOf(encodeError(null, new ProtocolError('FRAME_EMPTY', 'empty')))))
      .toEqual({ id: null, error: { code: 'FRAME_EMPTY', message: 'empty' } });
  });

  it('accepts a Locate page larger than the request element limit', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => ({ id: `k${i}`, fullName: `ns/k${i}`, usage: ['encrypt', 'decrypt'], currentVersion: 1, updatedAt: 'x' }));
    expect(codeOf(() => decodeResponse(payloadOf(encodeResult(1, { keys }))))).toBe('NO_ERROR');
  });

  it.each([
    ['r01_not_json', 'nope'],
    ['r02_top_level_array', '[]'],
    ['r03_both_result_and_error', '{"id":1,"result":{},"error":{"code":"X","message":""}}'],
    ['r04_neither_result_nor_error', '{"id":1}'],
    ['r05_missing_id', '{"result":{}}'],
    ['r06_bad_id', '{"id":-3,"result":{}}'],
    ['r07_unknown_field', '{"id":1,"result":{},"extra":1}'],
    ['r08_error_not_object', '{"id":1,"error":"KEY_NOT_FOUND"}'],
    ['r09_error_code_lowercase', '{"id":1,"error":{"code":"oops","message":""}}'],
    ['r10_error_message_missing', '{"id":1,"error":{"code":"KEY_NOT_FOUND"}}'],
    ['r11_error_details_array', '{"id":1,"error":{"code":"KEY_NOT_FOUND","message":"","details":[]}}'],
    ['r12_error_unknown_field', '{"id":1,"error":{"code":"KEY_NOT_FOUND","message":"","stack":"…"}}'],
  ])('%s is MALFORMED_REQUEST', (_name, text) => {
    expect(codeOf(() => decodeResponse(Buffer.from(text)))).toBe('MALFORMED_REQUEST');
  });

  it('property: any JSON result tree (with Buffers) round-trips through encodeResult/decodeResponse', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 })),
    })).node;
    const toWire = (v: unknown): unknown =>
      Buffer.isBuffer(v) ? v.toString('base64')
        : Array.isArray(v) ? v.map(toWire)
          : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x)])) : v;
    const id = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{1,64}$/), fc.maxSafeNat());
    fc.assert(fc.property(id, fc.dictionary(fc.string(), tree, { maxKeys: 5 }), (rid, result) => {
      expect(decodeResponse(payloadOf(encodeResult(rid, result)))).toEqual({ id: rid, result: toWire(result) });
    }), { numRuns: 300 });
  });
});
