/**
 * The audit trail's foundation: the append-only store on SQLite and in
 * memory, the hash chain naming the first broken event, and group commit
 * that settles each record() only when its event is durable (fail closed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StorageError } from '../../common/errors';
import { AuditEvent, canonicalEvent } from '../../domain/audit/audit-event';
import { nextRecord, verifyStore } from '../../domain/audit/audit-chain';
import { AuditWriter, chainEvents, MAX_EVENTS_PER_COMMIT } from '../../domain/audit/audit-writer';
import { AuditStore } from '../../storage/audit-store';
import { KeychainStore } from '../../storage/keychain-store';
import { MemoryStore } from '../../storage/memory-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { codeOf, rejectionCode } from '../support/error-code';

function event(n: number, over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`,
    eventId: `e-${n}`,
    type: 'operation',
    identity: { name: 'app|1', role: 'app', fingerprint256: 'ab', subject: 'CN=app|1' },
    endUser: 'alice=\\admin',
    purpose: 'payroll\nrun',
    source: '127.0.0.1',
    operation: 'Get',
    key: 'hr/payroll',
    instance: 'i1',
    result: 'ok',
    requestId: n,
    custom: { ticket: 'CHG-1' },
    ...over,
  };
}

const stores: Array<[string, () => { store: KeychainStore; file?: string; cleanup(): void }]> = [
  ['memory', () => ({ store: new MemoryStore(), cleanup: () => undefined })],
  [
    'SQLite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'strongroom-audit-'));
      const file = join(dir, 'keychain.db');
      const store = openSqliteStore(file);
      return { store, file, cleanup: () => (store.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  ],
];

describe.each(stores)('audit trail on %s', (_name, make) => {
  let store: KeychainStore;
  let file: string | undefined;
  let cleanup: () => void;
  beforeEach(() => ({ store, file, cleanup } = make()));
  afterEach(() => cleanup());

  it('appends gap-free, in order, and verifies', async () => {
    const writer = new AuditWriter(store.audit);
    await Promise.all(Array.from({ length: 25 }, (_, i) => writer.record(event(i))));
    expect(store.audit.auditHead()?.seq).toBe(25);
    expect(verifyStore(store.audit)).toEqual({ ok: true, events: 25 });
    const head = store.audit.auditHead();
    expect(codeOf(() => store.audit.appendAuditRecords([{ ...nextRecord(head, 'x'), seq: 27 }]))).toBe('STORAGE_ERROR');
    expect(store.audit.readAuditRecords(24, 10).map((r) => r.seq)).toEqual([24, 25]);
  });

  it('does not move the keychain change stamp (the hot path caches stay warm while every request is audited)', async () => {
    const before = store.changeStamp();
    const writer = new AuditWriter(store.audit);
    await Promise.all(Array.from({ length: 10 }, (_, i) => writer.record(event(i))));
    expect(store.audit.auditHead()?.seq).toBe(10);
    expect(store.changeStamp()).toBe(before);
  });

  it('tells onDurable of each committed batch in chain order, and only after it committed', async () => {
    const seen: number[][] = [];
    const writer = new AuditWriter(store.audit, undefined, (records) => seen.push(records.map((r) => r.seq)));
    await Promise.all(Array.from({ length: 3 }, (_, i) => writer.record(event(i))));
    await writer.record(event(9));
    expect(seen).toEqual([[1, 2, 3], [4]]);
  });

  it('group-commits: many records in one turn settle together', async () => {
    let flushes = 0;
    const writer = new AuditWriter(store.audit, (flush) =>
      setImmediate(() => {
        flushes++;
        flush();
      }),
    );
    await Promise.all(Array.from({ length: 200 }, (_, i) => writer.record(event(i))));
    expect(flushes).toBe(1);
    expect(store.audit.auditHead()?.seq).toBe(200);
  });

  it('settles one group commit with one completion shared by its events, and a full commit starts the next', async () => {
    const sizes: number[] = [];
    const writer = new AuditWriter(store.audit, undefined, undefined, (events) => {
      sizes.push(events.length);
      return store.audit.appendAuditRecordsFromHead((head) => chainEvents(head, events));
    });
    const first = Array.from({ length: MAX_EVENTS_PER_COMMIT }, (_, i) => writer.record(event(i)));
    const next = writer.record(event(MAX_EVENTS_PER_COMMIT));
    expect(new Set(first).size).toBe(1);
    expect(next).not.toBe(first[0]);
    expect(writer.queued).toBe(MAX_EVENTS_PER_COMMIT + 1);
    await Promise.all([...first, next]);
    expect(sizes).toEqual([MAX_EVENTS_PER_COMMIT, 1]);
    expect(writer.queued).toBe(0);
    expect(store.audit.auditHead()?.seq).toBe(MAX_EVENTS_PER_COMMIT + 1);
  });

  it('starts the next group\'s append before it answers the callers of the group that just committed, each still after its own', async () => {
    const appends: Array<{ events: readonly string[]; done: (fail?: Error) => void }> = [];
    const writer = new AuditWriter(store.audit, (flush) => setImmediate(flush), undefined, (events) =>
      new Promise((resolve, reject) => {
        appends.push({ events, done: (fail) => (fail ? reject(fail) : resolve(store.audit.appendAuditRecordsFromHead((head) => chainEvents(head, events)))) });
      }),
    );
    const answered: string[] = [];
    const first = writer.record(event(1)).then(() => answered.push(`first (appends started: ${appends.length})`));
    await new Promise((resolve) => setImmediate(resolve));
    expect(appends).toHaveLength(1);
    const second = writer.record(event(2)).then(
      () => answered.push('second'),
      () => answered.push('second refused'),
    );
    const third = writer.record(event(3)).then(() => answered.push('third'));
    expect(answered).toEqual([]);
    appends[0].done();
    await first;
    // The second group (events 2 and 3) was already on its way when the first group's caller heard back.
    expect(answered).toEqual(['first (appends started: 2)']);
    expect(appends[1].events).toHaveLength(2);
    appends[1].done(new Error('disk gone'));
    await Promise.all([second, third.catch(() => answered.push('third refused'))]);
    expect(answered).toEqual(['first (appends started: 2)', 'second refused', 'third refused']);
    expect(store.audit.auditHead()?.seq).toBe(1);
  });

  it('fails closed: when the trail cannot be written, every waiting record() rejects with AUDIT_UNAVAILABLE', async () => {
    const diskFull = (): never => {
      throw new Error('disk full');
    };
    const broken: AuditStore = Object.assign(Object.create(store.audit) as AuditStore, { appendAuditRecords: diskFull, appendAuditRecordsFromHead: diskFull });
    const writer = new AuditWriter(broken);
    const results = await Promise.all([writer.record(event(1)), writer.record(event(2))].map((p) => rejectionCode(p)));
    expect(results).toEqual(['AUDIT_UNAVAILABLE', 'AUDIT_UNAVAILABLE']);
    expect(store.audit.auditHead()).toBeNull();
  });

  it.each([
    ['STORAGE_FULL', /disk holding the keychain is full.*nothing was changed; free space/],
    ['STORAGE_BUSY', /write lock.*nothing was changed; retry/],
  ])('fails closed with %s itself, saying what to do, when the store reports it', async (code, message) => {
    const refuse = (): never => {
      throw new StorageError(code as 'STORAGE_FULL' | 'STORAGE_BUSY', 'keychain store: appendAuditRecords failed');
    };
    const broken: AuditStore = Object.assign(Object.create(store.audit) as AuditStore, { appendAuditRecords: refuse, appendAuditRecordsFromHead: refuse });
    const refused = await new AuditWriter(broken).record(event(1)).then(() => null, (err: unknown) => err);
    expect(refused).toMatchObject({ code });
    expect((refused as Error).message).toMatch(message);
    expect(store.audit.auditHead()).toBeNull();
  });

  it('keeps only the whitelisted fields of an event, in a fixed order', () => {
    const withExtra = { ...event(1), material: 'c2VjcmV0', pin: '1234' } as unknown as AuditEvent;
    const json = canonicalEvent(withExtra);
    expect(json).not.toContain('c2VjcmV0');
    expect(json).not.toContain('1234"');
    expect(JSON.parse(json).endUser).toBe('alice=\\admin');
  });

  if (_name === 'SQLite') {
    const tamper = (sql: string, ...params: unknown[]): void => {
      const raw = new Database(file as string);
      raw.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
      raw.prepare(sql).run(...params);
      raw.close();
    };

    it('refuses UPDATE and DELETE through SQLite', async () => {
      await new AuditWriter(store.audit).record(event(1));
      const raw = new Database(file as string);
      expect(() => raw.prepare("UPDATE audit_events SET event = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
      expect(() => raw.prepare('DELETE FROM audit_events WHERE seq = 1').run()).toThrow(/append-only/);
      raw.close();
    });

    it.each([
      ['an edited event', (seq: number) => tamper("UPDATE audit_events SET event = replace(event, 'hr/payroll', 'hr/other') WHERE seq = ?", seq), 'altered'],
      ['a deleted event', (seq: number) => tamper('DELETE FROM audit_events WHERE seq = ?', seq), 'missing'],
      ['two swapped events', (seq: number) => {
        const raw = new Database(file as string);
        const a = raw.prepare('SELECT event FROM audit_events WHERE seq = ?').get(seq) as { event: string };
        const b = raw.prepare('SELECT event FROM audit_events WHERE seq = ?').get(seq + 1) as { event: string };
        raw.close();
        tamper('UPDATE audit_events SET event = ? WHERE seq = ?', b.event, seq);
        const again = new Database(file as string);
        again.prepare('UPDATE audit_events SET event = ? WHERE seq = ?').run(a.event, seq + 1);
        again.close();
      }, 'altered'],
    ])('names the first broken event after %s', async (_what, damage, reason) => {
      const writer = new AuditWriter(store.audit);
      await Promise.all(Array.from({ length: 10 }, (_, i) => writer.record(event(i))));
      damage(6);
      const verdict = verifyStore(store.audit);
      expect(verdict.ok).toBe(false);
      expect(verdict.firstBadSeq).toBe(6);
      expect(verdict.reason).toContain(reason);
    });
  }
});
