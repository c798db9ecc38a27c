/**
 * The synchronous bridge (storage/postgres/sync-bridge.ts) on the real
 * engine of issue 17: three Patroni/etcd/PostgreSQL 15 nodes on loopback
 * (scripts/cluster/). A bridge that finds its primary through Patroni
 * writes rows, each in a write transaction (the writer lock, then INSERT,
 * then COMMIT; a row counts as acknowledged when COMMIT returned). The
 * leader's Patroni and postmaster are SIGKILLed; the bridge's calls must fail
 * with the codes that say so (no primary, not primary, connection lost,
 * commit outcome unknown), never hang past their bounds and never succeed on
 * a node that is not primary; then carry on, on the new primary, without
 * being reopened. Every acknowledged row must be on the new primary.
 * The bridge runs in a thread of its own (it blocks its caller) so this
 * thread stays free for the harness. Every wait is bounded.
 */
import { waitFor } from '../../scripts/cluster/bounded-wait';
import { RunningCluster, startCluster } from '../../scripts/cluster/cluster';
import { PatroniTiming } from '../../scripts/cluster/patroni-config';
import { HostedBridge, hostBridge, HostedBridgeError } from '../support/bridge-host';

/** As test/integration/cluster-failover.test.ts: the dead leader's key lapses within 10 s. */
const TIMING: PatroniTiming = { ttl: 10, loopWait: 1, retryTimeout: 4 };
const START_TIMEOUT_MS = 120_000;
const FAILOVER_TIMEOUT_MS = TIMING.ttl * 1000 + 45_000;
const ROWS_BEFORE = 20;
const ROWS_AFTER = 20;
/** What a call may fail with while the cluster fails over. */
const FAILOVER_CODES = new Set(['STORAGE_UNAVAILABLE', 'CLUSTER_NO_PRIMARY', 'CLUSTER_NOT_PRIMARY', 'STORAGE_COMMIT_UNKNOWN']);

let cluster: RunningCluster | undefined;
let bridge: HostedBridge | undefined;

afterAll(async () => {
  await bridge?.close();
  await cluster?.stop();
}, 60_000);

interface Attempt {
  readonly id: string;
  readonly atMs: number;
  readonly outcome: 'acknowledged' | string;
  /** The PostgreSQL port that acknowledged it. */
  readonly port?: number;
}

/** One row in one write transaction: the acknowledgement is COMMIT returning. */
async function writeRow(b: HostedBridge, id: string): Promise<Attempt> {
  try {
    await b.call('begin', true);
    const [row] = (await b.call('query', 'INSERT INTO bridge_rows (id) VALUES ($1) RETURNING inet_server_port() AS port', [id])) as Array<{ port: number }>;
    await b.call('commit');
    return { id, atMs: Date.now(), outcome: 'acknowledged', port: row.port };
  } catch (err) {
    await b.call('rollback').catch(() => undefined);
    return { id, atMs: Date.now(), outcome: err instanceof HostedBridgeError ? err.code : String(err) };
  }
}

describe('the synchronous bridge through a Patroni failover', () => {
  it('fails calls with failover codes while there is no primary, then carries on on the new one; no acknowledged row is lost', async () => {
    const started = Date.now();
    cluster = await startCluster({ timing: TIMING, startTimeoutMs: START_TIMEOUT_MS });
    const running = cluster;
    bridge = hostBridge({
      target: { kind: 'patroni', nodes: running.nodes },
      credentials: running.superuser,
      applicationName: 'bridge-failover-test',
      findPrimaryTimeoutMs: 3_000,
      statementTimeoutMs: 15_000,
    });
    const b = bridge;
    await b.call('query', 'CREATE TABLE bridge_rows (id TEXT PRIMARY KEY)');
    const attempts: Attempt[] = [];
    for (let i = 0; i < ROWS_BEFORE; i++) attempts.push(await writeRow(b, `before-${i}`));
    expect(attempts.filter((a) => a.outcome !== 'acknowledged')).toEqual([]);

    const victim = (await running.primaries())[0];
    const victimPort = running.nodes.find((n) => n.name === victim)?.postgres.port;
    const killedAt = Date.now();
    running.killNode(victim);
    // Writing starts at once, through the outage: the bridge, not the test, must find the new primary.
    const promoted = running.waitForPrimary({ exclude: [victim], timeoutMs: FAILOVER_TIMEOUT_MS });
    promoted.catch(() => undefined);

    // Bounded in attempts (each call is bounded by the bridge) and in time.
    let after = 0;
    await waitFor(
      `${ROWS_AFTER} rows acknowledged by a node other than ${victim}`,
      async () => {
        const attempt = await writeRow(b, `after-${attempts.length}`);
        attempts.push(attempt);
        if (attempt.outcome === 'acknowledged' && attempt.port !== victimPort) after++;
        return after >= ROWS_AFTER ? true : undefined;
      },
      { timeoutMs: FAILOVER_TIMEOUT_MS, intervalMs: 50 },
      () => attempts.slice(-3).map((a) => `${a.id}: ${a.outcome}`).join('; '),
    );
    const newPrimary = await promoted;
    const newPort = running.nodes.find((n) => n.name === newPrimary)?.postgres.port;
    expect(attempts.filter((a) => a.outcome === 'acknowledged' && a.atMs > killedAt && a.port !== victimPort && a.port !== newPort)).toEqual([]);

    const afterKill = attempts.filter((a) => a.atMs > killedAt);
    const failures = afterKill.filter((a) => a.outcome !== 'acknowledged');
    // The first call after the kill meets the dead connection: at least that one fails, with a failover code.
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.filter((a) => !FAILOVER_CODES.has(a.outcome))).toEqual([]);
    // Nothing after the kill was acknowledged by the dead node unless it was in flight at the kill.
    expect(afterKill.filter((a) => a.outcome === 'acknowledged' && a.port === victimPort && a.atMs - killedAt > 2_000)).toEqual([]);

    const present = new Set(((await b.call('query', 'SELECT id FROM bridge_rows')) as Array<{ id: string }>).map((r) => r.id));
    const acked = attempts.filter((a) => a.outcome === 'acknowledged');
    expect(acked.filter((a) => !present.has(a.id)).map((a) => a.id)).toEqual([]);

    const firstNew = afterKill.find((a) => a.outcome === 'acknowledged' && a.port === newPort);
    const codes = [...new Set(failures.map((f) => f.outcome))].join(', ');
    console.log(
      `bridge failover (ttl ${TIMING.ttl} s): killed ${victim}; ${newPrimary} primary; first row acknowledged by it ${((firstNew?.atMs ?? 0) - killedAt) / 1000} s after the kill; ` +
        `${failures.length} failed attempts (${codes || 'none'}); ${acked.length} rows acknowledged, all present; whole test ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 330_000);
});
