/**
 * The keychain on its real parts: a SoftHSM2 token over PKCS#11 and a SQLite
 * file on disk. What the storage and HSM suites prove separately is proven
 * here together: the hierarchy, integrity of stored rows, and that no key
 * material reaches the database file or its WAL.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { makeSoftHsmFixture } from '../support/softhsm-fixture';
import { rejectionCode } from '../support/error-code';

type Fixture = Awaited<ReturnType<typeof makeSoftHsmFixture>>;

describe('keychain on SoftHSM2 and SQLite', () => {
  let token: Fixture;
  let dir: string;
  let dbPath: string;
  let hsm: HsmPort;
  let store: KeychainStore;
  let keychain: Keychain;

  beforeAll(async () => {
    // Every token must exist before the module first initialises (SoftHSM2 scans its folder once).
    token = await makeSoftHsmFixture('sr-keychain-it', { extraLabels: ['sr-stranger'] });
    dir = mkdtempSync(join(tmpdir(), 'strongroom-keychain-'));
    dbPath = join(dir, 'keychain.db');
    hsm = await token.open();
    store = openSqliteStore(dbPath);
    await initializeKeychain(store, hsm, systemClock, randomIds);
    keychain = new Keychain({ store, clock: systemClock });
    await keychain.unseal(hsm);
  });

  afterAll(async () => {
    keychain.seal();
    store.close();
    await hsm.close();
    await token.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, gets, rolls over, and still gets the old instance by its name', () => {
    const created = keychain.createKey({ fullName: 'hr/payroll', algorithm: 'AES-256' });
    const first = keychain.getKey({ fullName: 'hr/payroll' });
    expect(first.material).toHaveLength(32);
    expect(first.instance.name).toBe(created.key.currentInstance);

    const rolled = keychain.rollover('hr/payroll');
    expect(rolled.key.currentVersion).toBe(2);
    const second = keychain.getKey({ fullName: 'hr/payroll' });
    expect(second.instance.name).not.toBe(first.instance.name);
    expect(second.material.equals(first.material)).toBe(false);

    const old = keychain.getKey({ fullName: 'hr/payroll', instance: first.instance.name });
    expect(old.material.equals(first.material)).toBe(true);
    expect(old.instance.state).toBe('Deactivated');
    expect(old.instance.current).toBe(false);
    const byInstanceOnly = keychain.getKey({ instance: first.instance.name });
    expect(byInstanceOnly.key.fullName).toBe('hr/payroll');
  });

  it('refuses an instance name that belongs to another key', async () => {
    keychain.createKey({ fullName: 'hr/other', algorithm: 'AES-128' });
    const payroll = keychain.describeKey('hr/payroll');
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'hr/other', instance: payroll.key.currentInstance }))).toBe('INSTANCE_NOT_FOUND');
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'hr/missing' }))).toBe('KEY_NOT_FOUND');
    expect(await rejectionCode(() => keychain.createKey({ fullName: 'hr/payroll', algorithm: 'AES-256' }))).toBe('KEY_EXISTS');
  });

  it('writes none of the served key material into the database file or its WAL', () => {
    const served: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      keychain.createKey({ fullName: `scan/key-${i}`, algorithm: i % 2 ? 'AES-256' : 'HMAC-SHA512' });
      served.push(Buffer.from(keychain.getKey({ fullName: `scan/key-${i}` }).material));
    }
    const files = [dbPath, `${dbPath}-wal`].filter(existsSync).map((f) => readFileSync(f));
    expect(files.length).toBeGreaterThan(0);
    for (const material of served) {
      const needles = [material, Buffer.from(material.toString('hex')), Buffer.from(material.toString('base64')), Buffer.from(material.toString('base64url'))];
      for (const file of files) for (const needle of needles) expect(file.indexOf(needle)).toBe(-1);
    }
  });

  it('detects one flipped byte in one instance and keeps serving the others', async () => {
    keychain.createKey({ fullName: 'tamper/a', algorithm: 'AES-256' });
    keychain.createKey({ fullName: 'tamper/b', algorithm: 'AES-256' });
    const target = keychain.describeKey('tamper/a').key.currentInstance;
    const raw = new Database(dbPath);
    const row = raw.prepare('SELECT sealed_material FROM key_instances WHERE name = ?').get(target) as { sealed_material: Buffer };
    const altered = Buffer.from(row.sealed_material);
    altered[altered.length - 20] ^= 0x40;
    raw.prepare('UPDATE key_instances SET sealed_material = ? WHERE name = ?').run(altered, target);
    raw.close();

    expect(await rejectionCode(() => keychain.getKey({ fullName: 'tamper/a' }))).toBe('INTEGRITY_FAILURE');
    expect(keychain.getKey({ fullName: 'tamper/b' }).material).toHaveLength(32);
    expect(keychain.getKey({ fullName: 'hr/payroll' }).material).toHaveLength(32);
  });

  it('detects sealed material swapped between two instances', async () => {
    keychain.createKey({ fullName: 'swap/a', algorithm: 'AES-256' });
    keychain.createKey({ fullName: 'swap/b', algorithm: 'AES-256' });
    const a = keychain.describeKey('swap/a').key.currentInstance;
    const b = keychain.describeKey('swap/b').key.currentInstance;
    const raw = new Database(dbPath);
    const read = raw.prepare('SELECT sealed_material FROM key_instances WHERE name = ?');
    const sealedA = (read.get(a) as { sealed_material: Buffer }).sealed_material;
    const sealedB = (read.get(b) as { sealed_material: Buffer }).sealed_material;
    const write = raw.prepare('UPDATE key_instances SET sealed_material = ? WHERE name = ?');
    raw.transaction(() => {
      write.run(sealedB, a);
      write.run(sealedA, b);
    })();
    raw.close();
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'swap/a' }))).toBe('INTEGRITY_FAILURE');
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'swap/b' }))).toBe('INTEGRITY_FAILURE');
  });

  it('detects an old instance replayed as the current one of the same key', async () => {
    keychain.createKey({ fullName: 'replay/k', algorithm: 'AES-256' });
    const v1 = keychain.describeKey('replay/k').key.currentInstance;
    keychain.rollover('replay/k');
    const v2 = keychain.describeKey('replay/k').key.currentInstance;
    const raw = new Database(dbPath);
    const old = (raw.prepare('SELECT sealed_material FROM key_instances WHERE name = ?').get(v1) as { sealed_material: Buffer }).sealed_material;
    raw.prepare('UPDATE key_instances SET sealed_material = ? WHERE name = ?').run(old, v2);
    raw.close();
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'replay/k' }))).toBe('INTEGRITY_FAILURE');
    expect(keychain.getKey({ instance: v1 }).material).toHaveLength(32);
  });

  it('detects two keys whose names were swapped', async () => {
    keychain.createKey({ fullName: 'names/a', algorithm: 'AES-256' });
    keychain.createKey({ fullName: 'names/b', algorithm: 'AES-256' });
    const raw = new Database(dbPath);
    raw.transaction(() => {
      raw.prepare("UPDATE keys SET name = 'tmp' WHERE namespace = 'names' AND name = 'a'").run();
      raw.prepare("UPDATE keys SET name = 'a' WHERE namespace = 'names' AND name = 'b'").run();
      raw.prepare("UPDATE keys SET name = 'b' WHERE namespace = 'names' AND name = 'tmp'").run();
    })();
    raw.close();
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'names/a' }))).toBe('INTEGRITY_FAILURE');
    expect(await rejectionCode(() => keychain.describeKey('names/b'))).toBe('INTEGRITY_FAILURE');
  });

  it('detects the current pointer moved back to an old instance re-marked Active', async () => {
    keychain.createKey({ fullName: 'pointer/k', algorithm: 'AES-256' });
    const v1 = keychain.describeKey('pointer/k').key.currentInstance;
    keychain.rollover('pointer/k');
    const raw = new Database(dbPath);
    const oldId = (raw.prepare('SELECT id FROM key_instances WHERE name = ?').get(v1) as { id: string }).id;
    raw.prepare("UPDATE key_instances SET state = 'Active', deactivated_at = NULL WHERE id = ?").run(oldId);
    raw.prepare("UPDATE keys SET current_instance_id = ? WHERE namespace = 'pointer' AND name = 'k'").run(oldId);
    raw.close();
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'pointer/k' }))).toBe('INTEGRITY_FAILURE');
    expect(await rejectionCode(() => keychain.getKey({ instance: v1 }))).toBe('INTEGRITY_FAILURE');
  });

  it('detects two instances whose names were swapped', async () => {
    keychain.createKey({ fullName: 'inames/k', algorithm: 'AES-256' });
    const v1 = keychain.describeKey('inames/k').key.currentInstance;
    keychain.rollover('inames/k');
    const v2 = keychain.describeKey('inames/k').key.currentInstance;
    const raw = new Database(dbPath);
    raw.transaction(() => {
      raw.prepare("UPDATE key_instances SET name = 'tmp' WHERE name = ?").run(v1);
      raw.prepare('UPDATE key_instances SET name = ? WHERE name = ?').run(v1, v2);
      raw.prepare("UPDATE key_instances SET name = ? WHERE name = 'tmp'").run(v2);
    })();
    raw.close();
    expect(await rejectionCode(() => keychain.getKey({ instance: v1 }))).toBe('INTEGRITY_FAILURE');
    expect(await rejectionCode(() => keychain.getKey({ instance: v2 }))).toBe('INTEGRITY_FAILURE');
  });

  it('detects a changed usage mask or rollover policy', async () => {
    keychain.createKey({ fullName: 'attrs/k', algorithm: 'AES-256' });
    const raw = new Database(dbPath);
    raw.prepare("UPDATE keys SET usage_mask = 1023 WHERE namespace = 'attrs' AND name = 'k'").run();
    raw.close();
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'attrs/k' }))).toBe('INTEGRITY_FAILURE');
  });

  it('detects an alias moved to another key in the file', async () => {
    keychain.createKey({ fullName: 'alias/a', algorithm: 'AES-256' });
    keychain.createKey({ fullName: 'alias/b', algorithm: 'AES-256' });
    keychain.setAlias('alias/current', 'alias/a');
    const raw = new Database(dbPath);
    const b = (raw.prepare("SELECT id FROM keys WHERE namespace = 'alias' AND name = 'b'").get() as { id: string }).id;
    raw.prepare("UPDATE aliases SET key_id = ? WHERE alias = 'alias/current'").run(b);
    raw.close();
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'alias/current' }))).toBe('INTEGRITY_FAILURE');
  });

  it('refuses every key operation with SEALED once sealed, and works again after unseal', async () => {
    const other = new Keychain({ store, clock: systemClock });
    expect(await rejectionCode(() => other.getKey({ fullName: 'hr/payroll' }))).toBe('SEALED');
    expect(await rejectionCode(() => other.createKey({ fullName: 'x/y', algorithm: 'AES-256' }))).toBe('SEALED');
    expect(await rejectionCode(() => other.rollover('hr/payroll'))).toBe('SEALED');
    expect(await rejectionCode(() => other.listKeys())).toBe('SEALED');
    await other.unseal(hsm);
    expect(other.getKey({ fullName: 'hr/payroll' }).material).toHaveLength(32);
    other.seal();
    expect(await rejectionCode(() => other.getKey({ fullName: 'hr/payroll' }))).toBe('SEALED');
  });

  it('cannot be unsealed by another token', async () => {
    const strangerHsm = await token.open('sr-stranger');
    try {
      // First with no master key in the stranger token, then with one of its own.
      const fresh = new Keychain({ store, clock: systemClock });
      expect(await rejectionCode(() => fresh.unseal(strangerHsm))).toBe('MASTER_KEY_MISMATCH');
      await strangerHsm.generateMasterKey(1);
      expect(await rejectionCode(() => fresh.unseal(strangerHsm))).toBe('MASTER_KEY_MISMATCH');
      expect(fresh.isSealed).toBe(true);
    } finally {
      await strangerHsm.close();
    }
  });
});
