/**
 * The checkpointer's verification on a worker thread, on a real SQLite file:
 * the same verdicts as on the server's own thread (an intact extension, an
 * edited event named by its seq, a signed head no longer stored, an earlier
 * run's server start), and a worker that cannot open the file rejects, so
 * the checkpointer signs nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AuditEvent } from '../../domain/audit/audit-event';
import { verifyHead } from '../../domain/audit/audit-checkpointer';
import { AuditWriter } from '../../domain/audit/audit-writer';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { workerHeadVerifier } from '../../storage/audit-worker/worker-verifier';
import { rejectionCode } from '../support/error-code';

function event(n: number, type = 'operation'): AuditEvent {
  return { time: '2026-12-01T00:00:00.000Z', eventId: `e-${n}`, type, identity: null, endUser: null, purpose: null, source: null, operation: 'Get', key: 'hr/k', instance: null, result: 'ok', requestId: n, custom: {} };
}

describe('checkpoint verification worker', () => {
  let dir: string;
  let file: string;
  let store: KeychainStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-verify-worker-'));
    file = join(dir, 'keychain.db');
    store = openSqliteStore(file);
    const writer = new AuditWriter(store.audit);
    await Promise.all(Array.from({ length: 30 }, (_, i) => writer.record(event(i + 1, i === 4 ? 'server-start' : 'operation'))));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds an intact extension of the signed head, and the same verdict as on this thread', async () => {
    const signed = { seq: 10, hash: store.audit.readAuditRecords(10, 1)[0].hash };
    const found = await workerHeadVerifier(file)(signed, 30, 0);
    expect(found.verdict.ok).toBe(true);
    expect(found.verdict.head?.seq).toBe(30);
    expect(Buffer.isBuffer(found.verdict.head?.hash)).toBe(true);
    expect(found.verdict.head?.hash.equals(store.audit.auditHead()!.hash)).toBe(true);
    expect(found).toEqual(verifyHead(store.audit, signed, 30, 0));
  });

  it('names the first edited event, and a signed head that is no longer the stored one', async () => {
    const raw = new Database(file);
    raw.exec('DROP TRIGGER audit_events_no_update;');
    raw.prepare("UPDATE audit_events SET event = replace(event, 'hr/k', 'hr/x') WHERE seq = 17").run();
    raw.close();
    const signed = { seq: 10, hash: store.audit.readAuditRecords(10, 1)[0].hash };
    const edited = await workerHeadVerifier(file)(signed, 30, 0);
    expect(edited.verdict).toMatchObject({ ok: false, firstBadSeq: 17 });
    const forged = await workerHeadVerifier(file)({ seq: 10, hash: Buffer.alloc(32, 7) }, 30, 0);
    expect(forged.verdict).toMatchObject({ ok: false, firstBadSeq: 10 });
  });

  it('finds an earlier run\'s server start among the unsigned events', async () => {
    const found = await workerHeadVerifier(file)(null, 30, 12);
    expect(found).toMatchObject({ verdict: { ok: true }, earlierRun: 5 });
  });

  it('rejects when it cannot read the file: nothing is signed', async () => {
    expect(await rejectionCode(workerHeadVerifier(join(dir, 'missing.db'))(null, 30, 0))).toBe('STORAGE_ERROR');
  });
});
