/**
 * The SQLite keychain store: the shared conformance suites on a real file in a
 * fresh temporary folder, then what only SQLite has (pragmas, migrations, file
 * modes, corruption, a full disk). Secure deletion is in sqlite-scrub.test.ts.
 */
import { DEFAULT_BUSY_POLICY } from '../../storage/sqlite-busy';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, runMigrations } from '../../storage/migrations';
import { SQL } from '../../storage/sqlite-rows';
import { openSqliteStore } from '../../storage/sqlite-store';
import { describeKeychainStoreConformance } from './keychain-store-conformance';
import { codeOf, instance, key, meta, wrapped, rowMac } from './store-fixtures';

function tempDir(): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strongroom-sqlite-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describeKeychainStoreConformance('SqliteStore', () => {
  const { dir, cleanup } = tempDir();
  const store = openSqliteStore(path.join(dir, 'keychain.db'));
  return { store, cleanup: () => (store.close(), cleanup()) };
});

describe('SqliteStore (SQLite only)', () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    file = path.join(dir, 'keychain.db');
  });
  afterEach(() => cleanup());

  it('puts the pragmas in effect: WAL, synchronous FULL, foreign keys, secure delete', () => {
    const store = openSqliteStore(file);
    // A second connection sees the persistent journal mode; the others are
    // per-connection, so read them through the store's own connection.
    const db = (store as unknown as { connection: { db: Database.Database } }).connection.db;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('secure_delete', { simple: true })).toBe(1);
    // One slice of the write-lock wait: BUSY_ATTEMPTS of them make the 5 s bound (storage/sqlite-busy.ts).
    expect(db.pragma('busy_timeout', { simple: true })).toBe(DEFAULT_BUSY_POLICY.sliceMs);
    expect(DEFAULT_BUSY_POLICY.sliceMs * DEFAULT_BUSY_POLICY.attempts).toBe(5000);
    store.close();
  });

  it('commits a transaction durable with its audit event at synchronous NORMAL, and every other one, and what follows, at FULL', () => {
    const store = openSqliteStore(file);
    const db = (store as unknown as { connection: { db: Database.Database } }).connection.db;
    const synchronous = (): unknown => db.pragma('synchronous', { simple: true });
    store.initialize(meta(), wrapped(1));
    // Without an fsync of its own: the audit event that follows it flushes the one WAL file (TransactionOptions).
    expect(store.transaction(() => (store.createKey(key('k1', 'hr', 'a'), instance('k1', 1)), synchronous()), { durableWithAuditEvent: true })).toBe(1);
    expect(synchronous()).toBe(2);
    expect(store.getKeyByName('hr', 'a')?.id).toBe('k1');
    expect(store.transaction(() => synchronous())).toBe(2);
    // Nested, it is a savepoint of a transaction that fsyncs its own commit: the outermost decides.
    expect(store.transaction(() => store.transaction(() => synchronous(), { durableWithAuditEvent: true }))).toBe(2);
    // A body that throws is undone, and FULL is back for the next commit.
    expect(() =>
      store.transaction(() => {
        store.createKey(key('k2', 'hr', 'b'), instance('k2', 1));
        throw new Error('undone');
      }, { durableWithAuditEvent: true }),
    ).toThrow('undone');
    expect(synchronous()).toBe(2);
    expect(store.getKeyByName('hr', 'b')).toBeNull();
    store.close();
  });

  it("reads each sweep's due list in index order, stopping at the limit: no sort of every due row per batch", () => {
    const store = openSqliteStore(file);
    const db = (store as unknown as { connection: { db: Database.Database } }).connection.db;
    // 100,000 keys due at one midnight made every batch of a sweep sort them all (a temporary B-tree) before its LIMIT.
    for (const query of ['listDue', 'listDueDestructions', 'listDueProcessStops', 'listDueActivations'] as const) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${SQL[query]}`).all('2026-01-01T00:00:00.000Z', 100) as Array<{ detail: string }>).map((row) => row.detail);
      expect({ query, plan }).toEqual({ query, plan: [expect.stringMatching(/^SEARCH \S+ USING (COVERING )?INDEX /)] });
    }
    store.close();
  });

  it('creates the database, -wal and -shm with mode 0600', () => {
    const store = openSqliteStore(file);
    store.initialize(meta(), wrapped(1));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      expect({ f: path.basename(f), mode: fs.statSync(f).mode & 0o777 }).toEqual({ f: path.basename(f), mode: 0o600 });
    }
    store.close();
  });

  it('records the schema version and does not re-run migrations on re-open', () => {
    const first = openSqliteStore(file);
    first.createKey(key('k1', 'hr', 'payroll'), instance('k1', 1));
    first.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    raw.close();
    const again = openSqliteStore(file); // migration 1 would fail on existing tables
    expect(again.getKeyByName('hr', 'payroll')?.id).toBe('k1');
    again.close();
  });

  it('applies only the migrations above the recorded version, each once', () => {
    const db = new Database(file);
    const up2 = jest.fn((d: Database.Database) => d.exec('CREATE TABLE extra (x INTEGER) STRICT'));
    const next = MIGRATIONS.length + 1;
    const list = [...MIGRATIONS, { version: next, description: 'extra', up: up2 }];
    expect(runMigrations(db, MIGRATIONS)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(runMigrations(db, list)).toEqual([next]);
    expect(runMigrations(db, list)).toEqual([]);
    expect(up2).toHaveBeenCalledTimes(1);
    expect(db.pragma('user_version', { simple: true })).toBe(next);
    db.close();
  });

  it('rolls back a failing migration with its version bump', () => {
    const db = new Database(file);
    const bad = { version: MIGRATIONS.length + 1, description: 'half', up: (d: Database.Database) => d.exec('CREATE TABLE half (x); SELECT nope FROM missing') };
    expect(() => runMigrations(db, [...MIGRATIONS, bad])).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a database whose schema is newer than this code with STORAGE_SCHEMA_TOO_NEW', () => {
    openSqliteStore(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(codeOf(() => openSqliteStore(file))).toBe('STORAGE_SCHEMA_TOO_NEW');
    expect(codeOf(() => openSqliteStore(file, { readonly: true }))).toBe('STORAGE_SCHEMA_TOO_NEW');
  });

  it('reports a file of garbage bytes as STORAGE_CORRUPT and leaves it alone', () => {
    const garbage = Buffer.alloc(8192, 0x5a);
    fs.writeFileSync(file, garbage);
    expect(codeOf(() => openSqliteStore(file))).toBe('STORAGE_CORRUPT');
    expect(fs.readFileSync(file).equals(garbage)).toBe(true);
  });

  it('opens a second, read-only connection next to a writer', () => {
    const writer = openSqliteStore(file);
    writer.initialize(meta(), wrapped(1));
    const reader = openSqliteStore(file, { readonly: true });
    writer.createKey(key('k1', 'hr', 'payroll'), instance('k1', 1));
    expect(reader.getMeta()).toEqual(meta());
    expect(reader.countKeys()).toBe(1);
    expect(reader.transaction(() => reader.getKeyById('k1')?.name)).toBe('payroll');
    expect(codeOf(() => reader.putWrappedKeychainKey(wrapped(2)))).toBe('STORAGE_ERROR');
    reader.close();
    writer.close();
    const late = openSqliteStore(file, { readonly: true }); // writer gone, WAL checkpointed away
    expect(late.countKeys()).toBe(1);
    late.close();
  });

  it('refuses a read-only open of a missing file without creating it', () => {
    expect(codeOf(() => openSqliteStore(file, { readonly: true }))).toBe('STORAGE_ERROR');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('reports a full disk as STORAGE_FULL, writes nothing, and keeps working', () => {
    openSqliteStore(file).close();
    const pages = fs.statSync(file).size / 4096;
    const store = openSqliteStore(file, { maxPageCount: pages + 2 });
    store.initialize(meta(), wrapped(1));
    const big = (i: number) => ({ ...key(`k${i}`, 'bulk', `key-${i}`), description: 'x'.repeat(3000) });
    let code = '';
    let i = 0;
    for (; i < 100 && code === ''; i++) {
      try {
        store.createKey(big(i), instance(`k${i}`, 1));
      } catch (err) {
        code = (err as { code: string }).code;
      }
    }
    expect(code).toBe('STORAGE_FULL');
    const failed = i - 1;
    expect(failed).toBeGreaterThan(0);
    expect(store.getKeyById(`k${failed}`)).toBeNull();
    expect(store.getInstanceById(`k${failed}-i1`)).toBeNull();
    expect(store.countKeys()).toBe(failed);
    expect(store.getMeta()).toEqual(meta());
    store.updateInstanceState({ instanceId: 'k0-i1', state: 'Deactivated', rowMac: rowMac('change') }); // an in-place write still fits
    expect(store.getInstanceById('k0-i1')?.state).toBe('Deactivated');
    store.close();
  });
});
