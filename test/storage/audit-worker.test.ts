/**
 * The audit append worker: group commits on a connection of their own in a
 * worker thread, so the fsync never holds the server's event loop. Its
 * records chain with those another process appends meanwhile, a failed
 * append fails closed (AUDIT_UNAVAILABLE, the request is not served) and the
 * worker recovers once the disk does; on the live server a refused append
 * means no material leaves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyStore } from '../../domain/audit/audit-chain';
import { AuditEvent } from '../../domain/audit/audit-event';
import { AuditWriter } from '../../domain/audit/audit-writer';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { WorkerAuditAppender } from '../../storage/audit-worker/worker-appender';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { rejectionCode } from '../support/error-code';

const REFUSE_INSERTS = "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END;";

function event(n: number): AuditEvent {
  return { time: '2026-12-01T00:00:00.000Z', eventId: `e-${n}`, type: 'operation', identity: null, endUser: null, purpose: null, source: null, operation: 'Get', key: 'hr/k', instance: null, result: 'ok', requestId: n, custom: {} };
}

describe('audit append worker on a real SQLite file', () => {
  let dir: string;
  let file: string;
  let store: KeychainStore;
  let appender: WorkerAuditAppender;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-audit-worker-'));
    file = join(dir, 'keychain.db');
    store = openSqliteStore(file);
    appender = new WorkerAuditAppender({ keychainPath: file });
  });
  afterEach(async () => {
    await appender.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('group-commits every recorded event, in order, and tells onDurable of each batch', async () => {
    const batches: number[] = [];
    const writer = new AuditWriter(store.audit, undefined, (records) => batches.push(records.length), (events) => appender.append(events));
    await Promise.all(Array.from({ length: 300 }, (_, i) => writer.record(event(i))));
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.record(event(300 + i))));
    expect(store.audit.auditHead()?.seq).toBe(350);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(350);
    expect(verifyStore(store.audit)).toEqual({ ok: true, events: 350 });
    expect(store.audit.readAuditRecords(1, 350).map((r) => JSON.parse(r.event).eventId)).toEqual(Array.from({ length: 350 }, (_, i) => `e-${i}`));
  });

  it('carries a batch as one message both ways: events with newlines in their fields arrive whole, and the records returned are the stored ones', async () => {
    const seen: Array<{ seq: number; event: string; prevHash: Buffer; hash: Buffer }> = [];
    const writer = new AuditWriter(store.audit, undefined, (records) => seen.push(...records), (events) => appender.append(events));
    await Promise.all(Array.from({ length: 40 }, (_, i) => writer.record({ ...event(i), purpose: `line one\nline ${i}`, custom: { note: 'a\r\nb' } })));
    const stored = store.audit.readAuditRecords(1, 40);
    expect(stored.map((r) => JSON.parse(r.event).purpose)).toEqual(Array.from({ length: 40 }, (_, i) => `line one\nline ${i}`));
    expect(seen.map((r) => ({ seq: r.seq, event: r.event, prevHash: Buffer.from(r.prevHash).toString('hex'), hash: Buffer.from(r.hash).toString('hex') }))).toEqual(
      stored.map((r) => ({ seq: r.seq, event: r.event, prevHash: r.prevHash.toString('hex'), hash: r.hash.toString('hex') })),
    );
    expect(verifyStore(store.audit)).toEqual({ ok: true, events: 40 });
  });

  it('chains with what another connection appends meanwhile: no sequence collision', async () => {
    const writer = new AuditWriter(store.audit, undefined, undefined, (events) => appender.append(events));
    const other = openSqliteStore(file);
    const otherWriter = new AuditWriter(other.audit);
    for (let round = 0; round < 5; round++) {
      await Promise.all([...Array.from({ length: 20 }, (_, i) => writer.record(event(round * 100 + i))), otherWriter.record(event(round * 100 + 99))]);
    }
    other.close();
    expect(store.audit.auditHead()?.seq).toBe(105);
    expect(verifyStore(store.audit).ok).toBe(true);
  });

  it('fails closed while the trail cannot be written, then recovers', async () => {
    const writer = new AuditWriter(store.audit, undefined, undefined, (events) => appender.append(events));
    await writer.record(event(1));
    const raw = new Database(file);
    raw.exec(REFUSE_INSERTS);
    expect(await Promise.all([writer.record(event(2)), writer.record(event(3))].map((p) => rejectionCode(p)))).toEqual(['AUDIT_UNAVAILABLE', 'AUDIT_UNAVAILABLE']);
    raw.exec('DROP TRIGGER refuse_audit');
    raw.close();
    await writer.record(event(4));
    expect(store.audit.readAuditRecords(1, 10).map((r) => JSON.parse(r.event).eventId)).toEqual(['e-1', 'e-4']);
    expect(verifyStore(store.audit).ok).toBe(true);
  });

  it('waits while another connection holds the write lock, and commits as soon as it is let go', async () => {
    const writer = new AuditWriter(store.audit, undefined, undefined, (events) => appender.append(events));
    const raw = new Database(file);
    raw.exec('BEGIN IMMEDIATE');
    let settled = false;
    const recorded = writer.record(event(1)).finally(() => {
      settled = true;
    });
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false); // it cannot commit while the lock is held
    raw.exec('COMMIT');
    raw.close();
    await recorded;
    expect(store.audit.auditHead()?.seq).toBe(1);
  });

  it('gives up with STORAGE_BUSY once the lock was held past the bound, writing nothing, and appends again after', async () => {
    const writer = new AuditWriter(store.audit, undefined, undefined, (events) => appender.append(events));
    const raw = new Database(file);
    raw.exec('BEGIN IMMEDIATE');
    expect(await rejectionCode(writer.record(event(1)))).toBe('STORAGE_BUSY');
    raw.exec('COMMIT');
    raw.close();
    expect(store.audit.auditHead()).toBeNull();
    await writer.record(event(2));
    expect(store.audit.readAuditRecords(1, 10).map((r) => JSON.parse(r.event).eventId)).toEqual(['e-2']);
  }, 30_000);

  it('a closed appender refuses rather than losing events silently', async () => {
    await appender.close();
    expect(await rejectionCode(appender.append(['{}']))).toBe('STORAGE_ERROR');
  });
});

describe('the live server with its audit worker', () => {
  let app: TestAppliance;
  beforeAll(async () => {
    app = await startTestAppliance();
  });
  afterAll(async () => app.stop());

  it('answers AUDIT_UNAVAILABLE and no material while its trail refuses writes, and serves again after', async () => {
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'aw/k' })).error).toBeUndefined();
    const appCreds = app.issue('aw-app', 'app');
    // A grant that gives material is dual-controlled: the fixture's approver officers approve it.
    await app.approve(await officer.request('PolicyGrant', { client: 'aw-app', pattern: 'aw/*', permissions: ['get'] }));
    const conn = await app.connect(appCreds);
    expect((await conn.request('Get', { name: 'aw/k' })).result).toMatchObject({ material: expect.any(String) });

    const raw = new Database(app.appliance.config.values.keychain_path as string);
    raw.exec(REFUSE_INSERTS);
    const refused = await conn.request('Get', { name: 'aw/k' });
    expect(refused.error?.code).toBe('AUDIT_UNAVAILABLE');
    expect(refused.result).toBeUndefined();
    raw.exec('DROP TRIGGER refuse_audit');
    raw.close();
    expect((await conn.request('Get', { name: 'aw/k' })).result).toMatchObject({ material: expect.any(String) });
    expect(verifyStore(app.appliance.store.audit).ok).toBe(true);
  });
});
