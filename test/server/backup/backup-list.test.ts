/**
 * BackupList on a real appliance (SoftHSM2 token, SQLite keychain, mTLS),
 * through the one dispatcher: officers and auditors list, an app is
 * refused; each call is an audited read; backups the appliance made are
 * listed newest first with what their HSM-signed manifest says (made by an
 * officer's request, signed here, the keychain id, audit head and trust
 * counter BackupCreate answered), and a backup altered on disk stays in the
 * list with its code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestAppliance, TestAppliance } from '../../support/appliance-fixture';

interface Made {
  name: string;
  manifest: { keychainId: string; auditHead: { seq: number } | null; trustCounter: number | null; masterKeyVersions: number[]; trigger?: string; counts: { sealedInstances: number } };
}

interface Listing {
  backups: Array<{ name: string; manifest: Record<string, unknown> | null; error: { code: string } | null }>;
  total: number;
  otherFiles: number;
}

describe('BackupList', () => {
  let t: TestAppliance;
  const made: Made[] = [];

  beforeAll(async () => {
    t = await startTestAppliance();
    const officer = await t.connect(t.officer);
    expect((await officer.request('Create', { name: 'bl/one', algorithm: 'AES-256', usage: ['encrypt', 'decrypt'] })).error).toBeUndefined();
    for (let i = 0; i < 2; i++) {
      const answer = await officer.request('BackupCreate', {});
      expect(answer.error).toBeUndefined();
      made.push(answer.result as Made);
    }
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('lists the backups newest first for an officer, each as its signed manifest says', async () => {
    const answer = await (await t.connect(t.officer)).request('BackupList', {});
    expect(answer.error).toBeUndefined();
    const listing = answer.result as Listing;
    expect(listing.total).toBe(2);
    // Newest first: by the time in the name, and by modification time for two made in the same second.
    expect(listing.backups.map((b) => b.name)).toEqual([made[1].name, made[0].name]);
    const [newest] = made.slice(-1);
    expect(newest.manifest.trigger).toBe('request');
    expect(listing.backups[0]).toMatchObject({
      error: null,
      manifest: {
        keychainId: newest.manifest.keychainId,
        trigger: 'request',
        auditHeadSeq: newest.manifest.auditHead?.seq,
        trustCounter: newest.manifest.trustCounter,
        masterKeyVersions: newest.manifest.masterKeyVersions,
        sealedInstances: newest.manifest.counts.sealedInstances,
        signedHere: true,
      },
    });
  });

  it('answers an auditor, refuses an app (PERMISSION_DENIED), and records each call as an audited read', async () => {
    const auditor = t.issue('bl-auditor', 'auditor');
    const app = t.issue('bl-app', 'app');
    expect((await (await t.connect(auditor)).request('BackupList', {})).error).toBeUndefined();
    expect((await (await t.connect(app)).request('BackupList', {})).error).toMatchObject({ code: 'PERMISSION_DENIED' });
    const trail = t.appliance.store.audit.readAuditRecords(1, 100_000).map((r) => JSON.parse(r.event) as { operation?: string; identity?: { name: string } | null; result: string });
    const lists = trail.filter((e) => e.operation === 'BackupList').map((e) => [e.identity?.name, e.result]);
    expect(lists).toEqual(expect.arrayContaining([['bl-auditor', 'ok'], ['bl-app', 'PERMISSION_DENIED']]));
  });

  it('keeps a backup altered on disk in the list, with BACKUP_TAMPERED', async () => {
    const path = join(t.dataDir, 'backups', made[0].name);
    const bytes = readFileSync(path);
    const at = bytes.indexOf(made[0].manifest.keychainId);
    bytes[at] = bytes[at] === 0x61 ? 0x62 : 0x61;
    writeFileSync(path, bytes);
    const listing = (await (await t.connect(t.officer)).request('BackupList', {})).result as Listing;
    expect(listing.backups.find((b) => b.name === made[0].name)).toMatchObject({ manifest: null, error: { code: 'BACKUP_TAMPERED' } });
    expect(listing.backups.find((b) => b.name === made[1].name)).toMatchObject({ error: null });
  });
});
