/**
 * Audit search (domain/audit/audit-search.ts) on the real SQLite store and
 * the in-memory one: each filter narrows to exactly the events it should,
 * the cursor pages without loss or repeats, and the limit and the scan
 * budget bound one call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditEvent, canonicalEvent } from '../../domain/audit/audit-event';
import { nextRecord } from '../../domain/audit/audit-chain';
import { canonicalEventTimeMs, mayMatchTime, parseAuditFilter, AuditFilterInput } from '../../domain/audit/audit-filter';
import { MAX_SEARCH_LIMIT, searchAudit } from '../../domain/audit/audit-search';
import { AuditRecord, AuditStore } from '../../storage/audit-store';
import { KeychainStore } from '../../storage/keychain-store';
import { MemoryStore } from '../../storage/memory-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { codeOf } from '../support/error-code';

const APP_FP = 'AB:CD:EF:01';

function ev(n: number, over: Partial<AuditEvent>): AuditEvent {
  return {
    time: `2026-11-${String(1 + (n % 28)).padStart(2, '0')}T10:00:00.000Z`,
    eventId: `e-${n}`,
    type: 'operation',
    identity: { name: 'payroll-app', role: 'app', fingerprint256: APP_FP, subject: 'CN=payroll-app' },
    endUser: null,
    purpose: null,
    source: '127.0.0.1',
    operation: 'Get',
    key: 'hr/payroll',
    instance: null,
    result: 'ok',
    requestId: n,
    custom: {},
    ...over,
  };
}

/** The scenario: seq → event, with the figures each filter must find. */
const SCENARIO: Array<Partial<AuditEvent>> = [
  { time: '2026-11-01T09:00:00.000Z' }, // 1
  { time: '2026-11-02T09:00:00.000Z', key: 'hr/bonus', operation: 'Encrypt' }, // 2
  { time: '2026-11-03T09:00:00.000Z', key: 'crm/pii', result: 'PERMISSION_DENIED' }, // 3
  { time: '2026-11-04T09:00:00.000Z', identity: { name: 'admin', role: 'officer', fingerprint256: '99:88', subject: 'CN=admin' }, operation: 'ReKey' }, // 4
  { time: '2026-11-05T09:00:00.000Z', type: 'auth-failure', identity: null, operation: null, key: null, result: 'TLS: CERT_REVOKED' }, // 5
  { time: '2026-11-06T09:00:00.000Z', type: 'approval-requested', operation: 'Destroy', result: 'requested', custom: { requestId: 'r1' } }, // 6
  { time: '2026-11-07T09:00:00.000Z', key: 'payroll', result: 'KEY_NOT_FOUND' }, // 7: default/payroll
  { time: '2026-11-08T09:00:00.000Z', type: 'rollover', identity: null, operation: null }, // 8
];

function fill(audit: AuditStore): void {
  let head: { seq: number; hash: Buffer } | null = null;
  const records: AuditRecord[] = [];
  SCENARIO.forEach((over, i) => {
    const record = nextRecord(head, canonicalEvent(ev(i + 1, over)));
    records.push(record);
    head = record;
  });
  audit.appendAuditRecords(records);
}

const stores: Array<[string, () => { store: KeychainStore; cleanup(): void }]> = [
  ['memory', () => ({ store: new MemoryStore(), cleanup: () => undefined })],
  [
    'SQLite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'strongroom-search-'));
      const store = openSqliteStore(join(dir, 'keychain.db'));
      return { store, cleanup: () => (store.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  ],
];

describe.each(stores)('audit search on %s', (_name, make) => {
  let store: KeychainStore;
  let cleanup: () => void;
  beforeEach(() => {
    ({ store, cleanup } = make());
    fill(store.audit);
  });
  afterEach(() => cleanup());

  const seqs = (input: AuditFilterInput, options = {}): number[] => searchAudit(store.audit, parseAuditFilter(input), options).records.map((r) => r.seq);

  it.each<[string, AuditFilterInput, number[]]>([
    ['no filter', {}, [1, 2, 3, 4, 5, 6, 7, 8]],
    ['from (inclusive)', { from: '2026-11-04T09:00:00Z' }, [4, 5, 6, 7, 8]],
    ['to (exclusive)', { to: '2026-11-04T09:00:00Z' }, [1, 2, 3]],
    ['from and to, dates only', { from: '2026-11-02', to: '2026-11-04' }, [2, 3]],
    ['a date-time without a zone is UTC', { from: '2026-11-03T09:00:00', to: '2026-11-03T09:00:00.001' }, [3]],
    ['a date-time with an offset', { from: '2026-11-03T10:00:00+01:00', to: '2026-11-03T11:00+01:00' }, [3]],
    ['identity by name', { identity: 'admin' }, [4]],
    ['identity by fingerprint, any case, no colons', { identity: 'abcdef01' }, [1, 2, 3, 6, 7]],
    ['key by exact name', { key: 'hr/payroll' }, [1, 4, 6, 8]],
    ['key by glob', { key: 'hr/*' }, [1, 2, 4, 6, 8]],
    ['key without namespace is default/', { key: 'payroll' }, [7]],
    ['operation', { operation: 'Encrypt' }, [2]],
    ['result ok', { result: 'ok' }, [1, 2, 4, 8]],
    ['result error: anything but ok', { result: 'error', type: 'operation' }, [3, 7]],
    ['result by code', { result: 'PERMISSION_DENIED' }, [3]],
    ['type exact', { type: 'auth-failure' }, [5]],
    ['type glob', { type: 'approval*' }, [6]],
    ['filters combine (and)', { key: 'hr/*', operation: 'Get', result: 'ok', identity: 'payroll-app' }, [1]],
  ])('%s', (_label, input, expected) => {
    expect(seqs(input)).toEqual(expected);
  });

  it('pages with the cursor: every match once, in order, and nextSeq null at the end', () => {
    const filter = parseAuditFilter({ key: 'hr/*' });
    const seen: number[] = [];
    let fromSeq: number | undefined;
    for (let page = 0; page < 10; page++) {
      const found = searchAudit(store.audit, filter, { fromSeq, limit: 2 });
      seen.push(...found.records.map((r) => r.seq));
      if (found.nextSeq === null) break;
      fromSeq = found.nextSeq;
    }
    expect(seen).toEqual([1, 2, 4, 6, 8]);
  });

  it('stops at the scan budget with a cursor to continue, even with no match yet', () => {
    const first = searchAudit(store.audit, parseAuditFilter({ operation: 'ReKey' }), { scanLimit: 3 });
    expect(first).toMatchObject({ records: [], nextSeq: 4, scanned: 3 });
    const second = searchAudit(store.audit, parseAuditFilter({ operation: 'ReKey' }), { fromSeq: first.nextSeq as number, scanLimit: 3 });
    expect(second.records.map((r) => r.seq)).toEqual([4]);
  });

  it('caps the limit at MAX_SEARCH_LIMIT and returns the stored hashes', () => {
    const found = searchAudit(store.audit, parseAuditFilter({}), { limit: MAX_SEARCH_LIMIT * 10 });
    expect(found.records).toHaveLength(8);
    expect(found.records[2].hash.equals(store.audit.readAuditRecords(3, 1)[0].hash)).toBe(true);
  });

  it('refuses malformed times and an empty period with INVALID_ARGUMENT', () => {
    expect(codeOf(() => parseAuditFilter({ from: 'yesterday' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseAuditFilter({ to: '1' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseAuditFilter({ to: '2026-13-45' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseAuditFilter({ from: '2026-11-05', to: '2026-11-05' }))).toBe('INVALID_ARGUMENT');
  });
});

describe('audit search limits', () => {
  it('holds the search to MAX_SEARCH_LIMIT matches per call on a longer trail', () => {
    const store = new MemoryStore();
    let head: { seq: number; hash: Buffer } | null = null;
    const records: AuditRecord[] = [];
    for (let n = 1; n <= MAX_SEARCH_LIMIT + 50; n++) {
      const record = nextRecord(head, canonicalEvent(ev(n, {})));
      records.push(record);
      head = record;
    }
    store.audit.appendAuditRecords(records);
    const found = searchAudit(store.audit, parseAuditFilter({}), { limit: MAX_SEARCH_LIMIT + 50 });
    expect(found.records).toHaveLength(MAX_SEARCH_LIMIT);
    expect(found.nextSeq).toBe(MAX_SEARCH_LIMIT + 1);
  });
});

describe('time pre-filter on canonical text', () => {
  it('reads the time of canonical events without parsing them, and lets anything else through to the full match', () => {
    const canonical = canonicalEvent(ev(1, { time: '2026-11-03T09:00:00.000Z' }));
    expect(canonicalEventTimeMs(canonical)).toBe(Date.parse('2026-11-03T09:00:00.000Z'));
    expect(canonicalEventTimeMs('{"eventId":"x","time":"2026-11-03T09:00:00.000Z"}')).toBeNull();
    expect(canonicalEventTimeMs('{"time":"not a time"}')).toBeNull();
    const november = parseAuditFilter({ from: '2026-11-03T09:00:00Z', to: '2026-11-04' });
    expect(mayMatchTime(november, canonical)).toBe(true);
    expect(mayMatchTime(november, canonicalEvent(ev(1, { time: '2026-11-03T08:59:59.999Z' })))).toBe(false);
    expect(mayMatchTime(november, canonicalEvent(ev(1, { time: '2026-11-04T00:00:00.000Z' })))).toBe(false);
    expect(mayMatchTime(november, '{"odd":true}')).toBe(true);
    expect(mayMatchTime(parseAuditFilter({}), '{"time":"1999-01-01T00:00:00Z"}')).toBe(true);
  });
});
