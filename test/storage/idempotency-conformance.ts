/**
 * The IdempotencyStore conformance suite (storage/idempotency-store.ts is
 * the contract): no record until one is written; one record per (client,
 * key), a second write under the same pair writes nothing whatever it
 * holds, another client's same key is its own; the retention delete takes
 * the oldest first, only those older than the cut, at most `limit`; a write
 * inside a failed transaction is undone; records handed in and out are
 * copies; a closed store refuses. Memory, SQLite and PostgreSQL run it
 * through keychain-store-conformance.ts.
 */
import { IdempotencyRecord } from '../../storage/idempotency-store';
import { codeOf, rowMac, StoreFactory, storePerTest, T0, T1, T2 } from './store-fixtures';

const record = (clientId: string, idempotencyKey: string, createdAt = T0, overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
  clientId,
  idempotencyKey,
  operation: 'Create',
  argsDigest: Buffer.alloc(32, 7),
  result: '{"key":{"fullName":"app/k"}}',
  createdAt,
  rowMac: rowMac(`${clientId}/${idempotencyKey}/${createdAt}`),
  ...overrides,
});

export function describeIdempotencyConformance(name: string, factory: StoreFactory): void {
  describe(`IdempotencyStore conformance: ${name}`, () => {
    const store = storePerTest(factory);
    const idem = () => store.idempotency;

    it('has no record until one is written, then reads back exactly what was written', () => {
      expect(idem().readIdempotencyRecord('alice', 'key-0001')).toBeNull();
      expect(idem().insertIdempotencyRecord(record('alice', 'key-0001'))).toBe(true);
      expect(idem().readIdempotencyRecord('alice', 'key-0001')).toEqual(record('alice', 'key-0001'));
    });

    it('keeps one record per (client, key): a second write under the pair writes nothing, another client is independent', () => {
      idem().insertIdempotencyRecord(record('alice', 'key-0001'));
      const other = record('alice', 'key-0001', T1, { operation: 'Revoke', result: '{}', argsDigest: Buffer.alloc(32, 9) });
      expect(idem().insertIdempotencyRecord(other)).toBe(false);
      expect(idem().readIdempotencyRecord('alice', 'key-0001')).toEqual(record('alice', 'key-0001'));
      expect(idem().insertIdempotencyRecord(record('bob', 'key-0001', T1))).toBe(true);
      expect(idem().readIdempotencyRecord('bob', 'key-0001')).toEqual(record('bob', 'key-0001', T1));
      // Keys compare exactly: a key differing only in case is another key.
      expect(idem().readIdempotencyRecord('alice', 'KEY-0001')).toBeNull();
    });

    it('deletes only records older than the cut, oldest first, at most `limit` at a time', () => {
      idem().insertIdempotencyRecord(record('alice', 'key-new', T2));
      idem().insertIdempotencyRecord(record('alice', 'key-mid', T1));
      idem().insertIdempotencyRecord(record('bob', 'key-old', T0));
      expect(idem().deleteIdempotencyRecordsBefore(T2, 1)).toBe(1);
      expect(idem().readIdempotencyRecord('bob', 'key-old')).toBeNull();
      expect(idem().readIdempotencyRecord('alice', 'key-mid')).not.toBeNull();
      expect(idem().deleteIdempotencyRecordsBefore(T2, 10)).toBe(1);
      expect(idem().readIdempotencyRecord('alice', 'key-mid')).toBeNull();
      // T2 itself is not before the cut.
      expect(idem().deleteIdempotencyRecordsBefore(T2, 10)).toBe(0);
      expect(idem().readIdempotencyRecord('alice', 'key-new')).toEqual(record('alice', 'key-new', T2));
    });

    it('undoes a record written in a transaction that fails, as the change it records is undone', () => {
      expect(
        codeOf(() =>
          store.transaction(() => {
            idem().insertIdempotencyRecord(record('alice', 'key-0001'));
            throw new RangeError('the write failed');
          }),
        ),
      ).toBe('UNTYPED: RangeError: the write failed');
      expect(idem().readIdempotencyRecord('alice', 'key-0001')).toBeNull();
      expect(idem().insertIdempotencyRecord(record('alice', 'key-0001'))).toBe(true);
    });

    it('hands out copies: changing a returned or passed buffer changes nothing stored', () => {
      const passed = record('alice', 'key-0001');
      idem().insertIdempotencyRecord(passed);
      passed.rowMac.fill(0);
      passed.argsDigest.fill(0);
      const read = idem().readIdempotencyRecord('alice', 'key-0001')!;
      read.rowMac.fill(1);
      read.argsDigest.fill(1);
      expect(idem().readIdempotencyRecord('alice', 'key-0001')).toEqual(record('alice', 'key-0001'));
    });

    it('refuses every call once closed', () => {
      store.close();
      expect(codeOf(() => idem().readIdempotencyRecord('alice', 'key-0001'))).toBe('STORAGE_ERROR');
      expect(codeOf(() => idem().insertIdempotencyRecord(record('alice', 'key-0001')))).toBe('STORAGE_ERROR');
      expect(codeOf(() => idem().deleteIdempotencyRecordsBefore(T2, 1))).toBe('STORAGE_ERROR');
    });
  });
}
