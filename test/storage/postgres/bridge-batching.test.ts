/**
 * Fewer round trips through the synchronous bridge (storage/postgres/sync-bridge.ts),
 * on a real PostgreSQL 15: a transaction's BEGIN goes with its first
 * statement, deferred writes and savepoints go with the next exchange (at
 * the latest the COMMIT), and `queries` sends several statements at once;
 * each exchange is a time the calling thread (the appliance's event loop)
 * blocks. Counted here: the exchanges the bridge makes (its one blocking
 * post-and-wait), and what the server stored.
 *
 * The guarantees stay: a deferred write that fails fails the exchange it
 * rode in with its own code (and says it was deferred), a COMMIT it rode
 * with does not run and the transaction is rolled back, nothing of it is
 * stored, and the bridge serves the next transaction; a deferred check that
 * does not hold stops its exchange the same way; a rollback (of the
 * transaction, or to a savepoint) drops what it undoes unsent.
 */
import { StorageError } from '../../../common/errors';
import { SyncBridge } from '../../../storage/postgres/sync-bridge';
import { codeOf } from '../../support/error-code';
import { startTestPostgres, TestPostgres } from '../../support/postgres-fixture';

let pg: TestPostgres;
let b: SyncBridge;
let exchanges = 0;
let restore: (() => void) | null = null;

beforeAll(async () => {
  pg = await startTestPostgres();
  await pg.sql('CREATE TABLE items (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE)');
  const proto = SyncBridge.prototype as unknown as { exchange: (...args: unknown[]) => unknown };
  const original = proto.exchange;
  proto.exchange = function (this: unknown, ...args: unknown[]) {
    exchanges++;
    return original.apply(this, args);
  };
  restore = () => {
    proto.exchange = original;
  };
}, 180_000);

beforeEach(() => {
  b = SyncBridge.open({ target: pg.target, credentials: pg.credentials, applicationName: 'bridge-batching-test' });
});

afterEach(() => {
  b.close();
});

afterAll(async () => {
  restore?.();
  await pg?.stop();
}, 60_000);

/** Exchanges `fn` made. */
function counted(fn: () => void): number {
  const before = exchanges;
  fn();
  return exchanges - before;
}

const stored = async (prefix: string): Promise<string[]> =>
  (await pg.sql('SELECT id FROM items WHERE id LIKE $1 ORDER BY id', [`${prefix}%`])).map((row) => String(row.id));

describe('round trips', () => {
  it('a write transaction of a read and two deferred writes is two exchanges: BEGIN with the read, the writes with COMMIT', async () => {
    const trips = counted(() => {
      b.begin(true);
      expect(b.query("SELECT count(*) AS n FROM items WHERE id LIKE 'a-%'").rows[0].n).toBe(0);
      b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['a-1', 'one']);
      b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['a-2', 'two']);
      b.commit();
    });
    expect(trips).toBe(2);
    expect(await stored('a-')).toEqual(['a-1', 'a-2']);
  });

  it('a read after a deferred write sees it (it goes first, in the same exchange)', () => {
    b.begin(true);
    b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['r-1', 'read-after']);
    const trips = counted(() => expect(b.query("SELECT name FROM items WHERE id = 'r-1'").rows).toEqual([{ name: 'read-after' }]));
    expect(trips).toBe(1);
    b.rollback();
  });

  it('a deferred write takes its bytes as they were when it was deferred, even if the caller wipes its buffer before it is sent', async () => {
    await pg.sql('CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, bytes BYTEA NOT NULL)');
    const bytes = Buffer.from([1, 2, 3, 4]);
    b.begin(true);
    b.deferWrite('INSERT INTO blobs (id, bytes) VALUES ($1, $2)', ['w-1', bytes]);
    bytes.fill(0);
    b.commit();
    const [row] = await pg.sql("SELECT bytes FROM blobs WHERE id = 'w-1'");
    expect(Buffer.compare(row.bytes as Buffer, Buffer.from([1, 2, 3, 4]))).toBe(0);
  });

  it('queries sends several statements in one exchange and answers each', () => {
    b.begin(true);
    let results: ReturnType<SyncBridge['queries']> = [];
    const trips = counted(() => {
      results = b.queries([{ sql: 'INSERT INTO items (id, name) VALUES ($1, $2) RETURNING id', params: ['q-1', 'queries'] }, { sql: "SELECT count(*) AS n FROM items WHERE id = 'q-1'" }]);
    });
    expect(trips).toBe(1);
    expect(results.map((r) => r.rows)).toEqual([[{ id: 'q-1' }], [{ n: 1 }]]);
    b.rollback();
  });

  it('a transaction that sent nothing costs nothing to commit or roll back', () => {
    expect(counted(() => {
      b.begin(true);
      b.commit();
      b.begin(false);
      b.rollback();
    })).toBe(0);
  });

  it('savepoints go with the next exchange; one released or rolled back before anything was sent never reaches the server', async () => {
    b.begin(true);
    b.query('SELECT 1');
    const trips = counted(() => {
      b.savepoint('kept');
      b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['s-1', 'kept']);
      b.release('kept');
      b.savepoint('undone');
      b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['s-2', 'undone']);
      b.rollbackTo('undone');
      b.savepoint('sent');
      b.query("INSERT INTO items (id, name) VALUES ('s-3', 'sent')");
      b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['s-4', 'dropped']);
      b.rollbackTo('sent');
    });
    // The INSERT of s-3 (carrying s-1 and SAVEPOINT sent; kept and undone never left), then ROLLBACK TO sent.
    expect(trips).toBe(2);
    expect(b.savepointDepth).toBe(0);
    b.commit();
    expect(await stored('s-')).toEqual(['s-1']);
  });

  it('a rollback to an outer savepoint also ends an inner one whose RELEASE was still waiting (and is dropped)', async () => {
    b.begin(true);
    b.query('SELECT 1');
    b.savepoint('level_one');
    b.savepoint('level_two');
    b.query("INSERT INTO items (id, name) VALUES ('n-1', 'inner')");
    b.release('level_two');
    b.rollbackTo('level_one');
    b.query("INSERT INTO items (id, name) VALUES ('n-2', 'after')");
    b.commit();
    expect(await stored('n-')).toEqual(['n-2']);
  });
});

describe('failures stay failures', () => {
  it('a deferred write that fails fails the COMMIT it rode with, with its own code; nothing is stored; the bridge goes on', async () => {
    b.begin(true);
    b.query("INSERT INTO items (id, name) VALUES ('f-1', 'taken')");
    b.commit();
    b.begin(true);
    b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['f-2', 'fine']);
    b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['f-3', 'taken']);
    let caught: StorageError | undefined;
    try {
      b.commit();
    } catch (err) {
      caught = err as StorageError;
    }
    expect(caught?.code).toBe('STORAGE_ERROR');
    expect(caught?.details).toMatchObject({ pgCode: '23505', deferred: true });
    expect(b.inTransaction).toBe(false);
    expect(await stored('f-')).toEqual(['f-1']);
    // The worker rolled the failed transaction back: the next one begins and commits.
    b.begin(true);
    b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['f-4', 'f-after']);
    b.commit();
    expect(await stored('f-')).toEqual(['f-1', 'f-4']);
  });

  it('a deferred write that fails fails the next statement, which does not run; the transaction then rolls back', async () => {
    b.begin(true);
    b.query("INSERT INTO items (id, name) VALUES ('g-1', 'g-taken')");
    b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['g-2', 'g-taken']);
    expect(codeOf(() => b.query("INSERT INTO items (id, name) VALUES ('g-3', 'g-three')"))).toBe('STORAGE_ERROR');
    expect(b.inTransaction).toBe(true);
    b.rollback();
    expect(await stored('g-')).toEqual([]);
  });

  it('a rollback drops deferred writes unsent', async () => {
    b.begin(true);
    b.query('SELECT 1');
    b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['h-1', 'never']);
    expect(counted(() => b.rollback())).toBe(1);
    expect(await stored('h-')).toEqual([]);
  });

  it('a deferred check that does not hold fails the exchange with its own code; a COMMIT riding with it is not made', async () => {
    b.begin(true);
    b.deferWrite('INSERT INTO items (id, name) VALUES ($1, $2)', ['k-1', 'k-one']);
    b.deferCheck("SELECT count(*) FROM items WHERE id LIKE 'k-%'", 0, { code: 'INTEGRITY_FAILURE', message: 'the test says: not empty' });
    let caught: StorageError | undefined;
    try {
      b.commit();
    } catch (err) {
      caught = err as StorageError;
    }
    expect(caught?.code).toBe('INTEGRITY_FAILURE');
    expect(caught?.message).toBe('the test says: not empty');
    expect(b.inTransaction).toBe(false);
    expect(await stored('k-')).toEqual([]);
    // One that holds lets the transaction go on, in the same exchange as the statement after it.
    b.begin(true);
    b.deferCheck("SELECT count(*) FROM items WHERE id LIKE 'k-%'", 0, { code: 'INTEGRITY_FAILURE', message: 'unexpected' });
    expect(counted(() => b.query("INSERT INTO items (id, name) VALUES ('k-2', 'k-two')"))).toBe(1);
    b.commit();
    expect(await stored('k-')).toEqual(['k-2']);
  });

  it('a deferred write needs an open transaction; a release or rollback to one a savepoint', () => {
    expect(codeOf(() => b.deferWrite('SELECT 1'))).toBe('STORAGE_ERROR');
    b.begin(true);
    expect(codeOf(() => b.release('none_open'))).toBe('STORAGE_ERROR');
    expect(codeOf(() => b.rollbackTo('none_open'))).toBe('STORAGE_ERROR');
    expect(b.savepointDepth).toBe(0);
    b.rollback();
  });
});
