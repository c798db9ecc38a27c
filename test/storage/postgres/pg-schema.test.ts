/**
 * The keychain schema on a real PostgreSQL 15 (storage/postgres/schema.sql.ts,
 * applied by pg-migrate.ts through the synchronous bridge), each database
 * fresh: it applies on an empty database; again, it is a no-op; a newer
 * recorded version is refused like SQLite's STORAGE_SCHEMA_TOO_NEW; a
 * database holding other tables is refused; a later upgrade applies once;
 * two nodes migrating at once create it once. Its shape is compared with a
 * SQLite file migrated by storage/migrations.ts: same tables, columns
 * (order, nullability, defaults, mapped types), indexes, and every text
 * column sorts bytewise (COLLATE "C").
 */
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { waitFor } from '../../../scripts/cluster/bounded-wait';
import { StorageError } from '../../../common/errors';
import { MIGRATIONS, latestVersion } from '../../../storage/migrations';
import { assertPgSchemaCurrent, latestPgVersion, migratePostgres, PG_UPGRADES, PgUpgrade } from '../../../storage/postgres/pg-migrate';
import { PG_SCHEMA_VERSION } from '../../../storage/postgres/schema.sql';
import { SyncBridge } from '../../../storage/postgres/sync-bridge';
import { codeOf, NO_ERROR } from '../../support/error-code';
import { freshDatabase, migratedSqlite } from '../../support/pg-schema-support';
import { startTestPostgres, TestPostgres } from '../../support/postgres-fixture';

let pg: TestPostgres;
const opened: SyncBridge[] = [];

beforeAll(async () => {
  pg = await startTestPostgres();
}, 180_000);

afterEach(() => {
  for (const b of opened.splice(0)) b.close();
});

afterAll(async () => {
  await pg?.stop();
}, 60_000);

/** The version this code builds: the base script's plus its upgrades (22: the audit signers). */
const LATEST = latestPgVersion();
/** What a fresh database gets: the base schema, then every upgrade. */
const CREATED = ['schema', ...PG_UPGRADES.map((u) => u.version)];

const rows = (b: SyncBridge, sql: string, params: unknown[] = []): Array<Record<string, unknown>> => b.query(sql, params).rows;
const versionOf = (b: SyncBridge): unknown => rows(b, 'SELECT version, applied_at FROM schema_version')[0];

/** Catalog facts that any write would change: tables, columns, indexes, triggers. */
const catalog = (b: SyncBridge): unknown =>
  rows(
    b,
    `SELECT (SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, ordinal_position) FROM information_schema.columns WHERE table_schema = 'public') AS columns,
            (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public') AS indexes,
            (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal) AS triggers`,
  )[0];

const MIGRATE_WORKER = resolve(__dirname, '../../../dist/test/support/pg-migrate-worker.js');

/** migratePostgres in a thread of its own (a bridge blocks its thread: two racing nodes need two). */
function migrateInWorker(options: object): Promise<{ applied: unknown[] }> {
  return new Promise((res, rej) => {
    const worker = new Worker(MIGRATE_WORKER, { workerData: options });
    worker.once('message', (reply: { ok: boolean; result?: { applied: unknown[] }; code?: string; message?: string }) => {
      if (reply.ok && reply.result !== undefined) res(reply.result);
      else rej(new Error(`${reply.code}: ${reply.message}`));
    });
    worker.once('error', rej);
    worker.once('exit', (code) => rej(new Error(`migration thread exited (${code}) without an answer`)));
  });
}

describe('applying the schema', () => {
  it('is numbered as SQLite\'s latest migration, base script and upgrades together', () => {
    expect(PG_SCHEMA_VERSION).toBe(21);
    expect(LATEST).toBe(latestVersion(MIGRATIONS));
  });

  it('applies on an empty database, recording the version; applying again changes nothing', async () => {
    const b = await freshDatabase(pg, opened);
    const first = migratePostgres(b);
    expect(first).toEqual({ from: null, version: LATEST, applied: CREATED });
    const recorded = versionOf(b);
    expect(recorded).toEqual({ version: LATEST, applied_at: expect.any(String) });
    const before = catalog(b);
    expect(rows(b, 'SELECT counter FROM keychain_changes')).toEqual([{ counter: 0 }]);

    expect(migratePostgres(b)).toEqual({ from: LATEST, version: LATEST, applied: [] });
    expect(versionOf(b)).toEqual(recorded);
    expect(catalog(b)).toEqual(before);
    expect(b.inTransaction).toBe(false);
  }, 60_000);

  it('refuses a database whose recorded version is newer, and leaves it as it was', async () => {
    const b = await freshDatabase(pg, opened);
    migratePostgres(b);
    b.query('UPDATE schema_version SET version = $1', [LATEST + 1]);
    const before = catalog(b);
    let error: unknown;
    try {
      migratePostgres(b);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('STORAGE_SCHEMA_TOO_NEW');
    expect((error as StorageError).details).toEqual({ schemaVersion: LATEST + 1, knownVersion: LATEST });
    expect(b.inTransaction).toBe(false);
    expect(catalog(b)).toEqual(before);
  }, 60_000);

  it('refuses a database that holds other tables but no schema version, and creates nothing in it', async () => {
    const b = await freshDatabase(pg, opened);
    b.query('CREATE TABLE somebody_elses (id integer)');
    expect(codeOf(() => migratePostgres(b))).toBe('STORAGE_ERROR');
    expect(rows(b, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")).toEqual([{ n: 1 }]);
    expect(rows(b, "SELECT count(*) AS n FROM pg_proc WHERE proname = 'json_valid'")).toEqual([{ n: 0 }]);
  }, 60_000);

  it('applies a later upgrade once, in the same kind of transaction, and refuses upgrades numbered out of order', async () => {
    const b = await freshDatabase(pg, opened);
    migratePostgres(b);
    const next: PgUpgrade = { version: LATEST + 1, description: 'a column for the test', sql: 'ALTER TABLE keys ADD COLUMN test_note text; CREATE INDEX keys_by_test_note ON keys (test_note);' };
    const upgrades = [...PG_UPGRADES, next];
    expect(migratePostgres(b, { upgrades })).toEqual({ from: LATEST, version: LATEST + 1, applied: [LATEST + 1] });
    expect(versionOf(b)).toEqual({ version: LATEST + 1, applied_at: expect.any(String) });
    expect(migratePostgres(b, { upgrades }).applied).toEqual([]);
    // The code without the upgrade now meets a newer database.
    expect(codeOf(() => migratePostgres(b))).toBe('STORAGE_SCHEMA_TOO_NEW');
    expect(codeOf(() => migratePostgres(b, { upgrades: [...PG_UPGRADES, { ...next, version: LATEST + 2 }] }))).toBe('INTERNAL_ERROR');
  }, 60_000);

  it('upgrades a keychain made at the base version (21) to the latest: the audit signers table, journaled', async () => {
    const b = await freshDatabase(pg, opened);
    expect(migratePostgres(b, { upgrades: [] })).toMatchObject({ version: PG_SCHEMA_VERSION, applied: ['schema'] });
    expect(rows(b, "SELECT to_regclass('audit_signers') IS NULL AS absent")).toEqual([{ absent: true }]);
    expect(migratePostgres(b)).toEqual({ from: PG_SCHEMA_VERSION, version: LATEST, applied: PG_UPGRADES.map((u) => u.version) });
    b.begin(true);
    b.query("INSERT INTO audit_signers (fingerprint, public_key, node, added_at, added_by, row_mac) VALUES ('F', 'P', 'n', 't', 'root', '\\x01')");
    expect(rows(b, 'SELECT tbl, old_mac, new_mac FROM trust_journal')).toEqual([{ tbl: 'audit_signers', old_mac: null, new_mac: Buffer.from([1]) }]);
    b.rollback();
  }, 60_000);

  it('is created once when two nodes migrate at once: the second waits for the writer lock, then finds it made', async () => {
    const name = `schema_race_${process.pid}`;
    await pg.sql(`CREATE DATABASE ${name}`);
    const options = { target: pg.target, credentials: { ...pg.credentials, database: name }, applicationName: 'pg-migrate-race', writerLockTimeoutMs: 60_000, statementTimeoutMs: 60_000 };
    // Hold the writer lock so that both migrations are waiting before either starts.
    const holder = SyncBridge.open(options);
    opened.push(holder);
    holder.begin(true);
    // BEGIN (and its lock) goes with the transaction's first statement.
    holder.query('SELECT 1');
    const nodes = [0, 1].map(() => migrateInWorker(options));
    const waiting = async (): Promise<true | undefined> => {
      const [row] = await pg.sql("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
      return row.n === 2 ? true : undefined;
    };
    await waitFor('both migrations to wait for the writer lock', waiting, { timeoutMs: 30_000, intervalMs: 50 });
    holder.rollback();
    const results = await Promise.all(nodes);
    expect(results.map((r) => r.applied).sort()).toEqual([[], CREATED]);
    const b = SyncBridge.open(options);
    opened.push(b);
    expect(rows(b, 'SELECT version FROM schema_version')).toEqual([{ version: LATEST }]);
  }, 90_000);

  it('lets a node that must not migrate check the schema is exactly current, in a read transaction', async () => {
    const b = await freshDatabase(pg, opened);
    expect(codeOf(() => assertPgSchemaCurrent(b))).toBe('STORAGE_ERROR');
    migratePostgres(b);
    expect(codeOf(() => assertPgSchemaCurrent(b))).toBe(NO_ERROR);
    const next: PgUpgrade = { version: LATEST + 1, description: 'later', sql: 'SELECT 1' };
    expect(codeOf(() => assertPgSchemaCurrent(b, [...PG_UPGRADES, next]))).toBe('STORAGE_ERROR');
    b.query('UPDATE schema_version SET version = $1', [LATEST + 1]);
    expect(codeOf(() => assertPgSchemaCurrent(b))).toBe('STORAGE_SCHEMA_TOO_NEW');
    expect(b.inTransaction).toBe(false);
  }, 60_000);

  it('undoes the whole schema when a statement of it fails: nothing is half-made', async () => {
    const b = await freshDatabase(pg, opened);
    const broken: PgUpgrade = { version: PG_SCHEMA_VERSION + 1, description: 'fails', sql: 'ALTER TABLE no_such_table ADD COLUMN x text' };
    expect(codeOf(() => migratePostgres(b, { upgrades: [broken] }))).toBe('STORAGE_ERROR');
    expect(rows(b, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")).toEqual([{ n: 0 }]);
    expect(codeOf(() => migratePostgres(b))).toBe(NO_ERROR);
  }, 60_000);
});

describe('the schema\'s shape, against a SQLite file migrated by storage/migrations.ts', () => {
  const TYPE_MAP: Record<string, readonly string[]> = { TEXT: ['text'], BLOB: ['bytea'], INTEGER: ['integer', 'bigint'] };

  it('has SQLite\'s tables and columns in SQLite\'s order, with the same nullability and defaults, types mapped', async () => {
    const b = await freshDatabase(pg, opened);
    migratePostgres(b);
    const lite = migratedSqlite();
    try {
      const tables = lite.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
      const pgTables = rows(b, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version' ORDER BY tablename").map((r) => r.tablename);
      expect(pgTables).toEqual(tables);
      for (const table of tables) {
        const liteColumns = lite.db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>;
        const pgColumns = rows(b, 'SELECT column_name, data_type, is_nullable, column_default, is_identity FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position', ['public', table]);
        expect(pgColumns.map((c) => c.column_name)).toEqual(liteColumns.map((c) => c.name));
        liteColumns.forEach((c, i) => {
          const p = pgColumns[i];
          expect([table, c.name, TYPE_MAP[c.type].includes(p.data_type as string)]).toEqual([table, c.name, true]);
          // SQLite's INTEGER PRIMARY KEY is the rowid: never null, whatever PRAGMA says.
          expect([table, c.name, p.is_nullable === 'NO']).toEqual([table, c.name, c.notnull === 1 || c.pk > 0]);
          expect([table, c.name, p.column_default !== null || p.is_identity === 'YES']).toEqual([table, c.name, c.dflt_value !== null || (table === 'trust_journal' && c.name === 'seq')]);
        });
      }
    } finally {
      lite.close();
    }
  }, 60_000);

  it('has SQLite\'s named indexes on the same columns, in the same order (the due-work indexes: date, then id)', async () => {
    const b = await freshDatabase(pg, opened);
    migratePostgres(b);
    const lite = migratedSqlite();
    try {
      const named = lite.db.prepare("SELECT name, tbl_name AS tbl FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all() as Array<{ name: string; tbl: string }>;
      for (const { name, tbl } of named) {
        const liteCols = (lite.db.prepare(`PRAGMA index_info(${name})`).all() as Array<{ name: string }>).map((c) => c.name);
        const pgIndex = rows(b, 'SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = $2', ['public', name])[0];
        expect([name, pgIndex?.tablename]).toEqual([name, tbl]);
        const cols = /\(([^)]*)\)/.exec(pgIndex.indexdef as string)?.[1].split(',').map((s) => s.trim());
        expect([name, cols]).toEqual([name, liteCols]);
        const litePartial = / WHERE /i.test(lite.db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck().get(name) as string);
        expect([name, / WHERE /.test(pgIndex.indexdef as string)]).toEqual([name, litePartial]);
      }
    } finally {
      lite.close();
    }
  }, 60_000);

  it('sorts and compares every text column bytewise, whatever the database default', async () => {
    const b = await freshDatabase(pg, opened);
    migratePostgres(b);
    const notC = rows(b, "SELECT table_name, column_name, collation_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'");
    expect(notC).toEqual([]);
  }, 60_000);
});
