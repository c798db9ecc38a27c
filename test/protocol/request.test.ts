/**
 * Request decoding (docs/protocol.md §3.1): the envelope, meta, id forms,
 * and a property round trip from generated valid requests.
 */
import fc from 'fast-check';
import { DEFAULT_JSON_LIMITS, MAX_JSON_DEPTH, MAX_JSON_ELEMENTS, parseJsonPayload } from '../../protocol/json-limits';
import { MAX_BATCH_ITEMS, OPERATION_NAMES } from '../../protocol/op-schemas';
import { decodeRequest, readRequestId, RequestError } from '../../protocol/request';
import { codeOf } from '../support/error-code';

const decode = (message: unknown) => decodeRequest(Buffer.from(JSON.stringify(message)), DEFAULT_JSON_LIMITS);

describe('decodeRequest', () => {
  it('decodes the §3.1 example', () => {
    const got = decode({
      id: 'r-17', op: 'Get', args: { name: 'hr/payroll' },
      meta: { endUser: 'alice@example.com', purpose: 'payroll run', custom: { ticket: 'CHG-1' } },
    });
    expect(got).toEqual({
      id: 'r-17', op: 'Get', args: { name: 'hr/payroll' },
      meta: { endUser: 'alice@example.com', purpose: 'payroll run', custom: { ticket: 'CHG-1' } },
    });
  });

  it('decodes the §4 Batch example with each item typed by its own schema', () => {
    const got = decode({ id: 9, op: 'Batch', args: { items: [
      { op: 'Encrypt', args: { name: 'crm/pii', plaintext: 'aGk=' } }, { op: 'Get', args: { name: 'hr/payroll' } }] } });
    expect(got.id).toBe(9);
    expect(got.op === 'Batch' && got.args.items).toEqual([
      { op: 'Encrypt', args: { name: 'crm/pii', plaintext: Buffer.from('hi') } }, { op: 'Get', args: { name: 'hr/payroll' } }]);
  });

  it('defaults args to {} and meta to {}', () => {
    expect(decode({ id: 0, op: 'Query' })).toEqual({ id: 0, op: 'Query', args: {}, meta: {} });
  });

  it('decodes base64 fields to Buffers', () => {
    const got = decode({ id: 1, op: 'MACVerify', args: { name: 'm/k', data: 'ZGF0YQ==', mac: 'AAEC' } });
    expect(got.op).toBe('MACVerify');
    if (got.op !== 'MACVerify') return;
    expect(got.args.data).toEqual(Buffer.from('data'));
    expect(got.args.mac).toEqual(Buffer.from([0, 1, 2]));
  });

  it('knows every operation of §6 (none is UNKNOWN_OPERATION)', () => {
    for (const op of OPERATION_NAMES) {
      expect(codeOf(() => decode({ id: 1, op, args: { bogus: 1 } }))).toBe('INVALID_REQUEST');
    }
  });

  it('throws RequestError (a ProtocolError) carrying the id when it was readable', () => {
    try {
      decode({ id: 'r-5', op: 'Get', args: { name: 5 } });
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(RequestError);
      expect((err as RequestError).code).toBe('INVALID_REQUEST');
      expect((err as RequestError).requestId).toBe('r-5');
    }
  });

  it('keeps a "__proto__" custom name as a plain entry of a prototype-less map', () => {
    const got = decodeRequest(Buffer.from('{"id":1,"op":"Query","meta":{"custom":{"__proto__":"x"}}}'), DEFAULT_JSON_LIMITS);
    expect(Object.getPrototypeOf(got.meta.custom)).toBeNull();
    expect(Object.keys(got.meta.custom!)).toEqual(['__proto__']);
  });

  it('accepts meta at its limits: 256-character texts, 16 custom entries', () => {
    const custom = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k.${i}`, 'v'.repeat(256)]));
    const meta = { endUser: 'e'.repeat(256), purpose: 'p'.repeat(256), custom };
    expect(decode({ id: 1, op: 'Query', meta }).meta).toEqual(meta);
  });

  it('reads ids per §3.1', () => {
    expect(readRequestId('a'.repeat(64))).toBe('a'.repeat(64));
    expect(readRequestId(' ~')).toBe(' ~');
    expect(readRequestId(2 ** 53 - 1)).toBe(2 ** 53 - 1);
    expect(Object.is(readRequestId(-0), 0)).toBe(true);
    for (const bad of ['', 'a'.repeat(65), 'tab\t', 2 ** 53, -1, 0.5, NaN, Infinity, null, true, {}, []]) {
      expect(readRequestId(bad)).toBeNull();
    }
  });

  it('checks the JSON limits it is given, and refuses nonsense limits', () => {
    const deep = Buffer.from(`{"a":${'['.repeat(4)}${']'.repeat(4)}}`);
    expect(codeOf(() => parseJsonPayload(deep, { maxDepth: 5, maxElements: 100 }))).toBe('NO_ERROR');
    expect(codeOf(() => parseJsonPayload(deep, { maxDepth: 4, maxElements: 100 }))).toBe('MALFORMED_REQUEST');
    expect(codeOf(() => parseJsonPayload(deep, { maxDepth: 5, maxElements: 4 }))).toBe('MALFORMED_REQUEST');
    expect(() => parseJsonPayload(deep, { maxDepth: 0, maxElements: 1 })).toThrow(RangeError);
    expect(DEFAULT_JSON_LIMITS).toEqual({ maxDepth: MAX_JSON_DEPTH, maxElements: MAX_JSON_ELEMENTS });
  });
});

describe('property: a generated valid request decodes to an equal structure', () => {
  const text = (max: number) => fc.string({ minLength: 1, maxLength: max });
  const bytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));
  const id = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{1,64}$/), fc.maxSafeNat());
  const attrName = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
  const meta = fc.record(
    { endUser: fc.string({ maxLength: 256 }), purpose: fc.string({ maxLength: 256 }), custom: fc.dictionary(attrName, fc.string({ maxLength: 256 }), { maxKeys: 16 }) },
    { requiredKeys: [] },
  );
  /**
   * Batch items: valid ones decode to their typed form, an unknown op to that
   * item's error. [wire item with Buffers, the entry the decoder should return].
   */
  const batchItem = fc.oneof(
    fc.record({ name: text(200), instance: text(200) }, { requiredKeys: ['name'] }).map((args) => [{ op: 'Get', args }, { op: 'Get', args }] as const),
    fc.record({ name: text(200), plaintext: bytes }).map((args) => [{ op: 'Encrypt', args }, { op: 'Encrypt', args }] as const),
    fc.dictionary(attrName, fc.string()).map((args) => [{ op: 'Nope', args }, { error: expect.objectContaining({ code: 'UNKNOWN_OPERATION' }) as unknown }] as const),
  );
  /** [op, args as sent (Buffers), args as the decoder should return them]; the wire form swaps Buffers for base64. */
  const same = <T>(op: string, args: T) => [op, args, args] as const;
  const opAndArgs = fc.oneof(
    fc.record({ name: text(200), plaintext: bytes, aad: bytes }, { requiredKeys: ['name', 'plaintext'] }).map((a) => same('Encrypt', a)),
    fc.record({ name: text(200), data: bytes, mac: bytes, instance: text(200) }, { requiredKeys: ['name', 'data', 'mac'] }).map((a) => same('MACVerify', a)),
    fc.record({
      name: text(200), algorithm: text(64), usage: fc.array(text(64), { maxLength: 32 }), description: fc.string({ maxLength: 1024 }),
      attributes: fc.dictionary(attrName, fc.string({ maxLength: 1024 }), { maxKeys: 32 }), rollover: fc.constantFrom('auto', 'manual', 'none'),
    }, { requiredKeys: ['name'] }).map((a) => same('Create', a)),
    fc.record({ pattern: text(200), limit: fc.integer({ min: 1, max: 1000 }), offset: fc.nat() }, { requiredKeys: [] }).map((a) => same('Locate', a)),
    fc.record({ name: text(200), reason: fc.constantFrom('unspecified', 'keyCompromise', 'superseded') }).map((a) => same('Revoke', a)),
    fc.record({ client: text(200), pattern: text(200), permissions: fc.array(text(64)) }).map((a) => same('PolicyGrant', a)),
    fc.array(batchItem, { minLength: 1, maxLength: MAX_BATCH_ITEMS })
      .map((items) => ['Batch', { items: items.map(([sent]) => sent) }, { items: items.map(([, decoded]) => decoded) }] as const),
  );

  const toWire = (value: unknown): unknown =>
    Buffer.isBuffer(value) ? value.toString('base64')
      : Array.isArray(value) ? value.map(toWire)
        : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)])) : value;

  it('round-trips', () => {
    fc.assert(fc.property(id, opAndArgs, fc.option(meta, { nil: undefined }), (rid, [op, args, decoded], m) => {
      const message = m === undefined ? { id: rid, op, args: toWire(args) } : { id: rid, op, args: toWire(args), meta: m };
      const got = decode(message);
      expect(got).toEqual({ id: rid, op, args: decoded, meta: m ?? {} });
    }), { numRuns: 300 });
  });
});
