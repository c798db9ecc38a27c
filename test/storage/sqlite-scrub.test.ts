/**
 * Dropped sealed material must not stay findable in the SQLite files.
 * secure_delete zeroes the old cell in the page; but in WAL mode the frames
 * that held the old page stay in the -wal file after a PASSIVE checkpoint
 * (SQLite reuses, not truncates, the log), so the store runs a TRUNCATE
 * checkpoint after the outermost commit of a transaction that dropped
 * material. These tests scan the raw bytes of the database and its -wal
 * while the store is still open (no help from the checkpoint on close), with
 * a control that the pattern was there before the drop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { instance, key, material, T2, rowMac } from './store-fixtures';

const PATTERN = material('k1-i1'); // the 64-byte sealed material of instance k1-i1

function findable(file: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const f of [file, `${file}-wal`]) {
    out[path.basename(f)] = fs.existsSync(f) && fs.readFileSync(f).includes(PATTERN);
  }
  return out;
}

function drop(store: KeychainStore): void {
  store.updateInstanceState({ instanceId: 'k1-i1', state: 'Destroyed', rowMac: rowMac('change'), destroyedAt: T2, dropMaterial: true });
}

describe('SqliteStore secure deletion of dropped material', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strongroom-scrub-'));
    file = path.join(dir, 'keychain.db');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function seed(store: KeychainStore): void {
    store.createKey(key('k1', 'hr', 'payroll'), instance('k1', 1));
    for (let i = 2; i <= 20; i++) store.createKey(key(`k${i}`, 'hr', `other-${i}`), instance(`k${i}`, 1));
  }

  it('scrubs material that was only in the WAL', () => {
    const store = openSqliteStore(file);
    seed(store);
    expect(findable(file)).toEqual({ 'keychain.db': false, 'keychain.db-wal': true }); // control
    drop(store);
    expect(findable(file)).toEqual({ 'keychain.db': false, 'keychain.db-wal': false });
    expect(store.getInstanceById('k1-i1')?.sealedMaterial).toBeNull();
    expect(store.getInstanceById('k2-i1')?.sealedMaterial).toEqual(material('k2-i1'));
    store.close();
    expect(findable(file)).toEqual({ 'keychain.db': false, 'keychain.db-wal': false });
  });

  it('scrubs material already checkpointed into the database file', () => {
    const first = openSqliteStore(file);
    seed(first);
    first.close();
    const store = openSqliteStore(file);
    expect(findable(file)['keychain.db']).toBe(true); // control
    drop(store);
    store.updateInstanceState({ instanceId: 'k2-i1', state: 'Deactivated', rowMac: rowMac('change') }); // later writes reuse the WAL
    expect(findable(file)).toEqual({ 'keychain.db': false, 'keychain.db-wal': false });
    store.close();
  });

  it('scrubs after the outer commit when the drop is inside a transaction', () => {
    const store = openSqliteStore(file);
    seed(store);
    store.transaction(() => {
      drop(store);
      store.createKey(key('k99', 'hr', 'late'), instance('k99', 1));
    });
    expect(findable(file)).toEqual({ 'keychain.db': false, 'keychain.db-wal': false });
    store.close();
  });

  it('keeps the material when the dropping transaction rolls back', () => {
    const store = openSqliteStore(file);
    seed(store);
    expect(() =>
      store.transaction(() => {
        drop(store);
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(store.getInstanceById('k1-i1')?.sealedMaterial).toEqual(PATTERN);
    store.close();
  });
});
