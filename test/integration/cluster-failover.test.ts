/**
 * The real engine of issue 17 on loopback: three etcd members and three
 * Patroni-managed PostgreSQL 15 nodes with synchronous replication
 * (scripts/cluster/). Eight writers insert rows through the primary finder
 * (storage/postgres/primary-finder.ts); once each has some acknowledged,
 * the leader's Patroni and postmaster are SIGKILLed together. The synchronous
 * standby must take over, the writers must carry on through the finder on
 * the new primary, and every row whose INSERT was acknowledged must be on
 * the new primary. Prints the outage and the whole test's time. Every wait
 * polls observable state (Patroni REST, the writers' acknowledgements) and
 * is bounded; the cluster is stopped (every process of the run killed) even
 * when the test fails. Needs root and the Debian packages of
 * scripts/setup.sh.
 */
import { readFileSync } from 'node:fs';
import { ClusterNodeAddress, PrimaryFinder } from '../../storage/postgres/primary-finder';
import { pgConnector, PgSession } from '../../storage/postgres/pg-session';
import { makePatroniProbe } from '../../storage/postgres/patroni-rest';
import { waitFor } from '../../scripts/cluster/bounded-wait';
import { RunningCluster, startCluster } from '../../scripts/cluster/cluster';
import { PatroniTiming } from '../../scripts/cluster/patroni-config';
import { Ack, createRowsTable, ROWS_TABLE, runWriter, WriterRecord } from '../support/cluster-writers';

const WRITERS = 8;
/** Acknowledged rows each writer has before the kill, and on the new primary after it. */
const ACKS_BEFORE_KILL = 20;
const ACKS_AFTER_FAILOVER = 20;
/**
 * ttl 10 s, loop_wait 1 s, retry_timeout 4 s (loop_wait + 2 × retry_timeout = 9 ≤ ttl). Tighter than
 * issue 17's trial (20/2), which Patroni accepts: the dead leader's key lapses within 10 s. Not tighter:
 * a leader that cannot reach etcd for retry_timeout demotes itself, and a loaded CI machine must not
 * make it do so.
 */
const TIMING: PatroniTiming = { ttl: 10, loopWait: 1, retryTimeout: 4 };
/** Bounds: the start (initdb, two base backups), the failover (ttl plus promotion and the standby's return), the writers' catching up. */
const START_TIMEOUT_MS = 120_000;
const FAILOVER_TIMEOUT_MS = TIMING.ttl * 1000 + 45_000;
const CATCH_UP_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 330_000;

let cluster: RunningCluster | undefined;

afterAll(async () => {
  await cluster?.stop();
});

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

describe('a three-node Patroni/etcd/PostgreSQL 15 cluster on loopback', () => {
  it('loses no acknowledged row when the leader is SIGKILLed under eight writers, who carry on through the primary finder', async () => {
    const testStarted = Date.now();
    cluster = await startCluster({ timing: TIMING, startTimeoutMs: START_TIMEOUT_MS });
    const ready = Date.now();
    const running = cluster;
    const finder = new PrimaryFinder<PgSession>(
      { nodes: running.nodes, deadlineMs: FAILOVER_TIMEOUT_MS, retryIntervalMs: 250 },
      { connect: pgConnector(running.superuser, { applicationName: 'failover-test', queryTimeoutMs: 15_000 }) },
    );
    await createRowsTable(finder);

    const records: WriterRecord[] = Array.from({ length: WRITERS }, (_, writer) => ({ writer, acks: [], failures: [] }));
    let stop = false;
    let finished = 0;
    const writers = records.map((record) =>
      runWriter(record.writer, finder, { maxRows: 50_000, deadlineMs: Date.now() + START_TIMEOUT_MS + FAILOVER_TIMEOUT_MS, stop: () => stop }, record).finally(() => finished++),
    );
    const writersAlive = (): string | undefined => (finished > 0 ? `${finished} writer(s) stopped early; failures: ${records.flatMap((r) => r.failures).slice(-3).join(' | ')}` : undefined);

    let victim = '';
    let standbyBefore = '';
    let newPrimary = '';
    let killedAt = 0;
    let promotedAt = 0;
    let killed: { patroniPid: number; postmasterPid: number | undefined } | undefined;
    try {
      await waitFor(
        `${ACKS_BEFORE_KILL} acknowledged rows from each writer`,
        async () => (records.every((r) => r.acks.length >= ACKS_BEFORE_KILL) ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 50, failFast: writersAlive },
        () => records.map((r) => r.acks.length).join(','),
      );
      const roles = await running.roles();
      victim = onlyOne(roles.filter((r) => r.primary).map((r) => r.name), 'primary before the kill');
      standbyBefore = onlyOne(roles.filter((r) => r.sync).map((r) => r.name), 'synchronous standby before the kill');
      killedAt = Date.now();
      killed = running.killNode(victim);
      newPrimary = await running.waitForPrimary({ exclude: [victim], timeoutMs: FAILOVER_TIMEOUT_MS });
      promotedAt = Date.now();
      await waitFor(
        `${ACKS_AFTER_FAILOVER} rows from each writer acknowledged by the new primary ${newPrimary}`,
        async () => (records.every((r) => acksAfter(r, killedAt).filter((a) => a.node === newPrimary).length >= ACKS_AFTER_FAILOVER) ? true : undefined),
        { timeoutMs: CATCH_UP_TIMEOUT_MS, intervalMs: 50, failFast: writersAlive },
        () => records.map((r) => acksAfter(r, killedAt).length).join(','),
      );
    } finally {
      stop = true;
      await Promise.all(writers);
    }

    // Synchronous mode: only the standby that was synchronous may take over, and the dead leader answers nothing.
    expect(newPrimary).toBe(standbyBefore);
    expect(newPrimary).not.toBe(victim);
    const killedNode = running.nodes.find((n) => n.name === victim) as ClusterNodeAddress;
    expect((await makePatroniProbe()(killedNode.rest, '/health', 1_000)).status).toBe(0);
    expect(killed?.postmasterPid === undefined ? 'no postmaster pid' : processState(killed.postmasterPid)).toBe('gone');

    // Every acknowledged row is on the new primary.
    const { node, session } = await finder.find();
    expect(node.name).toBe(newPrimary);
    const present = new Set((await session.query(`SELECT id FROM ${ROWS_TABLE}`)).rows.map((r) => String(r.id)));
    await session.end();
    const acked = records.flatMap((r) => r.acks);
    expect(acked.filter((a) => !present.has(a.id)).map((a) => a.id)).toEqual([]);
    expect(new Set(acked.map((a) => a.id)).size).toBe(acked.length);

    // The outage ends with the first row the new primary acknowledges (INSERTs in flight at the kill may still be acknowledged by the old one, its synchronous standby having flushed them).
    const resumed = records.map((r) => (acksAfter(r, killedAt).find((a) => a.node === newPrimary) as Ack).atMs - killedAt);
    const lateOldAcks = acked.filter((a) => a.atMs > killedAt && a.node === victim).length;
    const lastBefore = Math.max(...records.flatMap((r) => r.acks.filter((a) => a.atMs <= killedAt).map((a) => a.atMs)));
    const stopStarted = Date.now();
    await running.stop();
    const done = Date.now();
    console.log(
      `cluster failover (ttl ${TIMING.ttl} s, loop_wait ${TIMING.loopWait} s, retry_timeout ${TIMING.retryTimeout} s): ` +
        `start ${seconds(ready - testStarted)} s; killed ${victim} (Patroni ${killed?.patroniPid}, postmaster ${killed?.postmasterPid}); ` +
        `${newPrimary} primary after ${seconds(promotedAt - killedAt)} s; first write acknowledged after ${seconds(Math.min(...resumed))} s, ` +
        `all ${WRITERS} writers after ${seconds(Math.max(...resumed))} s (write outage ${seconds(Math.min(...resumed) + killedAt - lastBefore)} s from the last ack before the kill); ` +
        `${acked.length} rows acknowledged (${lateOldAcks} by ${victim} after the kill signal), all present (${present.size} rows in the table; ${records.reduce((n, r) => n + r.failures.length, 0)} failed attempts); ` +
        `stop ${seconds(done - stopStarted)} s; whole test ${seconds(done - testStarted)} s`,
    );
  }, TEST_TIMEOUT_MS);
});

function acksAfter(record: WriterRecord, at: number): Ack[] {
  return record.acks.filter((a) => a.atMs > at);
}

/** 'gone' once the process has exited (a zombie not yet reaped by init counts as gone), else its state letter. */
function processState(pid: number): string {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    return state === 'Z' ? 'gone' : state;
  } catch {
    return 'gone';
  }
}

function onlyOne(names: string[], what: string): string {
  if (names.length !== 1) throw new Error(`expected one ${what}, saw ${names.length}: ${names.join(', ')}`);
  return names[0];
}
