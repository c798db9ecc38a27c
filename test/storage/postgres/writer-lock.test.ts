/**
 * Two synchronous bridges, each in a thread of its own (as two appliances'
 * storage would be), contend for the keychain's writer lock
 * (pg_advisory_xact_lock in the BEGIN a write transaction sends with its first statement) on a real
 * PostgreSQL 15: the second writer waits for the first instead of
 * deadlocking, sees what the first committed once it has the lock (READ
 * COMMITTED: its statements' snapshots are taken after the wait), and two
 * writers doing read-modify-write loops at once lose no update. The wait is
 * observed in pg_locks (bounded polling), not assumed after a sleep.
 */
import { waitFor } from '../../../scripts/cluster/bounded-wait';
import { HostedBridge, hostBridge } from '../../support/bridge-host';
import { startTestPostgres, TestPostgres } from '../../support/postgres-fixture';

let pg: TestPostgres;
const hosts: HostedBridge[] = [];

beforeAll(async () => {
  pg = await startTestPostgres();
  await pg.sql('CREATE TABLE log (ctx TEXT NOT NULL, i INTEGER NOT NULL)');
  await pg.sql('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
  await pg.sql('INSERT INTO counter VALUES (1, 0)');
}, 180_000);

afterAll(async () => {
  for (const h of hosts) await h.close();
  await pg?.stop();
}, 60_000);

function host(name: string): HostedBridge {
  const h = hostBridge({ target: pg.target, credentials: pg.credentials, applicationName: name, writerLockTimeoutMs: 30_000, statementTimeoutMs: 30_000 });
  hosts.push(h);
  return h;
}

const waitingForAdvisoryLock = async (): Promise<number> =>
  Number((await pg.sql("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))[0].n);

describe('the writer lock across two bridges in two threads', () => {
  it('makes the second writer wait for the first, then see its commit; no deadlock', async () => {
    const a = host('writer-a');
    const b = host('writer-b');
    await a.call('begin', true);
    await a.call('query', "INSERT INTO log VALUES ('a', 1)");
    // BEGIN goes with a transaction's first statement: b waits for the lock there, and that statement, run after the wait, sees a's commit.
    await b.call('begin', true);
    const bReads = b.call('query', "SELECT count(*) AS n FROM log WHERE ctx = 'a'") as Promise<Array<{ n: number }>>;
    await waitFor('writer b to wait for the advisory lock', async () => ((await waitingForAdvisoryLock()) === 1 ? true : undefined), { timeoutMs: 20_000, intervalMs: 50 });
    await a.call('commit');
    const seen = await bReads;
    expect(seen[0].n).toBe(1);
    await b.call('query', "INSERT INTO log VALUES ('b', 1)");
    await b.call('commit');
    expect(await waitingForAdvisoryLock()).toBe(0);
  }, 60_000);

  it('serialises two read-modify-write loops running at once: no update is lost', async () => {
    const a = host('loop-a');
    const b = host('loop-b');
    const times = 60;
    await Promise.all([a.call('increment', times), b.call('increment', times)]);
    expect(Number((await pg.sql('SELECT n FROM counter WHERE id = 1'))[0].n)).toBe(2 * times);
  }, 120_000);
});
