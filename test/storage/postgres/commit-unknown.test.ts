/**
 * A COMMIT whose outcome the bridge cannot know is STORAGE_COMMIT_UNKNOWN,
 * never an acknowledgement. PostgreSQL is made to wait for a synchronous
 * standby that does not exist (synchronous_standby_names names nobody), as a
 * cluster primary waits while its standby is gone: (1) the bridge's own
 * COMMIT deadline passes; (2) an administrator cancels the wait
 * (pg_cancel_backend): PostgreSQL then answers COMMIT, with only a WARNING
 * that the transaction committed locally and may not be replicated, which
 * the bridge must not take for success. The wait is observed in
 * pg_stat_activity (bounded polling), not assumed after a sleep.
 */
import { waitFor } from '../../../scripts/cluster/bounded-wait';
import { SyncBridge } from '../../../storage/postgres/sync-bridge';
import { HostedBridge, hostBridge, HostedBridgeError } from '../../support/bridge-host';
import { codeOf } from '../../support/error-code';
import { startTestPostgres, TestPostgres } from '../../support/postgres-fixture';

let pg: TestPostgres;
let host: HostedBridge | undefined;

beforeAll(async () => {
  pg = await startTestPostgres();
  await pg.sql('CREATE TABLE rows (id TEXT PRIMARY KEY)');
  await pg.sql("ALTER SYSTEM SET synchronous_standby_names = 'no_such_standby'");
  await pg.sql('SELECT pg_reload_conf()');
  await waitFor('the server to read synchronous_standby_names', async () => ((await pg.sql('SHOW synchronous_standby_names'))[0].synchronous_standby_names === 'no_such_standby' ? true : undefined), {
    timeoutMs: 20_000,
    intervalMs: 50,
  });
}, 180_000);

afterAll(async () => {
  await host?.close();
  await pg?.stop();
}, 60_000);

describe('a COMMIT waiting for a synchronous standby', () => {
  it('is STORAGE_COMMIT_UNKNOWN when the bridge\'s deadline passes', async () => {
    const b = SyncBridge.open({ target: pg.target, credentials: pg.credentials, statementTimeoutMs: 1_000, applicationName: 'commit-deadline' });
    try {
      b.begin(true);
      b.query("INSERT INTO rows VALUES ('deadline')");
      expect(codeOf(() => b.commit())).toBe('STORAGE_COMMIT_UNKNOWN');
    } finally {
      b.close();
    }
    // Its backend still waits for the standby, holding the writer lock (the server's statement_timeout
    // would end it later): end it now so the next test can write.
    await pg.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'commit-deadline'");
    await waitFor('the abandoned COMMIT to end', async () => ((await pg.sql("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'commit-deadline'"))[0].n === 0 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 50,
    });
  }, 60_000);

  it('is STORAGE_COMMIT_UNKNOWN when the wait is cancelled and PostgreSQL answers COMMIT with a warning', async () => {
    host = hostBridge({ target: pg.target, credentials: pg.credentials, applicationName: 'commit-cancel', statementTimeoutMs: 30_000 });
    const h = host;
    await h.call('begin', true);
    await h.call('query', "INSERT INTO rows VALUES ('cancelled')");
    const commit = h.call('commit').then(() => 'NO_ERROR', (err: unknown) => (err instanceof HostedBridgeError ? err.code : String(err)));
    const pid = await waitFor(
      'the COMMIT to wait for the synchronous standby',
      async () => (await pg.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'commit-cancel' AND wait_event = 'SyncRep'"))[0]?.pid as number | undefined,
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    await pg.sql('SELECT pg_cancel_backend($1)', [pid]);
    expect(await commit).toBe('STORAGE_COMMIT_UNKNOWN');
  }, 60_000);
});
