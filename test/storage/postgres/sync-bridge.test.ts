/**
 * The synchronous bridge to PostgreSQL (storage/postgres/sync-bridge.ts) and
 * its better-sqlite3-shaped facade against a real PostgreSQL 15
 * (test/support/postgres-fixture.ts): values round-trip with the types the
 * SQLite code expects, parameters bind as better-sqlite3 binds them,
 * transactions commit, roll back and nest, and failures come back as stable
 * codes: a unique violation, a COMMIT of a failed transaction, a server that
 * stops answering (SIGSTOP), a crashed server (every process SIGKILLed) and
 * its restart. Failure bounds are short (statementTimeoutMs) so the test is
 * quick; nothing waits on a timer for synchronisation.
 */
import { randomBytes } from 'node:crypto';
import { StorageError } from '../../../common/errors';
import { PgDatabase } from '../../../storage/postgres/statement-facade';
import { SyncBridge, SyncBridgeOptions } from '../../../storage/postgres/sync-bridge';
import { codeOf, NO_ERROR } from '../../support/error-code';
import { startTestPostgres, TestPostgres } from '../../support/postgres-fixture';

let pg: TestPostgres;
const open: SyncBridge[] = [];

function bridge(overrides: Partial<SyncBridgeOptions> = {}): SyncBridge {
  const b = SyncBridge.open({ target: pg.target, credentials: pg.credentials, applicationName: 'sync-bridge-test', ...overrides });
  open.push(b);
  return b;
}

beforeAll(async () => {
  pg = await startTestPostgres();
  await pg.sql('CREATE TABLE items (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, blob BYTEA, n BIGINT, flag INTEGER NOT NULL DEFAULT 0)');
}, 180_000);

afterEach(() => {
  pg?.resume();
  for (const b of open.splice(0)) b.close();
});

afterAll(async () => {
  await pg?.stop();
}, 60_000);

describe('values and parameters', () => {
  it('round-trips bytea, int8, booleans, numeric and NULL with the types the SQLite code expects', () => {
    const b = bridge();
    const bytes = Buffer.concat([Buffer.from([0, 0, 255]), randomBytes(61)]);
    const row = b.query(
      `SELECT $1::bytea AS blob, $2::int8 AS small, $3::int8 AS huge, true AS yes, count(*) AS c, 1.5::numeric AS num,
        NULL::text AS nothing, '2026-12-07T10:00:00Z'::timestamptz AS at`,
      [bytes, 42, '9007199254740993'],
    ).rows[0];
    expect(Buffer.isBuffer(row.blob)).toBe(true);
    expect((row.blob as Buffer).equals(bytes)).toBe(true);
    expect(row.small).toBe(42);
    expect(row.huge).toBe(9007199254740993n);
    expect(row.yes).toBe(true);
    expect(row.c).toBe(1);
    expect(row.num).toBe('1.5');
    expect(row.nothing).toBeNull();
    expect(typeof row.at).toBe('string');
  });

  it('binds @name (once per name), :name and ? as better-sqlite3 does, and quotes camelCase aliases', () => {
    const db = new PgDatabase(bridge());
    const insert = db.prepare('INSERT INTO items (id, name, blob, n, flag) VALUES (@id, @name, @blob, @n, @flag)');
    expect(insert.run({ id: 'p1', name: 'first', blob: Buffer.from('x'), n: 7, flag: 1, unused: 'ignored' }).changes).toBe(1);
    const byName = db.prepare('SELECT id AS itemId, n AS bigNumber FROM items WHERE name = :name OR id = :name');
    expect(byName.get({ name: 'first' })).toEqual({ itemId: 'p1', bigNumber: 7 });
    const positional = db.prepare('SELECT name FROM items WHERE id = ? AND n = ?').pluck();
    expect(positional.get('p1', 7)).toBe('first');
    expect(positional.get('p1', 8)).toBeUndefined();
    expect(db.prepare('SELECT id FROM items ORDER BY id').pluck().all()).toEqual(['p1']);
    expect(() => insert.run({ id: 'p2', name: 'second' })).toThrow(/missing named parameter "blob"/);
    expect(() => positional.get('p1')).toThrow(/expected 2 parameter/);
  });

  it('reads the SQLite idioms the keychain SQL uses: 0/1 as a CASE condition, @x IS NULL OR col = @x, LIMIT NULL, ON CONFLICT … excluded', () => {
    const db = new PgDatabase(bridge());
    const flagged = db.prepare('SELECT CASE WHEN @set THEN @value ELSE @old END AS v');
    expect(flagged.pluck().get({ set: 1, value: 'new', old: 'old' })).toBe('new');
    expect(flagged.pluck().get({ set: 0, value: 'new', old: 'old' })).toBe('old');
    db.prepare("INSERT INTO items (id, name) VALUES ('o1', 'optional')").run();
    // SQLite's order, a parameter first seen in IS NULL, is untypeable for PostgreSQL (42P08): a cast fixes it.
    expect(codeOf(() => db.prepare('SELECT id FROM items WHERE (@name IS NULL OR name = @name)').all({ name: null }))).toBe('STORAGE_ERROR');
    const filter = db.prepare('SELECT id FROM items WHERE (CAST(@name AS text) IS NULL OR name = @name) ORDER BY id LIMIT @limit').pluck();
    expect(filter.all({ name: 'optional', limit: null })).toEqual(['o1']);
    expect(filter.all({ name: null, limit: null }).length).toBeGreaterThanOrEqual(1);
    const upsert = db.prepare('INSERT INTO items (id, name, n) VALUES (@id, @name, @n) ON CONFLICT (id) DO UPDATE SET n = excluded.n');
    upsert.run({ id: 'o1', name: 'optional', n: 5 });
    expect(db.prepare('SELECT n FROM items WHERE id = ?').pluck().get('o1')).toBe(5);
  });
});

describe('transactions', () => {
  it('commits, rolls back, and undoes a savepoint without undoing the transaction around it', () => {
    const db = new PgDatabase(bridge());
    const insert = db.prepare('INSERT INTO items (id, name) VALUES (?, ?)');
    const count = db.prepare("SELECT count(*) FROM items WHERE id LIKE 't-%'").pluck();
    db.transaction(() => insert.run('t-1', 't-one'))();
    expect(count.get()).toBe(1);
    expect(codeOf(() => db.transaction(() => {
      insert.run('t-2', 't-two');
      throw new StorageError('KEY_EXISTS', 'stand-in for a capability refusal');
    })())).toBe('KEY_EXISTS');
    expect(count.get()).toBe(1);
    db.transaction(() => {
      insert.run('t-3', 't-three');
      expect(codeOf(() => db.transaction(() => {
        insert.run('t-4', 't-four');
        throw new StorageError('WRONG_STATE', 'undo the savepoint only');
      })())).toBe('WRONG_STATE');
    })();
    expect(db.prepare("SELECT id FROM items WHERE id LIKE 't-%' ORDER BY id").pluck().all()).toEqual(['t-1', 't-3']);
    expect(db.inTransaction).toBe(false);
  });

  it('maps a unique violation to STORAGE_ERROR with its SQLSTATE and constraint, never the row values', () => {
    const b = bridge();
    b.query("INSERT INTO items (id, name) VALUES ('u-1', 'unique-secret-name')");
    let caught: StorageError | undefined;
    try {
      b.query("INSERT INTO items (id, name) VALUES ('u-2', 'unique-secret-name')");
    } catch (err) {
      caught = err as StorageError;
    }
    expect(caught?.code).toBe('STORAGE_ERROR');
    expect(caught?.details).toMatchObject({ pgCode: '23505', constraint: 'items_name_key' });
    expect(JSON.stringify({ m: caught?.message, d: caught?.details })).not.toContain('unique-secret-name');
  });

  it('refuses a COMMIT of a transaction an earlier statement aborted (PostgreSQL answers ROLLBACK), and nothing of it is stored', () => {
    const b = bridge();
    b.begin(true);
    b.query("INSERT INTO items (id, name) VALUES ('c-1', 'commit-one')");
    expect(codeOf(() => b.query("INSERT INTO items (id, name) VALUES ('c-1', 'commit-dup')"))).toBe('STORAGE_ERROR');
    expect(codeOf(() => b.commit())).toBe('STORAGE_ERROR');
    expect(b.inTransaction).toBe(false);
    expect(b.query("SELECT count(*) AS n FROM items WHERE id = 'c-1'").rows[0].n).toBe(0);
  });

  it('a write transaction that cannot get the writer lock within its bound fails STORAGE_BUSY (at its first statement, which carries the BEGIN)', () => {
    const holder = bridge();
    const waiter = bridge({ writerLockTimeoutMs: 200 });
    holder.begin(true);
    holder.query('SELECT 1');
    waiter.begin(true);
    expect(codeOf(() => waiter.query('SELECT 1'))).toBe('STORAGE_BUSY');
    expect(waiter.inTransaction).toBe(false);
    holder.rollback();
    waiter.begin(true);
    waiter.query('SELECT 1');
    waiter.commit();
  });
});

describe('failures', () => {
  it('a bridge that goes quiet inside a write transaction loses it to idle_in_transaction_session_timeout, and the writer lock passes on', () => {
    const quiet = bridge({ idleInTransactionTimeoutMs: 300 });
    const next = bridge({ writerLockTimeoutMs: 30_000 });
    quiet.begin(true);
    quiet.query("INSERT INTO items (id, name) VALUES ('q-1', 'quiet-one')");
    // This thread now blocks in next's BEGIN: quiet is idle in its transaction until the server ends it.
    next.begin(true);
    next.query("INSERT INTO items (id, name) VALUES ('q-2', 'quiet-two')");
    next.commit();
    let lost: StorageError | undefined;
    try {
      quiet.query('SELECT 1');
    } catch (err) {
      lost = err as StorageError;
    }
    expect(lost?.code).toBe('STORAGE_UNAVAILABLE');
    expect(lost?.details.transactionLost).toBe(true);
    quiet.rollback();
    expect(quiet.query("SELECT id FROM items WHERE id LIKE 'q-%' ORDER BY id").rows.map((r) => r.id)).toEqual(['q-2']);
  });

  it('a server that stops answering (SIGSTOP) fails the call STORAGE_UNAVAILABLE within the bound; after it resumes the next call reconnects', () => {
    const b = bridge({ statementTimeoutMs: 1_000, connectTimeoutMs: 1_000 });
    expect(b.query('SELECT 1 AS one').rows[0].one).toBe(1);
    pg.pause();
    expect(codeOf(() => b.query('SELECT 2 AS two'))).toBe('STORAGE_UNAVAILABLE');
    pg.resume();
    expect(b.query('SELECT 3 AS three').rows[0].three).toBe(3);
  });

  it('a transaction whose connection is lost stays lost until rolled back: no statement runs on a new connection outside it', () => {
    const b = bridge({ statementTimeoutMs: 1_000, connectTimeoutMs: 1_000 });
    b.begin(true);
    b.query("INSERT INTO items (id, name) VALUES ('l-1', 'lost-one')");
    pg.pause();
    let first: StorageError | undefined;
    try {
      b.query("INSERT INTO items (id, name) VALUES ('l-2', 'lost-two')");
    } catch (err) {
      first = err as StorageError;
    }
    expect(first?.code).toBe('STORAGE_UNAVAILABLE');
    expect(first?.details.transactionLost).toBe(true);
    pg.resume();
    expect(codeOf(() => b.query("INSERT INTO items (id, name) VALUES ('l-3', 'lost-three')"))).toBe('STORAGE_UNAVAILABLE');
    expect(codeOf(() => b.commit())).toBe('STORAGE_UNAVAILABLE');
    expect(codeOf(() => b.rollback())).toBe(NO_ERROR);
    expect(b.query("SELECT count(*) AS n FROM items WHERE id LIKE 'l-%'").rows[0].n).toBe(0);
  });

  it('a COMMIT that gets no answer is STORAGE_COMMIT_UNKNOWN, never success or plain failure', () => {
    const b = bridge({ statementTimeoutMs: 1_000, connectTimeoutMs: 1_000 });
    b.begin(true);
    b.query("INSERT INTO items (id, name) VALUES ('k-1', 'commit-unknown')");
    pg.pause();
    expect(codeOf(() => b.commit())).toBe('STORAGE_COMMIT_UNKNOWN');
    expect(b.inTransaction).toBe(false);
    pg.resume();
    expect(b.query('SELECT 1 AS one').rows[0].one).toBe(1);
  });

  it('a crashed server (every process SIGKILLed) fails calls STORAGE_UNAVAILABLE while it is down; after a restart the next call works', async () => {
    const b = bridge({ statementTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
    b.query("INSERT INTO items (id, name) VALUES ('r-1', 'before-crash')");
    await pg.kill();
    expect(codeOf(() => b.query('SELECT 1'))).toBe('STORAGE_UNAVAILABLE');
    let down: StorageError | undefined;
    try {
      b.query('SELECT 1');
    } catch (err) {
      down = err as StorageError;
    }
    expect(down?.code).toBe('STORAGE_UNAVAILABLE');
    expect(down?.message).toMatch(/retry|reconnect/);
    await pg.start();
    expect(b.query("SELECT name FROM items WHERE id = 'r-1'").rows[0].name).toBe('before-crash');
  }, 120_000);
});
