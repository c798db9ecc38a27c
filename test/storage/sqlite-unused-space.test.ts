/**
 * secure_delete is not enough: copies of moved cells survive in the unused
 * space of rebuilt b-tree pages, and a destroyed instance's sealed material
 * with them (storage/sqlite-unused-space.ts). The first test shows the SQLite
 * fact on a plain connection (the control: without the zeroing, destroyed
 * bytes are found), then that the zeroing removes them and changes nothing
 * SQLite reads. The second drives the keychain store itself through the same
 * kind of churn: after every destruction, neither the file nor its WAL holds
 * any destroyed material. Both are seeded, so a run is the same every time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import * as unusedSpace from '../../storage/sqlite-unused-space';
import { zeroUnusedSpace } from '../../storage/sqlite-unused-space';
import { instance, key, material, pointer, rowMac, T1, T2 } from './store-fixtures';

/** A small seeded generator (mulberry32): the same churn, so the same pages, every run. */
function seeded(seed: number): { next(): number; below(n: number): number; bytes(n: number): Buffer } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    below: (n) => Math.floor(next() * n),
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
  };
}

function occurrences(bytes: Buffer, needle: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) count++;
  return count;
}

/** How often each needle occurs in `bytes`, in one pass (needles of at least 8 bytes, found by their first 8). */
function countAll(bytes: Buffer, needles: readonly Buffer[]): number[] {
  const byPrefix = new Map<bigint, number[]>();
  needles.forEach((needle, i) => {
    const prefix = needle.readBigUInt64BE(0);
    byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), i]);
  });
  const counts = needles.map(() => 0);
  for (let at = 0; at + 8 <= bytes.length; at++) {
    const candidates = byPrefix.get(bytes.readBigUInt64BE(at));
    if (candidates === undefined) continue;
    for (const i of candidates) if (bytes.subarray(at, at + needles[i].length).equals(needles[i])) counts[i]++;
  }
  return counts;
}

function filesOf(file: string): Buffer[] {
  return [file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));
}

describe('unused space of SQLite pages', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strongroom-unused-space-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps copies of destroyed cells that secure_delete misses, and zeroing the unused space removes them and nothing else', () => {
    const file = path.join(dir, 'plain.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('secure_delete = ON');
    db.exec('CREATE TABLE k (id TEXT PRIMARY KEY, state TEXT, sealed BLOB, note TEXT, mac BLOB)');
    const random = seeded(14); // a seed whose churn leaves two destroyed cells behind without the zeroing
    const alive = new Map<string, Buffer>();
    const destroyed: Buffer[] = [];
    const insert = db.prepare('INSERT INTO k VALUES (?, ?, ?, ?, ?)');
    const grow = db.prepare('UPDATE k SET note = ?, mac = ? WHERE id = ?');
    const destroy = db.prepare("UPDATE k SET sealed = NULL, state = 'Destroyed' WHERE id = ?");
    const pick = (): string => [...alive.keys()][random.below(alive.size)];
    for (let round = 0; round < 3000; round++) {
      const id = random.bytes(10).toString('hex');
      const sealed = random.bytes(60);
      alive.set(id, sealed);
      insert.run(id, 'Active', sealed, 'x'.repeat(random.below(50)), random.bytes(32));
      for (let j = 0; j < 2; j++) if (random.next() < 0.5) grow.run('y'.repeat(random.below(400)), random.bytes(32), pick());
      if (random.next() < 0.2) {
        const gone = pick();
        destroy.run(gone);
        destroyed.push(alive.get(gone) as Buffer);
        alive.delete(gone);
      }
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    const rowsBefore = db.prepare('SELECT * FROM k ORDER BY id').all();
    const before = fs.readFileSync(file);
    // The control: secure_delete and a TRUNCATE checkpoint leave destroyed material in the file.
    expect(destroyed.filter((s) => before.includes(s)).length).toBeGreaterThan(0);

    db.exec('BEGIN IMMEDIATE');
    const scrub = zeroUnusedSpace(db);
    db.pragma('shrink_memory');
    db.exec('COMMIT');

    const after = fs.readFileSync(file);
    expect(scrub.pagesSkipped).toBe(0);
    expect(scrub.pagesZeroed).toBeGreaterThan(0);
    expect(destroyed.filter((s) => after.includes(s))).toEqual([]);
    for (const sealed of alive.values()) expect(occurrences(after, sealed)).toBe(1);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT * FROM k ORDER BY id').all()).toEqual(rowsBefore);
    // A second pass finds nothing left to zero.
    db.exec('BEGIN IMMEDIATE');
    expect(zeroUnusedSpace(db).bytesZeroed).toBe(0);
    db.exec('COMMIT');
    // A fresh connection reads the same rows.
    db.close();
    const again = new Database(file, { readonly: true });
    try {
      expect(again.prepare('SELECT * FROM k ORDER BY id').all()).toEqual(rowsBefore);
    } finally {
      again.close();
    }
  });

  it('the keychain store leaves no destroyed material in the file or its WAL, through churn that moves cells', () => {
    const file = path.join(dir, 'keychain.db');
    const store: KeychainStore = openSqliteStore(file);
    const random = seeded(7); // without the zeroing, a live cell has a second copy by round 983
    const versions = new Map<string, number>();
    const destroyed: Array<{ id: string; sealed: Buffer }> = [];
    const gone = new Set<string>();
    /** The file and WAL scanned: destroyed instances found there, live instances found other than once. */
    const copiesLeft = (): { destroyedFound: string[]; liveCopies: string[] } => {
      const live = [...versions].flatMap(([keyId, last]) => Array.from({ length: last }, (_, v) => `${keyId}-i${v + 1}`)).filter((id) => !gone.has(id));
      const [main, wal = Buffer.alloc(0)] = filesOf(file);
      const needles = [...destroyed.map((d) => d.sealed), ...live.map((id) => material(id))];
      const counts = countAll(Buffer.concat([main, wal]), needles);
      return {
        destroyedFound: destroyed.filter((_, i) => counts[i] > 0).map((d) => d.id),
        liveCopies: live.map((id, i) => ({ id, n: counts[destroyed.length + i] })).filter(({ n }) => n !== 1).map(({ id, n }) => `${id} x${n}`),
      };
    };
    try {
      for (let round = 0; round < 1500; round++) {
        const keyId = `k${round}`;
        store.createKey(key(keyId, 'churn', `key-${round}`), instance(keyId, 1));
        versions.set(keyId, 1);
        if (round > 0 && random.next() < 0.5) {
          // A rollover of an earlier key: a new instance, the old one deactivated (a longer row).
          const rolled = `k${random.below(round)}`;
          const version = (versions.get(rolled) as number) + 1;
          versions.set(rolled, version);
          store.addCurrentInstance(instance(rolled, version), pointer(`${T1}-${round}`), {
            instanceId: `${rolled}-i${version - 1}`,
            state: 'Deactivated',
            deactivatedAt: T1,
            rowMac: rowMac(`deactivated-${rolled}-${version}`),
          });
        }
        const live = (): string | null => {
          const keyOf = `k${random.below(round + 1)}`;
          const id = `${keyOf}-i${1 + random.below(versions.get(keyOf) as number)}`;
          return gone.has(id) ? null : id;
        };
        const stopped = live();
        if (stopped !== null && random.next() < 0.4) {
          // Usage stop dates set on an instance: its row grows, and cells around it move.
          store.updateInstanceState({ instanceId: stopped, state: 'Active', protectStopAt: T2, processStopAt: T2, rowMac: rowMac(`stopped-${stopped}-${round}`) });
        }
        const compromised = live();
        if (compromised !== null && random.next() < 0.2) {
          store.updateInstanceState({ instanceId: compromised, state: 'Compromised', revocationReason: 'keyCompromise', compromisedAt: T2, compromiseOccurredAt: T1, rowMac: rowMac(`compromised-${compromised}-${round}`) });
        }
        const id = live();
        if (id !== null && random.next() < 0.15) {
          const row = store.getInstanceById(id);
          store.updateInstanceState({ instanceId: id, state: 'Destroyed', destroyedAt: T2, rowMac: rowMac(`destroyed-${id}`), dropMaterial: true });
          destroyed.push({ id, sealed: row?.sealedMaterial as Buffer });
          gone.add(id);
          // Right after a destruction (checked in full every 20th; the scrub has just emptied the WAL): no destroyed material, and no second copy of a live one either.
          if (destroyed.length % 20 === 0) expect({ round, ...copiesLeft() }).toEqual({ round, destroyedFound: [], liveCopies: [] });
        }
      }
      expect(destroyed.length).toBeGreaterThan(100);
      // Everything not destroyed still reads back as written.
      for (const [keyId, last] of versions) {
        for (let v = 1; v <= last; v++) {
          const id = `${keyId}-i${v}`;
          expect(store.getInstanceById(id)?.sealedMaterial ?? null).toEqual(gone.has(id) ? null : material(id));
        }
      }
    } finally {
      store.close();
    }
    const files = filesOf(file);
    expect(destroyed.filter((d) => files.some((bytes) => bytes.includes(d.sealed))).map((d) => d.id)).toEqual([]);
  });

  it('leaves alone a page the WAL holds an image of (another connection wrote it after the checkpoint)', () => {
    const file = path.join(dir, 'wal.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('secure_delete = ON');
    db.exec('CREATE TABLE k (id INTEGER PRIMARY KEY, sealed BLOB, note TEXT)');
    const random = seeded(3);
    const insert = db.prepare('INSERT INTO k (sealed, note) VALUES (?, ?)');
    for (let i = 0; i < 2000; i++) insert.run(random.bytes(60), 'x'.repeat(random.below(300)));
    const grow = db.prepare('UPDATE k SET note = ? WHERE id = ?');
    for (let i = 0; i < 3000; i++) grow.run('y'.repeat(random.below(400)), 1 + random.below(2000));
    db.pragma('wal_checkpoint(TRUNCATE)');
    // Another connection writes after the checkpoint: its pages are in the WAL, and its WAL images are what readers see.
    const other = new Database(file);
    other.prepare('UPDATE k SET note = ? WHERE id = 1').run('z'.repeat(10));
    other.close();
    const walBefore = fs.readFileSync(`${file}-wal`);
    const rowsBefore = db.prepare('SELECT * FROM k ORDER BY id').all();
    db.exec('BEGIN IMMEDIATE');
    const scrub = zeroUnusedSpace(db);
    db.pragma('shrink_memory');
    db.exec('COMMIT');
    expect(scrub.pagesInWal).toBeGreaterThan(0);
    expect(scrub.pagesZeroed).toBeGreaterThan(0);
    expect(fs.readFileSync(`${file}-wal`).equals(walBefore)).toBe(true);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT * FROM k ORDER BY id').all()).toEqual(rowsBefore);
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT * FROM k ORDER BY id').all()).toEqual(rowsBefore);
    db.close();
  });

  it('a hold (a destroying sweep) keeps emptying the WAL at each drop and walks the file once, at the release', () => {
    const file = path.join(dir, 'held.db');
    const store = openSqliteStore(file);
    const walk = jest.spyOn(unusedSpace, 'zeroUnusedSpace');
    try {
      for (let i = 0; i < 6; i++) store.createKey(key(`h${i}`, 'held', `key-${i}`), instance(`h${i}`, 1));
      walk.mockClear();
      if (store.holdUnusedSpaceZeroing === undefined) throw new Error('the SQLite store offers the hold');
      const release = store.holdUnusedSpaceZeroing();
      for (let i = 0; i < 5; i++) {
        store.updateInstanceState({ instanceId: `h${i}-i1`, state: 'Destroyed', destroyedAt: T2, rowMac: rowMac(`held-${i}`), dropMaterial: true });
        expect(fs.statSync(`${file}-wal`).size).toBe(0); // the WAL is still emptied at once
      }
      expect(walk).not.toHaveBeenCalled();
      release();
      expect(walk).toHaveBeenCalledTimes(1);
      release(); // a second call is a no-op
      expect(walk).toHaveBeenCalledTimes(1);
      // Released: a drop walks at once again.
      store.updateInstanceState({ instanceId: 'h5-i1', state: 'Destroyed', destroyedAt: T2, rowMac: rowMac('held-5'), dropMaterial: true });
      expect(walk).toHaveBeenCalledTimes(2);
      const bytes = fs.readFileSync(file);
      for (let i = 0; i < 6; i++) expect(bytes.includes(material(`h${i}-i1`))).toBe(false);
    } finally {
      walk.mockRestore();
      store.close();
    }
  });
});
