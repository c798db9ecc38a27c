/**
 * Signed audit checkpoints: what the chain alone cannot see. A trail whose
 * newest events were deleted, or that was rebuilt with fresh hashes, passes
 * the chain check but not the checkpoints; a forged checkpoint or one from
 * another appliance fails its signature.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock } from '../../common/clock';
import { canonicalEvent, AuditEvent } from '../../domain/audit/audit-event';
import { nextRecord, verifyStore } from '../../domain/audit/audit-chain';
import { checkpointSignatureValid, signCheckpoint } from '../../domain/audit/audit-checkpoint';
import { verifyTrail } from '../../domain/audit/audit-verify';
import { AuditWriter } from '../../domain/audit/audit-writer';
import { SoftHsm } from '../../hsm/soft-hsm';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { AuditCheckpointer } from '../../domain/audit/audit-checkpointer';
import { silentLogger } from '../../common/logger';
import { codeOf } from '../support/error-code';
import { ManualTimers } from '../support/manual-timers';

const KEYCHAIN_ID = 'kc-1';

function event(n: number): AuditEvent {
  return { time: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`, eventId: `e-${n}`, type: 'operation', identity: null, endUser: null, purpose: null, source: null, operation: 'Get', key: 'hr/payroll', instance: null, result: 'ok', requestId: n, custom: {} };
}

describe('signed audit checkpoints', () => {
  let dir: string;
  let file: string;
  let store: KeychainStore;
  let hsm: SoftHsm;
  let publicKeyPem: string;
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-checkpoint-'));
    file = join(dir, 'keychain.db');
    store = openSqliteStore(file);
    hsm = new SoftHsm();
    publicKeyPem = await hsm.ensureSigningKey();
  });
  afterEach(async () => {
    store.close();
    await hsm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const record = async (from: number, count: number): Promise<void> => {
    const writer = new AuditWriter(store.audit);
    await Promise.all(Array.from({ length: count }, (_, i) => writer.record(event(from + i))));
  };
  const checkpointer = (): AuditCheckpointer => new AuditCheckpointer({ audit: store.audit, hsm: async () => hsm, keychainId: KEYCHAIN_ID, clock, timers: new ManualTimers(clock), intervalMs: 60_000, log: silentLogger });
  const raw = (work: (db: Database.Database) => void): void => {
    const db = new Database(file);
    db.exec('DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS audit_events_no_delete;');
    work(db);
    db.close();
  };

  it('signs the head only when it moved, and an intact trail verifies with its checkpoints', async () => {
    await record(1, 5);
    expect((await checkpointer().checkpoint())?.seq).toBe(5);
    expect(await checkpointer().checkpoint()).toBeNull();
    await record(6, 3);
    expect((await checkpointer().checkpoint())?.seq).toBe(8);
    await record(9, 2);
    const head8 = store.audit.readAuditRecords(8, 1)[0];
    expect(verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem })).toEqual({
      ok: true, events: 10, checkpoints: 2, lastCheckpointSeq: 8, unsignedTail: 2, signaturesChecked: true, anchorsMatched: 0,
      lastCheckpoint: { seq: 8, hash: head8.hash.toString('hex'), signedAt: expect.any(String) },
    });
  });

  it('detects newest events deleted back past a checkpoint, which the chain alone accepts', async () => {
    await record(1, 10);
    await checkpointer().checkpoint();
    raw((db) => db.prepare('DELETE FROM audit_events WHERE seq > 7').run());
    expect(verifyStore(store.audit).ok).toBe(true);
    const verdict = verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem });
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 8 });
    expect(verdict.reason).toContain('deleted');
  });

  it('detects a trail rebuilt with fresh hashes, which the chain alone accepts', async () => {
    await record(1, 6);
    await checkpointer().checkpoint();
    raw((db) => {
      db.prepare('DELETE FROM audit_events').run();
      let head: { seq: number; hash: Buffer } | null = null;
      for (let n = 1; n <= 6; n++) {
        const forged = nextRecord(head, canonicalEvent({ ...event(n), key: n === 3 ? 'hr/hidden' : 'hr/payroll' }));
        db.prepare('INSERT INTO audit_events (seq, event, prev_hash, hash) VALUES (@seq, @event, @prevHash, @hash)').run(forged);
        head = forged;
      }
    });
    expect(verifyStore(store.audit).ok).toBe(true);
    const verdict = verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem });
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 6 });
    expect(verdict.reason).toContain('rewritten');
  });

  it('refuses a checkpoint signed by another key, or made for another keychain', async () => {
    await record(1, 4);
    const other = new SoftHsm();
    await other.ensureSigningKey();
    const forged = await signCheckpoint(other, KEYCHAIN_ID, store.audit.auditHead()!, clock);
    await other.close();
    store.audit.appendAuditCheckpoint(forged);
    const verdict = verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem });
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 4 });
    expect(verdict.reason).toContain('bad signature');

    const genuine = await signCheckpoint(hsm, KEYCHAIN_ID, store.audit.auditHead()!, clock);
    expect(checkpointSignatureValid(publicKeyPem, KEYCHAIN_ID, genuine)).toBe(true);
    expect(checkpointSignatureValid(publicKeyPem, 'kc-other', genuine)).toBe(false);
    expect(checkpointSignatureValid(publicKeyPem, KEYCHAIN_ID, { ...genuine, seq: genuine.seq + 1 })).toBe(false);
  });

  it('without a trusted key still catches truncation, and says signatures were not checked', async () => {
    await record(1, 3);
    await checkpointer().checkpoint();
    expect(verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem: null })).toMatchObject({ ok: true, signaturesChecked: false, checkpoints: 1 });
    raw((db) => db.prepare('DELETE FROM audit_events WHERE seq = 3').run());
    expect(verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem: null })).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it('an anchor kept from an earlier verification catches a trail cut back together with its newest checkpoints', async () => {
    await record(1, 6);
    await checkpointer().checkpoint();
    const kept = verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem }).lastCheckpoint!;
    const anchor = { seq: kept.seq, hash: Buffer.from(kept.hash, 'hex') };
    expect(verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem, anchors: [anchor] })).toMatchObject({ ok: true, anchorsMatched: 1 });
    // Cut back to event 4 and drop the checkpoint too: the stored trail alone looks intact.
    raw((db) => {
      db.exec('DROP TRIGGER audit_checkpoints_no_delete');
      db.prepare('DELETE FROM audit_events WHERE seq > 4').run();
      db.prepare('DELETE FROM audit_checkpoints').run();
    });
    expect(verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem }).ok).toBe(true);
    const verdict = verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem, anchors: [anchor] });
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 5 });
    expect(verdict.reason).toContain('anchor');
  });

  it('an anchor with another hash at its seq names the event as rewritten', async () => {
    await record(1, 3);
    const verdict = verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem, anchors: [{ seq: 2, hash: Buffer.alloc(32, 7) }] });
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 2 });
    expect(verdict.reason).toContain('rewritten');
  });

  it('once started, signs the moved head at each interval, and stops at stop()', async () => {
    const timers = new ManualTimers(clock);
    let signings = 0;
    const hsmCounted = async (): Promise<SoftHsm> => {
      signings++;
      return hsm;
    };
    const periodic = new AuditCheckpointer({ audit: store.audit, hsm: hsmCounted, keychainId: KEYCHAIN_ID, clock, timers, intervalMs: 60_000, log: silentLogger });
    await record(1, 2);
    periodic.start();
    await timers.advance(59_999);
    expect(signings).toBe(0);
    await timers.advance(1);
    expect(signings).toBe(1);
    await periodic.checkpoint(); // joins the signing the interval started; the head is then covered
    expect(signings).toBe(1);
    expect(store.audit.lastAuditCheckpoint()?.seq).toBe(2);
    await timers.advance(60_000); // the head has not moved: nothing to sign
    expect(signings).toBe(1);
    await record(3, 1);
    await timers.advance(60_000);
    expect(signings).toBe(2);
    await periodic.stop();
    expect(store.audit.lastAuditCheckpoint()?.seq).toBe(3);
    expect(timers.count).toBe(0);
  });

  it('keeps checkpoints append-only and in order', async () => {
    await record(1, 3);
    const cp = (await checkpointer().checkpoint())!;
    expect(codeOf(() => store.audit.appendAuditCheckpoint(cp))).toBe('STORAGE_ERROR');
    const db = new Database(file);
    expect(() => db.prepare('DELETE FROM audit_checkpoints').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE audit_checkpoints SET signed_at = 'x'").run()).toThrow(/append-only/);
    db.close();
  });

  it('an HSM that cannot sign leaves serving alone: the checkpoint is retried, not thrown', async () => {
    await record(1, 2);
    const failing = new AuditCheckpointer({ audit: store.audit, hsm: async () => { throw new Error('HSM unreachable'); }, keychainId: KEYCHAIN_ID, clock, timers: new ManualTimers(clock), intervalMs: 60_000, log: silentLogger });
    expect(await failing.checkpoint()).toBeNull();
    expect(failing.consecutiveFailures).toBe(1);
    expect(store.audit.lastAuditCheckpoint()).toBeNull();
  });
});
