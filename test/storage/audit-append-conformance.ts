/**
 * The audit trail's append contract (storage/audit-store.ts), on every
 * backend through keychain-store-conformance.ts: a group commit's events
 * land whole, in order, continuing the chain with no gap, or not at all.
 * PostgreSQL inserts a group as one multi-row statement and SQLite row by
 * row (storage/sqlite-audit.ts); both must keep exactly this.
 */
import { canonicalEvent } from '../../domain/audit/audit-event';
import { verifyStore } from '../../domain/audit/audit-chain';
import { chainEvents, MAX_EVENTS_PER_COMMIT } from '../../domain/audit/audit-writer';
import { AuditRecord } from '../../storage/audit-store';
import { codeOf, StoreFactory, storePerTest } from './store-fixtures';

/** Distinct canonical events, numbered from `first`; the text varies in length and carries quotes and a newline. */
export function auditEvents(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    canonicalEvent({
      time: '2026-01-01T00:00:00.000Z',
      eventId: `e-${first + i}`,
      type: 'operation',
      identity: { name: 'app|1', role: 'app', fingerprint256: 'ab', subject: 'CN=app|1' },
      endUser: null,
      purpose: `line "${'x'.repeat((first + i) % 97)}"\nend`,
      source: '127.0.0.1',
      operation: 'Get',
      key: `app/k-${first + i}`,
      instance: null,
      result: 'ok',
      requestId: first + i,
      custom: {},
    }),
  );
}

export function describeAuditAppendConformance(name: string, factory: StoreFactory): void {
  describe(`AuditStore append conformance: ${name}`, () => {
    const store = storePerTest(factory);

    /** Appends `events` as one group from the current head; answers the records. */
    const appendGroup = (events: readonly string[]): AuditRecord[] => store.audit.appendAuditRecordsFromHead((head) => chainEvents(head, events));

    it('lands a full group commit in order with no gap after what was there, and the chain verifies', () => {
      appendGroup(auditEvents(0, 3));
      const group = auditEvents(3, MAX_EVENTS_PER_COMMIT);
      const appended = appendGroup(group);
      expect(appended.map((r) => r.seq)).toEqual(Array.from({ length: MAX_EVENTS_PER_COMMIT }, (_, i) => 4 + i));
      const stored = store.audit.readAuditRecords(4, MAX_EVENTS_PER_COMMIT + 10);
      expect(stored.map((r) => r.seq)).toEqual(appended.map((r) => r.seq));
      expect(stored.map((r) => r.event)).toEqual(group);
      expect(stored.map((r) => r.hash.toString('hex'))).toEqual(appended.map((r) => r.hash.toString('hex')));
      expect(store.audit.auditHead()?.seq).toBe(MAX_EVENTS_PER_COMMIT + 3);
      expect(verifyStore(store.audit)).toEqual({ ok: true, events: MAX_EVENTS_PER_COMMIT + 3 });
    });

    it('leaves nothing of a group with a record out of order in its middle, and the next group continues from the old head', () => {
      appendGroup(auditEvents(0, 2));
      const before = store.audit.auditHead();
      const failing = (): AuditRecord[] =>
        store.audit.appendAuditRecordsFromHead((head) => {
          const records = chainEvents(head, auditEvents(2, 100));
          records[50] = { ...records[50], seq: records[50].seq + 1 };
          return records;
        });
      expect(codeOf(failing)).toBe('STORAGE_ERROR');
      expect(store.audit.auditHead()).toEqual(before);
      expect(store.audit.readAuditRecords(3, 200)).toEqual([]);
      expect(appendGroup(auditEvents(200, 5)).map((r) => r.seq)).toEqual([3, 4, 5, 6, 7]);
      expect(verifyStore(store.audit)).toEqual({ ok: true, events: 7 });
    });

    it('refuses a group that repeats a stored seq, writing none of it', () => {
      appendGroup(auditEvents(0, 4));
      const head = store.audit.auditHead();
      const repeated = chainEvents({ seq: 2, hash: store.audit.readAuditRecords(2, 1)[0].hash }, auditEvents(10, 20));
      expect(codeOf(() => store.audit.appendAuditRecords(repeated))).toBe('STORAGE_ERROR');
      expect(store.audit.auditHead()).toEqual(head);
      expect(store.audit.readAuditRecords(5, 50)).toEqual([]);
    });
  });
}
