/**
 * An event appended inside the caller's own transaction (a state change and
 * its outcome event committing together: operations/dispatcher.ts
 * commitsWithItsEvent) on a real SQLite file: it chains with the group
 * commits whichever took the write lock first, it reaches the live stream
 * and the sinks (onDurable) in chain order even while a group is being
 * appended, and a failure to append undoes the caller's change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyStore } from '../../domain/audit/audit-chain';
import { AuditEvent } from '../../domain/audit/audit-event';
import { AuditWriter, chainEvents } from '../../domain/audit/audit-writer';
import { AuditRecord } from '../../storage/audit-store';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';

function event(id: string): AuditEvent {
  return { time: '2026-12-01T00:00:00.000Z', eventId: id, type: 'operation', identity: null, endUser: null, purpose: null, source: null, operation: 'Create', key: 'hr/k', instance: null, result: 'ok', requestId: id, custom: {} };
}

/**
 * An asynchronous appender whose group a test releases: `commitAt` says
 * whether the group's rows are committed when the append is called (the
 * worker got the write lock first) or when the test releases it.
 */
function heldAppender(store: KeychainStore, commitAt: 'call' | 'release'): { append: (events: readonly string[]) => Promise<AuditRecord[]>; release: () => void } {
  let release: () => void = () => undefined;
  const append = (events: readonly string[]): Promise<AuditRecord[]> => {
    const commit = (): AuditRecord[] => store.audit.appendAuditRecordsFromHead((head) => chainEvents(head, events));
    const early = commitAt === 'call' ? commit() : null;
    return new Promise((resolve, reject) => {
      release = () => {
        try {
          resolve(early ?? commit());
        } catch (err) {
          reject(err);
        }
      };
    });
  };
  return { append, release: () => release() };
}

const ids = (records: readonly AuditRecord[]): string[] => records.map((r) => JSON.parse(r.event).eventId);

describe('an audit event appended inside the caller\'s transaction', () => {
  let dir: string;
  let file: string;
  let store: KeychainStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-audit-in-tx-'));
    file = join(dir, 'keychain.db');
    store = openSqliteStore(file);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['call', 'release'] as const)('reaches onDurable in chain order while a group is being appended (the group committed at %s)', async (commitAt) => {
    const published: AuditRecord[][] = [];
    const held = heldAppender(store, commitAt);
    const writer = new AuditWriter(store.audit, () => undefined, (records) => published.push([...records]), held.append);
    const group = Promise.all(['g1', 'g2', 'g3'].map((id) => writer.record(event(id))));
    writer.flush();
    // The change and its event, committed while the group is in flight.
    const inTx = store.transaction(() => writer.appendInTransaction(event('change')));
    writer.published(inTx);
    // Nothing reaches the stream before the group it may precede or follow is settled.
    expect(published).toEqual([]);
    held.release();
    await group;
    await writer.drain();
    const seen = published.flat();
    expect(seen.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(ids(seen)).toEqual(commitAt === 'call' ? ['g1', 'g2', 'g3', 'change'] : ['change', 'g1', 'g2', 'g3']);
    expect(ids(store.audit.readAuditRecords(1, 10))).toEqual(ids(seen));
    expect(verifyStore(store.audit)).toEqual({ ok: true, events: 4 });
  });

  it('publishes at once when no group is in flight', () => {
    const published: string[] = [];
    const writer = new AuditWriter(store.audit, () => undefined, (records) => published.push(...ids(records)));
    writer.published(store.transaction(() => writer.appendInTransaction(event('alone'))));
    expect(published).toEqual(['alone']);
  });

  it('holds events committed without their own fsync, and every later one, until their flush settles; then publishes them in chain order', async () => {
    const published: string[] = [];
    const writer = new AuditWriter(store.audit, () => undefined, (records) => published.push(...ids(records)));
    let flushed!: () => void;
    const durable = new Promise<void>((resolve) => (flushed = resolve));
    writer.publishedOnceDurable(store.transaction(() => writer.appendInTransaction(event('batch'))), durable);
    // A group committed after it is durable (its fsync covers the batch too), but the stream keeps chain order.
    const later = writer.record(event('later'));
    writer.flush();
    await later;
    writer.published(store.transaction(() => writer.appendInTransaction(event('change'))));
    expect(published).toEqual([]);
    flushed();
    await durable;
    expect(published).toEqual(['batch', 'later', 'change']);
    writer.published(store.transaction(() => writer.appendInTransaction(event('after'))));
    expect(published).toEqual(['batch', 'later', 'change', 'after']);
  });

  it('publishes what is durable while later batches still wait for their flush: a long sweep does not hold the stream until it ends', async () => {
    const published: string[] = [];
    const writer = new AuditWriter(store.audit, () => undefined, (records) => published.push(...ids(records)));
    const flush = (): { durable: Promise<void>; done: () => void } => {
      let done!: () => void;
      const durable = new Promise<void>((resolve) => (done = resolve));
      return { durable, done };
    };
    const first = flush();
    writer.publishedOnceDurable(store.transaction(() => writer.appendInTransaction(event('batch 1'))), first.durable);
    const get = writer.record(event('a Get'));
    writer.flush();
    await get;
    // The sweep ran ahead: batch 2 committed while batch 1's flush was under way.
    const second = flush();
    writer.publishedOnceDurable(store.transaction(() => writer.appendInTransaction(event('batch 2'))), second.durable);
    expect(published).toEqual([]);
    first.done();
    await first.durable;
    // Batch 1 is on disk and the Get's event was committed with its own fsync: nothing before batch 2 waits for it.
    expect(published).toEqual(['batch 1', 'a Get']);
    second.done();
    await second.durable;
    expect(published).toEqual(['batch 1', 'a Get', 'batch 2']);
  });

  it('releases held events when their flush fails: they are committed, and a stream held for ever would hold every later event', async () => {
    const published: string[] = [];
    const writer = new AuditWriter(store.audit, () => undefined, (records) => published.push(...ids(records)));
    const failed = Promise.reject(new Error('fsync failed'));
    failed.catch(() => undefined);
    writer.publishedOnceDurable(store.transaction(() => writer.appendInTransaction(event('batch'))), failed);
    expect(published).toEqual([]);
    await failed.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(published).toEqual(['batch']);
  });

  it('undoes the caller\'s change when its event cannot be appended (AUDIT_UNAVAILABLE), and chains on after', () => {
    const writer = new AuditWriter(store.audit);
    const raw = new Database(file);
    raw.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'refused (simulated)'); END;");
    let code: unknown;
    try {
      store.transaction(() => {
        store.putHsmSealedSecret({ name: 'changed-in-tx', masterKeyVersion: 1, mechanism: 'test', wrappedKey: Buffer.alloc(40), sealed: Buffer.alloc(8), createdAt: '2026-12-01T00:00:00.000Z' });
        writer.appendInTransaction(event('lost'));
      });
    } catch (err) {
      code = (err as { code?: unknown }).code;
    }
    expect(code).toBe('AUDIT_UNAVAILABLE');
    expect(store.getHsmSealedSecret('changed-in-tx')).toBeNull();
    raw.exec('DROP TRIGGER refuse_audit');
    raw.close();
    writer.published(store.transaction(() => writer.appendInTransaction(event('kept'))));
    expect(ids(store.audit.readAuditRecords(1, 10))).toEqual(['kept']);
  });
});
