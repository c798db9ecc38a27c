/**
 * `backup restore` end to end on a real appliance (SoftHSM2 token, SQLite
 * keychain, mTLS): BackupRestore is dual-controlled (one officer alone only
 * stores a request), verified in full before the request is stored, staged
 * at execution, and put in place when the server restarts; the old keys
 * come back with their material, the audit trail verifies and records the
 * restore, the replaced keychain is kept. Refusals each with their own
 * code before anything changes: a tampered file, a foreign signer, an older
 * backup not chosen, a file replaced after approval.
 */
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';

interface Made {
  name: string;
  sha256: string;
}

describe('backup restore', () => {
  let t: TestAppliance;
  let holder: Credentials;
  const backups = (): string => join(t.dataDir, 'backups');

  beforeAll(async () => {
    // No timed checkpoint between two steps of a test: what is "older" is decided by the steps alone.
    t = await startTestAppliance({ audit_checkpoint_interval_ms: '3600000' });
    holder = t.issue('restore-holder', 'app');
    const officer = await t.connect(t.officer);
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'restore-holder', pattern: 'rs/*', permissions: ['get'] }))).state).toBe('executed');
  });

  afterAll(async () => {
    await t?.stop();
  });

  async function officer(): Promise<RawConnection> {
    return t.connect(t.officer);
  }

  async function backup(): Promise<Made> {
    const answer = await (await officer()).request('BackupCreate', {});
    expect(answer.error).toBeUndefined();
    return answer.result as Made;
  }

  async function material(name: string): Promise<string> {
    const answer = await (await t.connect(holder)).request('Get', { name });
    if (answer.error) throw new Error(`${answer.error.code}: ${answer.error.message}`);
    return (answer.result as { material: string }).material;
  }

  /** Resolves with the action that ends approval request `id` (executed or failed), told by the appliance's event bus. */
  function settled(id: string): Promise<string> {
    return new Promise((resolve) => {
      const stop = t.server.services.events.subscribe((event) => {
        const e = event as { kind?: string; action?: string; requestId?: string };
        if (e.kind === 'approval' && e.requestId === id && (e.action === 'executed' || e.action === 'failed')) {
          stop();
          resolve(e.action);
        }
      });
    });
  }

  /** Requests the restore, has two other officers approve it, waits for the staging, restarts. */
  async function restore(args: Record<string, unknown>): Promise<{ keptAs: string }> {
    const requested = await (await officer()).request('BackupRestore', args);
    expect(requested.error?.code).toBe('APPROVAL_REQUIRED');
    const approved = await t.approve(requested);
    expect(approved.error).toBeNull();
    // The restore runs on (the file copied, verified again and staged) after the quorum's answer.
    expect(['executing', 'executed']).toContain(approved.state);
    const staged = await t.server.restartRequested;
    // Until the restart, nothing more changes in the keychain being replaced.
    expect((await (await officer()).request('Create', { name: 'rs/too-late', algorithm: 'AES-256' })).error?.code).toBe('SEALED');
    await t.restart();
    return { keptAs: staged.keptAs };
  }

  function restoredEvents(): Array<Record<string, unknown>> {
    const events: Array<Record<string, unknown>> = [];
    const { audit } = t.appliance.store;
    for (let from = 1; ; from += 1000) {
      const records = audit.readAuditRecords(from, 1000);
      for (const r of records) {
        const event = JSON.parse(r.event) as Record<string, unknown>;
        if (event.type === 'backup-restored') events.push(event);
      }
      if (records.length < 1000) return events;
    }
  }

  it('puts the backup back: its keys and material return, later keys are gone, the trail verifies and records the restore; one officer alone cannot', async () => {
    const conn = await officer();
    expect((await conn.request('Create', { name: 'rs/kept', algorithm: 'AES-256' })).error).toBeUndefined();
    const kept = await material('rs/kept');
    const made = await backup();
    expect((await conn.request('Create', { name: 'rs/later', algorithm: 'AES-256' })).error).toBeUndefined();

    // One officer alone only stores a request: nothing is restored, nothing is sealed.
    const alone = await conn.request('BackupRestore', { name: made.name });
    expect(alone.error?.code).toBe('APPROVAL_REQUIRED');
    const pending = await conn.request('ApprovalGet', { id: (alone.error!.details as { requestId: string }).requestId });
    // Approvers see what they approve: the file's hash, keychain, audit head and trust counter.
    expect(JSON.stringify(pending.result)).toContain(made.sha256);
    expect(JSON.stringify(pending.result)).toContain('trustCounter');
    // Signed by this appliance's own key: no other key is trusted for the restored trail.
    expect(JSON.stringify(pending.result)).toContain('"signedHere":true');
    expect(await material('rs/later')).toBeTruthy();
    expect((await conn.request('ApprovalCancel', { id: (alone.error!.details as { requestId: string }).requestId })).error).toBeUndefined();

    const { keptAs } = await restore({ name: made.name });
    expect(existsSync(keptAs)).toBe(true);
    expect(existsSync(join(t.dataDir, 'restore-in-progress.json'))).toBe(false);

    expect(await material('rs/kept')).toBe(kept);
    expect((await (await t.connect(holder)).request('Get', { name: 'rs/later' })).error?.code).toBe('KEY_NOT_FOUND');
    const verified = await (await officer()).request('AuditVerify', {});
    expect(verified.error).toBeUndefined();
    expect(verified.result).toMatchObject({ ok: true });
    const [event] = restoredEvents();
    expect(event).toMatchObject({ result: 'ok', custom: expect.objectContaining({ name: made.name, sha256: made.sha256, older: 'false', signerFingerprint: expect.stringMatching(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/) }) });
    const custom = event.custom as Record<string, string>;
    expect(Number(custom.restoredCounter)).toBeGreaterThan(Number(custom.replacedCounter));
    expect(Number(custom.replacedHeadSeq)).toBeGreaterThan(Number(custom.restoredHeadSeq));
  });

  it('refuses a tampered backup and a foreign signer before any request is stored', async () => {
    const made = await backup();
    const bytes = readFileSync(join(backups(), made.name));
    bytes[bytes.length - 100] ^= 0x01;
    const tampered = 'backup-20200101T000000Z-0000000a.srbk';
    writeFileSync(join(backups(), tampered), bytes);
    const conn = await officer();
    expect((await conn.request('BackupRestore', { name: tampered })).error?.code).toBe('BACKUP_TAMPERED');
    const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect((await conn.request('BackupRestore', { name: made.name, signerKey: foreign })).error?.code).toBe('BACKUP_FOREIGN_SIGNER');
    expect((await conn.request('BackupRestore', { name: 'backup-20200101T000000Z-0000000b.srbk' })).error?.code).toBe('BACKUP_NOT_FOUND');
    const list = await conn.request('ApprovalList', {});
    expect(JSON.stringify(list.result)).not.toContain('BackupRestore');
  });

  it('refuses an older backup unless chosen, then restores it on purpose and records that', async () => {
    const early = await backup();
    expect((await (await officer()).request('Create', { name: 'rs/after-early', algorithm: 'AES-256' })).error).toBeUndefined();
    // A restart signs a checkpoint and anchors the later state in the token.
    await t.restart();
    expect((await (await officer()).request('BackupRestore', { name: early.name })).error?.code).toBe('BACKUP_OLDER_THAN_CURRENT');
    await restore({ name: early.name, allowOlder: true });
    expect((await (await t.connect(holder)).request('Get', { name: 'rs/after-early' })).error?.code).toBe('KEY_NOT_FOUND');
    expect(restoredEvents().at(-1)).toMatchObject({ result: 'ok', custom: expect.objectContaining({ name: early.name, older: 'true' }) });
    // The replaced keychain is kept, and it is the older copy now: the token's anchor is above it.
    expect(readdirSync(t.dataDir).filter((f) => f.includes('.pre-restore-')).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses at execution a file replaced after the request was stored (APPROVAL_TARGET_CHANGED), and nothing changes', async () => {
    const first = await backup();
    const second = await backup();
    const conn = await officer();
    const requested = await conn.request('BackupRestore', { name: first.name });
    expect(requested.error?.code).toBe('APPROVAL_REQUIRED');
    copyFileSync(join(backups(), second.name), join(backups(), first.name));
    const id = (requested.error!.details as { requestId: string }).requestId;
    const ended = settled(id);
    await t.approve(requested);
    expect(await ended).toBe('failed');
    const request = ((await conn.request('ApprovalGet', { id })).result as { request: { error: { code: string } } }).request;
    expect(request.error.code).toBe('APPROVAL_TARGET_CHANGED');
    expect((await conn.request('Create', { name: 'rs/still-serving', algorithm: 'AES-256' })).error).toBeUndefined();
    expect(readdirSync(t.dataDir).filter((f) => f.includes('.restore-'))).toEqual([]);
  });

  it('refuses at execution a backup with a row edited in place (its MAC kept): INTEGRITY_FAILURE before the swap, nothing changes', async () => {
    // The attack: an officer with the file raises an app to officer in place; the row keeps its MAC, so the set-hash (and so backup and verify) still match.
    const db = new Database(join(t.dataDir, 'keychain.db'));
    const forge = (role: string): void => void db.prepare('UPDATE clients SET role = ? WHERE name = ?').run(role, 'restore-holder');
    let made: Made;
    try {
      forge('officer');
      made = await backup();
    } finally {
      forge('app');
      db.close();
    }
    const conn = await officer();
    const requested = await conn.request('BackupRestore', { name: made.name });
    expect(requested.error?.code).toBe('APPROVAL_REQUIRED');
    const id = (requested.error!.details as { requestId: string }).requestId;
    const ended = settled(id);
    await t.approve(requested);
    expect(await ended).toBe('failed');
    const request = ((await conn.request('ApprovalGet', { id })).result as { request: { error: { code: string; message: string } } }).request;
    expect(request.error.code).toBe('INTEGRITY_FAILURE');
    expect(request.error.message).toContain('restore-holder');
    expect((await conn.request('Create', { name: 'rs/after-forged', algorithm: 'AES-256' })).error).toBeUndefined();
    expect(readdirSync(t.dataDir).filter((f) => f.includes('.restore-'))).toEqual([]);
  });

  it('retention never deletes a backup that a pending restore request names, and does once the request ends', async () => {
    await t.restart({ backup_retention: '1' });
    const conn = await officer();
    const named = await backup();
    const requested = await conn.request('BackupRestore', { name: named.name });
    expect(requested.error?.code).toBe('APPROVAL_REQUIRED');
    await backup();
    await backup();
    expect(existsSync(join(backups(), named.name))).toBe(true);
    expect((await conn.request('ApprovalCancel', { id: (requested.error!.details as { requestId: string }).requestId })).error).toBeUndefined();
    const last = await backup();
    expect(readdirSync(backups()).filter((f) => f.endsWith('.srbk'))).toEqual([last.name]);
  });
});
