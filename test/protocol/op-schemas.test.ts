/**
 * Argument schemas (docs/protocol.md §3.4, §4, §6): a valid example for
 * every operation, base64 decoding, Batch items one by one.
 */
import fc from 'fast-check';
import {
  MAX_BATCH_ITEMS, OP_SCHEMAS, OPERATION_NAMES, OperationName, validateArgs, validateBatchItem,
} from '../../protocol/op-schemas';
import { decodeBase64Strict, validateObject } from '../../protocol/schema';
import { codeOf, NO_ERROR } from '../support/error-code';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** A valid args example per operation, with every field it takes where sensible. */
const VALID_ARGS: Readonly<Record<OperationName, Record<string, unknown>>> = {
  Query: {},
  Create: {
    name: 'hr/payroll', algorithm: 'AES-256', usage: ['encrypt', 'decrypt'], description: 'payroll', owner: 'hr-team',
    attributes: { cost_center: '42' }, rollover: 'auto', cryptoperiod: 'P90D',
  },
  Register: { name: 'hr/legacy', material: b64('0123456789abcdef'), algorithm: 'SECRET' },
  Get: { name: 'hr/payroll', instance: 'abc' },
  Locate: { pattern: 'hr/*', namespace: 'hr', algorithm: 'AES-256', limit: 1000, offset: 0 },
  GetAttributes: { name: 'hr/payroll' },
  SetCustomAttributes: { instance: 'i-1', set: { team: 'hr' }, remove: ['old'] },
  ReKey: { name: 'hr/legacy', material: b64('fedcba9876543210') },
  Activate: { instance: 'abc' },
  Revoke: { name: 'hr/payroll', reason: 'keyCompromise', compromiseDate: '2024-05-01T00:00:00Z' },
  Destroy: { name: 'hr/payroll' },
  Encrypt: { name: 'crm/pii', instance: 'abc', plaintext: b64('hi'), aad: b64('ctx'), mode: 'AES-GCM', iv: b64('twelve bytes'), tagLength: 16 },
  Decrypt: { name: 'crm/pii', ciphertext: b64('ct'), aad: '', mode: 'AES-GCM', iv: b64('twelve bytes'), tag: b64('sixteen bytes!!!') },
  GenerateDataKey: { name: 'crm/pii', algorithm: 'AES-128', aad: b64('a') },
  DecryptDataKey: { name: 'crm/pii', wrapped: b64('wrapped') },
  MAC: { name: 'mac/k', data: b64('data') },
  MACVerify: { name: 'mac/k', data: b64('data'), mac: b64('mac!'), instance: 'abc' },
  RandomBytes: { length: 32 },
  Batch: { items: [{ op: 'Encrypt', args: { name: 'crm/pii', plaintext: 'aGk=' } }, { op: 'Get', args: { name: 'hr/payroll' } }] },
  ClientIssue: { name: 'billing', role: 'app', groups: ['finance'], publicKeyPem: '-----BEGIN PUBLIC KEY-----\n…', validityDays: 825 },
  ClientList: {},
  ClientRevoke: { name: 'billing' },
  PolicyGrant: { group: 'finance', pattern: 'fin/*', permissions: ['encrypt', 'decrypt'] },
  PolicyRevoke: { id: 'g-1' },
  PolicyList: { client: 'billing' },
  PolicyCheck: { client: 'billing', name: 'crm/pii' },
  SetRolloverPolicy: { name: 'pay/k', rollover: 'auto', cryptoperiod: 'P90D' },
  RolloverDue: { at: '2026-01-01T00:00:00Z', limit: 10 },
  RolloverRun: {},
  DestroyCancel: { name: 'pay/k' },
  UndoRollover: { name: 'pay/k' },
  AliasSet: { alias: 'pay/current', name: 'pay/k' },
  AliasRemove: { alias: 'pay/current' },
  AliasList: {},
  NamespaceList: {},
  NamespaceRemove: { namespace: 'lab' },
  AuditSearch: { from: '2026-01-01T00:00:00Z', to: '2026-02-01', identity: 'app1', key: 'hr/*', operation: 'Get', result: 'error', type: 'operation', fromSeq: 1, limit: 1000 },
  AuditVerify: {},
  Report: { from: '2026-01-01', to: '2026-02-01' },
  UnsealStatus: {},
  UnsealSubmit: { share: 'sr1-1-AAAA-AAAA' },
  UnsealReset: {},
  Seal: {},
  MasterKeyStatus: {},
  ClusterStatus: {},
  MasterKeyRotate: { keepOld: true },
  ApprovalList: { state: 'open', mine: true, limit: 500 },
  ApprovalGet: { id: '0b7e6c1a-1111-4222-8333-944455556666' },
  ApprovalApprove: { id: '0b7e6c1a-1111-4222-8333-944455556666', digest: 'a'.repeat(64) },
  ApprovalDeny: { id: '0b7e6c1a-1111-4222-8333-944455556666', reason: 'not during the freeze' },
  ApprovalCancel: { id: '0b7e6c1a-1111-4222-8333-944455556666' },
  ApprovalCollect: { id: '0b7e6c1a-1111-4222-8333-944455556666' },
  ApprovalQuorums: {},
  ApprovalQuorumSet: { class: 'key-destroy', required: 3 },
  Interop: { function: 'begin', identifier: 'BL-M-1-21' },
  Log: { message: 'Registered a symmetric key.' },
  BackupCreate: {},
  BackupList: {},
  BackupRead: { name: 'backup-20261207T081500Z-1a2b3c4d.srbk', offset: 0, length: 4096 },
  ClientRenew: { name: 'billing', publicKeyPem: '-----BEGIN PUBLIC KEY-----\n…', validityDays: 365 },
  ServerCertRenew: { validityDays: 397 },
  BackupRestore: { name: 'backup-20261207T081500Z-1a2b3c4d.srbk', allowOlder: true },
  BackupUpload: { name: 'keychain-2026-12-07.srbk', offset: 0, totalBytes: 3, data: 'AAEC', sha256: 'ae4b3280e56e2faf83f414a6e3dabe9d5fbe18976544c05fed121accb85b53fc' },
  Export: { name: 'hr/payroll', instance: 'abc', wrapMethod: 'AES-KWP', wrapKey: 'xfer/kek', wrapInstance: 'def' },
  Check: { instance: 'i-1', usage: ['encrypt'] },
};

const BASE64_FIELDS = new Set(['material', 'plaintext', 'ciphertext', 'aad', 'wrapped', 'data', 'mac', 'iv', 'tag']);

describe('operation schemas', () => {
  it('has a schema for every operation of §6, and nothing else', () => {
    expect(Object.keys(OP_SCHEMAS).sort()).toEqual([...OPERATION_NAMES].sort());
    expect(OPERATION_NAMES).toHaveLength(65);
  });

  it.each(OPERATION_NAMES.filter((op) => op !== 'Batch').map((op) => [op]))('%s: a valid example decodes with Buffers for base64 fields', (op) => {
    const args = VALID_ARGS[op];
    const out: Readonly<Record<string, unknown>> = validateArgs(op, args);
    expect(out).not.toBe(args);
    expect(Object.keys(out).sort()).toEqual(Object.keys(args).sort());
    for (const [field, value] of Object.entries(args)) {
      if (BASE64_FIELDS.has(field)) expect(out[field]).toEqual(Buffer.from(value as string, 'base64'));
      else expect(out[field]).toEqual(value);
    }
  });

  it.each(OPERATION_NAMES.filter((op) => op !== 'Batch').map((op) => [op]))('%s: an unknown field is INVALID_REQUEST naming the field', (op) => {
    try {
      validateArgs(op, { ...VALID_ARGS[op], colour: 'x' });
      throw new Error('accepted');
    } catch (err) {
      expect((err as { code: string }).code).toBe('INVALID_REQUEST');
      expect((err as { details: Record<string, unknown> }).details.field).toBe('args.colour');
    }
  });

  it('takes bytes for base64 fields from callers in process (KMIP): copied, and limited as their base64 text would be', () => {
    const material = Buffer.from('0123456789abcdef');
    const out = validateArgs('Register', { name: 'hr/legacy', material, algorithm: 'SECRET' });
    expect(out.material).toEqual(material);
    expect(out.material).not.toBe(material); // the validated arguments own their copy (and wipe it)
    out.material.fill(0);
    expect(material.toString()).toBe('0123456789abcdef');
    const limited = { fields: { data: { type: 'base64', maxLength: 8 } } } as const;
    expect(validateObject(limited, { data: new Uint8Array(6) }).data).toEqual(Buffer.alloc(6)); // 8 characters of base64
    expect(codeOf(() => validateObject(limited, { data: new Uint8Array(7) }))).toBe('INVALID_REQUEST'); // 12 characters
    expect(codeOf(() => validateObject(limited, { data: 'A'.repeat(12) }))).toBe('INVALID_REQUEST');
  });

  it('names the field and the expected type on a type error', () => {
    try {
      validateArgs('Locate', { limit: 'ten' });
      throw new Error('accepted');
    } catch (err) {
      expect((err as { code: string }).code).toBe('INVALID_REQUEST');
      expect((err as { details: Record<string, unknown> }).details).toEqual({ field: 'args.limit', expected: 'integer' });
    }
  });

  it('wipes base64 fields it already decoded when a later field fails', () => {
    const from = jest.spyOn(Buffer, 'from');
    try {
      expect(codeOf(() => validateArgs('MACVerify', { name: 'm/k', data: 'aGk=', mac: 'aGk=', algorithm: 'MD5' }))).toBe('INVALID_REQUEST');
      const decoded = from.mock.results.filter((_, i) => (from.mock.calls[i] as unknown[])[1] === 'base64').map((r) => r.value as Buffer);
      expect(decoded).toHaveLength(2);
      for (const buf of decoded) expect(buf.every((b) => b === 0)).toBe(true);
    } finally {
      from.mockRestore();
    }
  });

  it('needs name or instance for key references, and exactly one of client and group for a grant', () => {
    expect(codeOf(() => validateArgs('Activate', {}))).toBe('INVALID_REQUEST');
    expect(codeOf(() => validateArgs('Destroy', { instance: 'i-1' }))).toBe(NO_ERROR);
    expect(codeOf(() => validateArgs('PolicyGrant', { pattern: '*', permissions: [] }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => validateArgs('PolicyGrant', { client: 'c', pattern: '*', permissions: [] }))).toBe(NO_ERROR);
  });

  it('enforces the string limits: names 200, description 1024, pem 16384', () => {
    expect(codeOf(() => validateArgs('Get', { name: 'n'.repeat(200) }))).toBe(NO_ERROR);
    expect(codeOf(() => validateArgs('Get', { name: 'n'.repeat(201) }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => validateArgs('Create', { name: 'a/b', description: 'd'.repeat(1024) }))).toBe(NO_ERROR);
    expect(codeOf(() => validateArgs('Create', { name: 'a/b', description: 'd'.repeat(1025) }))).toBe('INVALID_REQUEST');
    const issue = { name: 'c', role: 'app' };
    expect(codeOf(() => validateArgs('ClientIssue', { ...issue, publicKeyPem: 'p'.repeat(16384) }))).toBe(NO_ERROR);
    expect(codeOf(() => validateArgs('ClientIssue', { ...issue, publicKeyPem: 'p'.repeat(16385) }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => validateArgs('ClientIssue', { ...issue, publicKeyPem: 'p', validityDays: 826 }))).toBe('INVALID_REQUEST');
  });

  it('returns attribute maps without a prototype, so "__proto__" is just a name', () => {
    const out = validateArgs('Create', JSON.parse('{"name":"a/b","attributes":{"__proto__":"x"}}'));
    const attributes = out.attributes as Record<string, string>;
    expect(Object.getPrototypeOf(attributes)).toBeNull();
    expect(Object.keys(attributes)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('Batch', () => {
  const item = { op: 'Get', args: { name: 'hr/payroll' } };

  it('Batch: the valid example decodes each item with its own schema (Buffers for base64 fields)', () => {
    expect(validateArgs('Batch', VALID_ARGS.Batch)).toEqual({
      items: [{ op: 'Encrypt', args: { name: 'crm/pii', plaintext: Buffer.from('hi') } }, { op: 'Get', args: { name: 'hr/payroll' } }],
    });
  });

  it(`accepts 1..${MAX_BATCH_ITEMS} items; a bad item is that item's error, not the batch's`, () => {
    expect(codeOf(() => validateArgs('Batch', { items: new Array(MAX_BATCH_ITEMS).fill(item) }))).toBe(NO_ERROR);
    expect(codeOf(() => validateArgs('Batch', { items: new Array(MAX_BATCH_ITEMS + 1).fill(item) }))).toBe('INVALID_REQUEST');
    // An unknown op inside passes the shape check: it is one item's error, not the batch's.
    expect(codeOf(() => validateArgs('Batch', { items: [{ op: 'Nope' }] }))).toBe(NO_ERROR);
    const [entry] = validateArgs('Batch', { items: [{ op: 'Nope' }] }).items;
    expect('error' in entry && entry.error.code).toBe('UNKNOWN_OPERATION');
  });

  it('validateBatchItem checks one item with its own schema', () => {
    expect(validateBatchItem({ op: 'Encrypt', args: { name: 'c/p', plaintext: 'aGk=' } })).toEqual({
      op: 'Encrypt', args: { name: 'c/p', plaintext: Buffer.from('hi') },
    });
    expect(validateBatchItem({ op: 'Query' })).toEqual({ op: 'Query', args: {} });
    expect(codeOf(() => validateBatchItem({ op: 'Batch', args: { items: [item] } }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => validateBatchItem({ op: 'Nope', args: {} }))).toBe('UNKNOWN_OPERATION');
    expect(codeOf(() => validateBatchItem({ op: 'Get', args: { name: 'a/b' }, id: 1 }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => validateBatchItem({ op: 'Get', args: {} }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => validateBatchItem(['Get']))).toBe('INVALID_REQUEST');
  });
});

describe('decodeBase64Strict', () => {
  it.each([
    ['', []], ['AA==', [0]], ['AAA=', [0, 0]], ['AAAA', [0, 0, 0]], ['+/+/', [0xfb, 0xff, 0xbf]],
  ])('decodes %j', (text, expected) => {
    expect(decodeBase64Strict(text)).toEqual(Buffer.from(expected));
  });

  it.each(['A', 'AA', 'AAA', 'A===', 'AA=A', 'AB==', 'AAB=', '-_-_', ' AA=', 'AA==\n', 'AA==AA==', 'A\u00e9AA'])('refuses %j', (text) => {
    expect(decodeBase64Strict(text)).toBeNull();
  });

  it('property: any bytes round-trip through canonical base64', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      expect(decodeBase64Strict(Buffer.from(bytes).toString('base64'))).toEqual(Buffer.from(bytes));
    }));
  });

  it('property: whatever it accepts is canonical (re-encodes to the same text)', () => {
    const alphabet = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n'.split(''));
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 16 }).map((chars) => chars.join('')), (text) => {
      const out = decodeBase64Strict(text);
      if (out !== null) expect(out.toString('base64')).toBe(text);
    }), { numRuns: 2000 });
  });
});

describe('operations that cannot run inside a Batch', () => {
  it.each([['UnsealSubmit'], ['MasterKeyRotate'], ['MasterKeyStatus'], ['ClusterStatus']])('%s is refused as a batch item before it runs (INVALID_REQUEST)', (op) => {
    expect(codeOf(() => validateBatchItem({ op, args: {} }))).toBe('INVALID_REQUEST');
  });
});
