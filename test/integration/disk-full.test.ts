/**
 * A full disk on a real appliance (SoftHSM2 token, SQLite keychain, mTLS),
 * on small tmpfs file systems the test mounts: the keychain's, and
 * backup_dir's.
 *
 * Keychain disk full: every request is refused STORAGE_FULL with what to do
 * (reads too: every request is audited before it is answered, and the trail
 * cannot grow), promptly (the audit worker fails closed, it does not hang);
 * nothing is half-written; once space is freed the same requests are served
 * and the audit chain and the database are intact.
 *
 * backup_dir full: the backup is refused STORAGE_FULL, leaves no partial
 * file, and the keychain keeps serving meanwhile.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { mountSmallDisk, SmallDisk } from '../support/small-disk';

describe('a full disk', () => {
  let keychainDisk: SmallDisk;
  let backupDisk: SmallDisk;
  let t: TestAppliance;
  let officer: RawConnection;
  let reader: RawConnection;
  let auditor: RawConnection;

  beforeAll(async () => {
    keychainDisk = mountSmallDisk(8);
    backupDisk = mountSmallDisk(2);
    t = await startTestAppliance({ keychain_path: join(keychainDisk.dir, 'keychain.db'), backup_dir: join(backupDisk.dir, 'backups') });
    officer = await t.connect(t.officer);
    for (const name of ['app/k0', 'app/k1', 'app/k2']) expect((await officer.request('Create', { name })).error).toBeUndefined();
    const readerCredentials = t.issue('reader', 'app');
    await t.approve(await officer.request('PolicyGrant', { client: 'reader', pattern: 'app/*', permissions: ['get'] }));
    reader = await t.connect(readerCredentials);
    auditor = await t.connect(t.issue('auditor', 'auditor'));
  });

  afterAll(async () => {
    await t?.stop();
    keychainDisk?.unmount();
    backupDisk?.unmount();
  });

  async function material(name: string): Promise<string> {
    const res = await reader.request('Get', { name });
    expect(res.error).toBeUndefined();
    return (res.result as { material: string }).material;
  }

  it('of the keychain refuses every request STORAGE_FULL, saying what to do, and serves again once space is freed', async () => {
    const before = await material('app/k1');
    expect(keychainDisk.fill()).toBeGreaterThan(0);

    for (const [client, op, args] of [
      [officer, 'Create', { name: 'app/while-full' }],
      [officer, 'ReKey', { name: 'app/k2' }],
      [officer, 'BackupCreate', {}],
      [reader, 'Get', { name: 'app/k1' }],
    ] as const) {
      const res = await client.request(op, args);
      expect({ op, code: res.error?.code }).toEqual({ op, code: 'STORAGE_FULL' });
      expect(res.error?.message).toMatch(/disk holding the keychain is full.*nothing was changed; free space/);
      expect(res.result).toBeUndefined();
    }

    keychainDisk.free();
    // Nothing of the refused requests was half-done: the name is free, k2 still has one instance.
    expect((await officer.request('Create', { name: 'app/while-full' })).error).toBeUndefined();
    const k2 = await officer.request('GetAttributes', { name: 'app/k2' });
    expect((k2.result as { instances: Array<{ version: number }> }).instances.map((i) => i.version)).toEqual([1]);
    expect(await material('app/k1')).toBe(before);
    const verified = await auditor.request('AuditVerify', {});
    expect(verified.error).toBeUndefined();
    expect(verified.result).toMatchObject({ ok: true });
    const db = new Database(join(keychainDisk.dir, 'keychain.db'), { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      // The refused Create left no event (no half-written intent): the name has the events of one Create, as k0 has.
      const events = (db.prepare('SELECT event FROM audit_events').pluck().all() as string[]).map((e) => JSON.parse(e) as { operation?: string; key?: string; result?: string });
      const creates = (key: string) => events.filter((e) => e.key === key && e.operation === 'Create').map((e) => e.result);
      expect(creates('app/while-full')).toEqual(creates('app/k0'));
      expect(creates('app/k0').length).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('of backup_dir refuses the backup STORAGE_FULL, leaves no partial file, and the keychain keeps serving', async () => {
    const backups = join(backupDisk.dir, 'backups');
    const kept = readdirSync(backups).sort(); // what the schedule has made so far
    expect(backupDisk.fill()).toBeGreaterThan(0);
    const refused = await officer.request('BackupCreate', {});
    expect(refused.error?.code).toBe('STORAGE_FULL');
    expect(refused.error?.message).toMatch(/backup could not be written to backup_dir.*no backup was made/);
    expect(readdirSync(backups).sort()).toEqual(kept); // no partial (dot-named) file either
    await material('app/k0'); // other clients are served meanwhile
    expect((await officer.request('Create', { name: 'app/while-backup-full' })).error).toBeUndefined();

    backupDisk.free();
    const made = await officer.request('BackupCreate', {});
    expect(made.error).toBeUndefined();
    expect(readdirSync(backups).sort()).toEqual([...kept, (made.result as { name: string }).name].sort());
  });
});
