/**
 * Targeted cache invalidation on a real SQLite file (domain/keychain-changes.ts,
 * storage/own-changes.ts): this process's own commits drop only the cache
 * entries of the keys they touched, and never leave a stale one; anything
 * else (a second connection to the same file, as the local CLI is; a
 * transaction that was undone; a seal) drops everything. The keychain runs
 * as the server runs it (pollOnly: others' changes are looked for by poll()).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { KeychainChanges } from '../../domain/keychain-changes';
import { initializeKeychain } from '../../domain/keychain-key';
import { KeyRows } from '../../domain/keys/key-rows';
import { LifecycleService } from '../../domain/lifecycle-service';
import { PolicyIndex } from '../../domain/policy/policy-index';
import { ClientIdentity } from '../../domain/policy/identity';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';

const zeroed = (b: Buffer): boolean => b.every((byte) => byte === 0);
const app: ClientIdentity = { name: 'app1', role: 'app', groups: [], fingerprint256: 'f', subject: 'CN=app1' };

describe('cache invalidation by what changed', () => {
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
  let dir: string;
  let dbPath: string;
  let hsm: SoftHsm;
  let store: KeychainStore;
  let keychain: Keychain;
  let lifecycle: LifecycleService;
  /** Store reads of key rows by name: a Get served from the row cache makes none. */
  let keyReads: jest.SpyInstance;

  const rows = (): KeyRows => (keychain as unknown as { rows: KeyRows }).rows;
  /** The material Buffer the opened cache holds for `fullName`'s current instance (after two Gets). */
  function cachedMaterial(fullName: string): Buffer {
    const first = keychain.getKey({ fullName });
    const again = keychain.getKey({ fullName });
    first.material.fill(0);
    again.material.fill(0);
    const held = rows().openedMaterial.heldMaterial();
    const mine = held.find((b) => b.equals(keychain.getKey({ fullName }).material));
    if (mine === undefined) throw new Error(`no cached material for ${fullName}`);
    return mine;
  }
  /** Whether a Get of `fullName` now is served from the row cache (no store read of its key row). */
  function servedFromCache(fullName: string): boolean {
    keyReads.mockClear();
    keychain.getKey({ fullName }).material.fill(0);
    return keyReads.mock.calls.length === 0;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-changes-'));
    dbPath = join(dir, 'keychain.db');
    hsm = new SoftHsm();
    store = openSqliteStore(dbPath);
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    keychain.changes.pollOnly();
    lifecycle = new LifecycleService(keychain, clock);
    for (const name of ['app/a', 'app/b', 'app/c']) keychain.createKey({ fullName: name, algorithm: 'AES-256' });
    keyReads = jest.spyOn(store, 'getKeyByName');
  });

  afterEach(() => {
    keyReads.mockRestore();
    keychain.seal();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a rollover of A keeps B cached, and A\'s next Get serves its new current instance', () => {
    const heldB = cachedMaterial('app/b');
    const heldA = cachedMaterial('app/a');
    const before = keychain.getKey({ fullName: 'app/a' });
    before.material.fill(0);
    keychain.rollover('app/a');
    expect(zeroed(heldA)).toBe(true);
    expect(zeroed(heldB)).toBe(false);
    expect(servedFromCache('app/b')).toBe(true);
    const after = keychain.getKey({ fullName: 'app/a' });
    after.material.fill(0);
    expect(after.instance.version).toBe(before.instance.version + 1);
    expect(after.instance.name).not.toBe(before.instance.name);
  });

  it('a sweep-like batch of rollovers drops exactly its keys', () => {
    const heldB = cachedMaterial('app/b');
    cachedMaterial('app/a');
    cachedMaterial('app/c');
    keychain.transaction(() => {
      keychain.rollover('app/a');
      keychain.rollover('app/c');
    }, { batch: true });
    expect(zeroed(heldB)).toBe(false);
    expect(servedFromCache('app/b')).toBe(true);
    expect(servedFromCache('app/a')).toBe(false);
    expect(servedFromCache('app/c')).toBe(false);
    expect(keychain.getKey({ fullName: 'app/c' }).instance.version).toBe(2);
  });

  it('a revoke and a destroy by this process drop their key\'s entries, and only those', () => {
    const heldA = cachedMaterial('app/a');
    cachedMaterial('app/b');
    lifecycle.revoke({ fullName: 'app/a' }, 'cessationOfOperation');
    expect(zeroed(heldA)).toBe(true);
    expect(keychain.describeInstance({ fullName: 'app/a' }).state).toBe('Deactivated');
    expect(servedFromCache('app/b')).toBe(true);
    lifecycle.destroy({ fullName: 'app/a' });
    expect(keychain.describeInstance({ fullName: 'app/a' }).state).toBe('Destroyed');
    expect(servedFromCache('app/b')).toBe(true);
  });

  it('a grant change by this process rebuilds the policy index at once and keeps the key rows cached', () => {
    const policy = new PolicyIndex(keychain.directory, keychain.changes.directoryStamp);
    cachedMaterial('app/b');
    expect(policy.allows(app, 'get', 'app/b')).toBe(false);
    keychain.directory.putGrant({ id: 'g1', subjectKind: 'client', subject: 'app1', pattern: 'app/*', permissions: ['get'], createdAt: '2026-05-01T00:00:00.000Z', createdBy: 'test' });
    expect(policy.allows(app, 'get', 'app/b')).toBe(true);
    expect(servedFromCache('app/b')).toBe(true);
    keychain.directory.deleteGrant('g1');
    expect(policy.allows(app, 'get', 'app/b')).toBe(false);
  });

  describe('another connection to the same file (as the local CLI is)', () => {
    let other: KeychainStore;
    let otherKeychain: Keychain;

    beforeEach(async () => {
      other = openSqliteStore(dbPath);
      otherKeychain = new Keychain({ store: other, clock });
      await otherKeychain.unseal(hsm);
    });

    afterEach(() => {
      otherKeychain.seal();
      other.close();
    });

    it('drops everything at the next poll, and A\'s next Get serves the instance the other wrote', () => {
      const heldB = cachedMaterial('app/b');
      cachedMaterial('app/a');
      otherKeychain.rollover('app/a');
      expect(keychain.changes.poll()).toBe(true);
      expect(zeroed(heldB)).toBe(true);
      expect(servedFromCache('app/b')).toBe(false);
      expect(keychain.getKey({ fullName: 'app/a' }).instance.version).toBe(2);
      expect(keychain.changes.poll()).toBe(false);
    });

    it('is never taken for our own: an own commit after a foreign one, before any poll, drops everything', () => {
      const heldB = cachedMaterial('app/b');
      cachedMaterial('app/a');
      otherKeychain.rollover('app/a');
      keychain.rollover('app/c');
      expect(zeroed(heldB)).toBe(true);
      expect(keychain.getKey({ fullName: 'app/a' }).instance.version).toBe(2);
    });

    it('a grant the other writes reaches the policy index at the next poll', () => {
      const policy = new PolicyIndex(keychain.directory, keychain.changes.directoryStamp);
      expect(policy.allows(app, 'get', 'app/b')).toBe(false);
      otherKeychain.directory.putGrant({ id: 'g2', subjectKind: 'client', subject: 'app1', pattern: '*', permissions: ['get'], createdAt: '2026-05-01T00:00:00.000Z', createdBy: 'test' });
      keychain.changes.poll();
      expect(policy.allows(app, 'get', 'app/b')).toBe(true);
    });
  });

  it('a transaction that is undone leaves no row it wrote in the cache', () => {
    const before = keychain.getKey({ fullName: 'app/a' });
    before.material.fill(0);
    expect(() =>
      keychain.transaction(() => {
        keychain.rollover('app/a');
        // Looked up (and cached) inside the transaction: the row it sees is about to be undone.
        keychain.getKey({ fullName: 'app/a' }).material.fill(0);
        throw new Error('undo');
      }),
    ).toThrow('undo');
    const after = keychain.getKey({ fullName: 'app/a' });
    after.material.fill(0);
    expect(after.instance.name).toBe(before.instance.name);
    expect(after.instance.version).toBe(1);
  });

  it('without poll-only (the local CLI), a poll inside an undone transaction does not hide a later commit of another process', () => {
    // Looking at every lookup, as a keychain does unless the server set poll-only.
    const changes = new KeychainChanges(store);
    let inside = '';
    expect(() =>
      store.transaction(() => {
        keychain.rollover('app/a'); // moves the change counter, uncommitted
        inside = changes.keysStamp(); // a lookup inside: it reads that uncommitted counter
        throw new Error('undo');
      }),
    ).toThrow('undo');
    // Another process's commit moves the counter to the value the undone transaction had shown.
    const other = new Database(dbPath);
    try {
      other.prepare('UPDATE keychain_changes SET counter = counter + 1 WHERE id = 1').run();
    } finally {
      other.close();
    }
    // Before 219bc16 this stamp stayed `inside`: the foreign commit passed for the undone one, and caches kept rows it changed.
    expect(changes.keysStamp()).not.toBe(inside);
  });

  it('a seal drops everything and zeroes every opened material', () => {
    const held = [cachedMaterial('app/a'), cachedMaterial('app/b')];
    const stamp = keychain.changes.directoryStamp();
    keychain.seal();
    expect(held.every(zeroed)).toBe(true);
    expect(rows().openedMaterial.size).toBe(0);
    expect(rows().resolvedCount).toBe(0);
    expect(keychain.changes.directoryStamp()).not.toBe(stamp);
  });
});

describe('cache invalidation on a store that reports nothing of what it touched (memory)', () => {
  it('drops everything at every own commit, at once, even when only polled', async () => {
    const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    const keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    keychain.changes.pollOnly();
    keychain.createKey({ fullName: 'app/a', algorithm: 'AES-256' });
    const policy = new PolicyIndex(keychain.directory, keychain.changes.directoryStamp);
    keychain.getKey({ fullName: 'app/a' }).material.fill(0);
    expect(policy.allows(app, 'get', 'app/a')).toBe(false);
    keychain.rollover('app/a');
    keychain.directory.putGrant({ id: 'g1', subjectKind: 'client', subject: 'app1', pattern: '*', permissions: ['get'], createdAt: '2026-05-01T00:00:00.000Z', createdBy: 'test' });
    const after = keychain.getKey({ fullName: 'app/a' });
    after.material.fill(0);
    expect(after.instance.version).toBe(2);
    expect(policy.allows(app, 'get', 'app/a')).toBe(true);
    keychain.seal();
  });
});
