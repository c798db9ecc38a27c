/**
 * canonicalEvent writes each event's canonical JSON out field by field (the
 * hot path); the text must be exactly the one its definition gives
 * (canonicalObject: the object in field order, stringified), or every hash
 * of the chain would change. Checked over events that vary every field's
 * shape: nulls, escapes, non-ASCII, integer-like custom keys, the optional
 * `requested` and `transport`, and a missing field (the fallback).
 */
import { AuditEvent, canonicalEvent, canonicalObject } from '../../protocol/audit-event';

const base: AuditEvent = {
  time: '2026-12-07T05:00:00.000Z',
  eventId: 'e-1',
  type: 'operation',
  identity: { name: 'app|1', role: 'app', fingerprint256: 'AB:CD', subject: 'CN=app|1,O="Acme, Inc."' },
  endUser: 'alice',
  purpose: null,
  source: '127.0.0.1',
  operation: 'Get',
  key: 'hr/payroll',
  instance: 'i-7',
  result: 'ok',
  requestId: 17,
  custom: {},
};

const variants: Array<[string, Partial<AuditEvent>]> = [
  ['as is', {}],
  ['every nullable field null', { identity: null, endUser: null, purpose: null, source: null, operation: null, key: null, instance: null, requestId: null }],
  ['a string request id', { requestId: 'r-"17"' }],
  ['escapes and non-ASCII', { endUser: 'bob\n\t"\\\u0001', purpose: 'paie – été 🔑', key: 'ns/\u2028x' }],
  ['custom fields, sorted', { custom: { zeta: '1', alpha: '2', Beta: '3' } }],
  ['integer-like custom keys', { custom: { b: 'x', '10': 'y', '2': 'z', '01': 'w' } }],
  ['requested', { requested: { name: 'hr/alias', instance: null } }],
  ['requested null', { requested: null }],
  ['transport', { transport: 'kmip', requested: { name: null, instance: 'i-7' } }],
  ['a field missing (fallback)', { endUser: undefined as unknown as string }],
  ['an identity field missing (fallback)', { identity: { name: 'x', role: 'app', fingerprint256: 'f', subject: undefined as unknown as string } }],
];

describe('canonicalEvent', () => {
  it.each(variants)('writes exactly the canonical object\'s JSON: %s', (_name, over) => {
    const event = { ...base, ...over } as AuditEvent;
    expect(canonicalEvent(event)).toBe(canonicalObject(event));
  });

  it('keeps the field order the chain has always hashed', () => {
    expect(canonicalEvent({ ...base, requested: { name: 'hr/payroll', instance: null }, transport: 'kmip' })).toBe(
      '{"time":"2026-12-07T05:00:00.000Z","eventId":"e-1","type":"operation","identity":{"name":"app|1","role":"app","fingerprint256":"AB:CD","subject":"CN=app|1,O=\\"Acme, Inc.\\""},"endUser":"alice","purpose":null,"source":"127.0.0.1","operation":"Get","key":"hr/payroll","instance":"i-7","result":"ok","requestId":17,"custom":{},"requested":{"name":"hr/payroll","instance":null},"transport":"kmip"}',
    );
  });
});
