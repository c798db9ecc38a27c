/**
 * Three appliances on the three-node Patroni/etcd/PostgreSQL cluster (issue
 * 17, docs/cluster.md): each a `strongroom serve` process with its own
 * SoftHSM2 token holding the shared master key (scripts/cluster/appliances.ts).
 * Three workers, each an officer's client plus the two approvers' clients,
 * all pools across the three appliances' addresses, drive Creates, ReKeys
 * (rollovers), and dual-controlled Gets (the export asked by admin, approved
 * by officer-2 and officer-3, collected by admin). Once each has some
 * acknowledged, the PostgreSQL leader node (Patroni and postmaster) and one
 * appliance are SIGKILLed together. Then: every acknowledged operation is
 * there (keys, versions, collected approvals), no key has a duplicated or
 * skipped version, AuditVerify passes (chain without gap, checkpoints) on
 * every surviving appliance, and every worker carried on after the outage.
 * Prints the outage and the counts.
 *
 * The scheduler, through the same failover: the appliances run the server
 * `strongroom serve` runs on a clock the test moves (test-only:
 * test/support/movable-clock-launcher.ts), set 15 minutes before a UTC
 * midnight while DUE_KEYS `auto` P1D keys are made, then moved past it on
 * every appliance; once the sweep is rolling, the appliance holding the
 * scheduler's lease is the one killed with the PostgreSQL leader. Then:
 * every due key has versions 1,2 (rolled once, none skipped or doubled),
 * the trail's scheduled `rollover` events name each once, one holder per
 * lease epoch in what the nodes reported and in the trail's takeovers, each
 * epoch after the first a takeover the trail shows.
 * Not checked: which appliance answered each operation (the client pool
 * does not say).
 *
 * Every wait is bounded; everything is killed in afterAll, even on failure.
 * Needs root and the packages of scripts/setup.sh.
 */
import { readFileSync } from 'node:fs';
import { ApprovalRequiredError, isStrongroomClientError } from '../../client/client-error';
import { StrongroomClient } from '../../client/strongroom-client';
import { startAppliances, RunningAppliances, OfficerName, ClusterAppliance } from '../../scripts/cluster/appliances';
import { waitFor } from '../../scripts/cluster/bounded-wait';
import { RunningCluster, startCluster } from '../../scripts/cluster/cluster';
import { PatroniTiming } from '../../scripts/cluster/patroni-config';
import { MOVABLE_CLOCK_SERVE } from '../support/movable-clock-launcher';
import { createAutoKeys, judgeScheduler, LeaseSample, nextUtcMidnight, TrailEvent, TrailFollower } from '../support/scheduler-watch';

const TIMING: PatroniTiming = { ttl: 10, loopWait: 1, retryTimeout: 4 };
const WORKERS = 3;
const ACKS_BEFORE_KILL = 6;
const ACKS_AFTER_OUTAGE = 6;
const FAILOVER_TIMEOUT_MS = TIMING.ttl * 1000 + 60_000;
const TEST_TIMEOUT_MS = 420_000;
const DUE_KEYS = 200;
/** How long before the midnight the keys are made (server time): they must all be made before it. */
const BEFORE_MIDNIGHT_MS = 15 * 60_000;
/** Sweeps every second, so the lease (3 checks) lapses 3 s after its holder's last batch. */
const SCHEDULER_SETTINGS = { timezone: 'UTC', rollover_check_interval_ms: '1000', rollover_notice: 'P0D' };

let cluster: RunningCluster | undefined;
let appliances: RunningAppliances | undefined;
const clients: StrongroomClient[] = [];

afterAll(async () => {
  for (const c of clients) c.destroy();
  await appliances?.stop().catch(() => undefined);
  await cluster?.stop();
}, 120_000);

interface Ack {
  readonly kind: 'create' | 'rekey' | 'export';
  readonly key: string;
  /** The key's newest version this answer showed. */
  readonly version: number;
  readonly atMs: number;
  readonly approval?: string;
}

interface Worker {
  readonly id: number;
  readonly acks: Ack[];
  readonly failures: string[];
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

describe('three appliances on a three-node Patroni cluster', () => {
  it('loses no acknowledged operation when the PostgreSQL leader and one appliance are SIGKILLed, and the clients carry on', async () => {
    const started = Date.now();
    cluster = await startCluster({ timing: TIMING, startTimeoutMs: 120_000 });
    appliances = await startAppliances(cluster, { count: 3, launcher: MOVABLE_CLOCK_SERVE, settings: SCHEDULER_SETTINGS });
    const ready = Date.now();
    const running = appliances;
    const servers = running.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
    const as = (officer: OfficerName): StrongroomClient => {
      const made = new StrongroomClient({
        servers,
        ca: readFileSync(running.pki.caFile),
        cert: readFileSync(running.pki.certFile(officer)),
        key: readFileSync(running.pki.keyFile(officer)),
        poolSize: 3,
        requestTimeoutMs: 30_000,
      });
      clients.push(made);
      return made;
    };

    // Every server 15 minutes before a midnight: the keys made now all fall due at it.
    const midnight = nextUtcMidnight(Date.now() + BEFORE_MIDNIGHT_MS);
    for (const node of running.nodes) await node.moveClock(midnight - BEFORE_MIDNIGHT_MS - Date.now());
    const dueKeys = await createAutoKeys(as('admin'), 'due/k', DUE_KEYS, 'P1D', 6);
    const madeKeys = Date.now();
    const single = new Map(running.nodes.map((n) => [n, new StrongroomClient({ host: '127.0.0.1', port: n.port, ca: readFileSync(running.pki.caFile), cert: readFileSync(running.pki.certFile('admin')), key: readFileSync(running.pki.keyFile('admin')) })]));
    clients.push(...single.values());
    type Status = { node: string; lease: { holder: string; epoch: number } | null };
    const names = new Map<string, ClusterAppliance>();
    for (const [node, client] of single) names.set((await client.request<Status>('ClusterStatus')).node, node);
    // One name per node: the lease names its holder by it.
    expect([...names.keys()].sort()).toEqual(running.nodes.map((n) => n.name).sort());
    const samples: LeaseSample[] = [];
    const sampleLeases = async (nodes: readonly ClusterAppliance[]): Promise<void> => {
      for (const node of nodes) {
        const status = await single.get(node)!.request<Status>('ClusterStatus').catch(() => null);
        if (status?.lease) samples.push({ node: status.node, holder: status.lease.holder, epoch: status.lease.epoch });
      }
    };
    const reader = as('admin');
    const trail = new TrailFollower(() => reader, (e) => e.type === 'rollover' || e.type === 'scheduler-lease-taken' || (e.type === 'intent' && e.custom.takeover === 'scheduler-lease'));
    const ofType = (type: string): TrailEvent[] => trail.events.filter((e) => e.type === type);
    let rolledBeforeKill = 0;

    const workers: Worker[] = Array.from({ length: WORKERS }, (_, id) => ({ id, acks: [], failures: [] }));
    let stop = false;
    const loops = workers.map((w) => drive(w, { admin: as('admin'), second: as('officer-2'), third: as('officer-3') }, () => stop));
    const allAcked = (n: number, after = 0): boolean => workers.every((w) => w.acks.filter((a) => a.atMs > after).length >= n);
    const state = (after = 0): string => workers.map((w) => `${w.acks.filter((a) => a.atMs > after).length} acks/${w.failures.length} failures (${w.failures.at(-1) ?? ''})`).join('; ');

    let killedAt = 0;
    let victim = '';
    let newPrimary = '';
    let promotedAt = 0;
    let deadAppliance = running.nodes[1];
    /** A surviving appliance that ended: the wait stops at once, with its log's tail. */
    const survivorEnded = (): string | undefined => {
      const ended = running.nodes.find((n) => n !== deadAppliance && n.ended() !== null);
      return ended === undefined ? undefined : `appliance ${ended.name} ended (${ended.ended()}); its log ends:\n${ended.log().slice(-2500)}`;
    };
    try {
      await waitFor(`${ACKS_BEFORE_KILL} acknowledged operations per worker`, async () => (allAcked(ACKS_BEFORE_KILL) ? true : undefined), { timeoutMs: 90_000, intervalMs: 100 }, () => state());
      // Past the midnight on every server; once the sweep is rolling, the lease's holder dies with the PostgreSQL leader.
      for (const node of running.nodes) await node.moveClock(midnight + 1000 - Date.now());
      await waitFor('the first scheduled rollover in the trail', async () => (await trail.poll().then(() => ofType('rollover').length > 0, () => false)) || undefined, { timeoutMs: 60_000, intervalMs: 100 }, () => `${trail.events.length} events`);
      await sampleLeases(running.nodes);
      const holder = samples.at(-1)?.holder;
      deadAppliance = (holder === undefined ? undefined : names.get(holder)) ?? running.nodes[1];
      rolledBeforeKill = ofType('rollover').length;
      victim = (await cluster.primaries())[0];
      killedAt = Date.now();
      cluster.killNode(victim);
      await deadAppliance.kill();
      newPrimary = await cluster.waitForPrimary({ exclude: [victim], timeoutMs: FAILOVER_TIMEOUT_MS });
      promotedAt = Date.now();
      await waitFor(`${ACKS_AFTER_OUTAGE} operations per worker acknowledged after the kill`, async () => (allAcked(ACKS_AFTER_OUTAGE, killedAt) ? true : undefined), { timeoutMs: 90_000, intervalMs: 100, failFast: survivorEnded }, () => state(killedAt));
    } finally {
      stop = true;
      await Promise.all(loops);
    }

    // The scheduler finishes on the survivors: every due key named by a rollover event, or (events missing) rolled.
    const survivors = running.nodes.filter((n) => n !== deadAppliance);
    const versionsOf = async (key: string): Promise<number[]> => (await reader.getAttributes({ name: key })).instances.map((i) => i.version).sort((x, y) => x - y);
    await waitFor(
      `every one of ${DUE_KEYS} due keys rolled`,
      async () => {
        await sampleLeases(survivors);
        if (!(await trail.poll().then(() => true, () => false))) return undefined;
        const named = new Set(ofType('rollover').map((e) => e.key));
        const unnamed = dueKeys.filter((k) => !named.has(k));
        if (unnamed.length === 0) return true;
        if (named.size < DUE_KEYS - 20) return undefined;
        const rolled = await Promise.all(unnamed.map((k) => versionsOf(k).then((v) => v.length >= 2, () => false)));
        return rolled.every(Boolean) || undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000, failFast: survivorEnded },
      () => `${new Set(ofType('rollover').map((e) => e.key)).size} keys named in rollover events`,
    );
    const versions = new Map<string, number[]>();
    for (const key of dueKeys) versions.set(key, await versionsOf(key));
    const verdict = judgeScheduler({ dueKeys, versions, rollovers: ofType('rollover'), takeovers: ofType('scheduler-lease-taken'), samples });
    const takeovers = ofType('scheduler-lease-taken').map((t) => `${t.custom.previousHolder}@${t.custom.previousEpoch} -> ${t.custom.holder}@${t.custom.epoch}`);
    const intents = ofType('intent').map((t) => `${t.custom.holder} means ${t.custom.previousHolder}@${t.custom.previousEpoch} -> ${t.custom.epoch}`);
    const epochs = [...new Set(samples.map((x) => `${x.holder}@${x.epoch}`))];
    console.log(
      `scheduler through the failover: ${DUE_KEYS} auto P1D keys made in ${seconds(madeKeys - ready)} s; ${rolledBeforeKill} rollover events before the kill (holder ${deadAppliance.name} killed); ` +
        `${ofType('rollover').length} scheduled rollover events over ${new Set(ofType('rollover').map((e) => e.key)).size} keys; keys at versions 1,2: ${[...versions.values()].filter((v) => v.join(',') === '1,2').length}; ` +
        `lease holders seen (holder@epoch, ${samples.length} samples): ${epochs.join(', ')}; takeover intents: ${intents.join('; ') || 'none'}; takeovers: ${takeovers.join('; ') || 'none'}`,
    );
    expect(verdict).toEqual({ versionProblems: [], eventProblems: [], leaseProblems: [] });

    // The surviving appliances rode out the database's failover (a node that exits on it would leave its clients to the others).
    for (const node of running.nodes.filter((n) => n !== deadAppliance)) expect([node.name, node.ended(), node.ended() === null ? '' : node.log().slice(-3000)]).toEqual([node.name, null, '']);
    // Every acknowledged key is there, with versions 1..n (none duplicated, none skipped), n at least the newest acknowledged.
    const admin = as('admin');
    const acks = workers.flatMap((w) => w.acks);
    const newest = new Map<string, number>();
    for (const a of acks) newest.set(a.key, Math.max(newest.get(a.key) ?? 0, a.version));
    const versionProblems: string[] = [];
    for (const [key, version] of newest) {
      const found = await admin.getAttributes({ name: key });
      const versions = found.instances.map((i) => i.version).sort((x, y) => x - y);
      if (!versions.every((v, i) => v === i + 1) || versions.length < version) versionProblems.push(`${key}: ${versions.join(',')} (acknowledged ${version})`);
    }
    expect(versionProblems).toEqual([]);
    // Every collected export's request is recorded as executed (collected once, by its requester).
    const exports = acks.filter((a) => a.kind === 'export');
    for (const a of exports) {
      const { request } = await admin.request<{ request: { state: string } }>('ApprovalGet', { id: a.approval });
      expect([a.approval, request.state]).toEqual([a.approval, 'executed']);
    }
    // The trail verifies on every surviving appliance (one chain, no gap, checkpoints of listed signers).
    for (const node of running.nodes.filter((n) => n !== deadAppliance)) {
      const one = new StrongroomClient({ host: '127.0.0.1', port: node.port, ca: readFileSync(running.pki.caFile), cert: readFileSync(running.pki.certFile('admin')), key: readFileSync(running.pki.keyFile('admin')) });
      clients.push(one);
      expect(await one.request('AuditVerify')).toMatchObject({ ok: true });
    }

    const resumed = Math.min(...acks.filter((a) => a.atMs > killedAt).map((a) => a.atMs)) - killedAt;
    const lastBefore = Math.max(...acks.filter((a) => a.atMs <= killedAt).map((a) => a.atMs));
    const count = (kind: Ack['kind']): number => acks.filter((a) => a.kind === kind).length;
    const before = acks.filter((a) => a.atMs <= killedAt).length;
    const failureCodes = new Map<string, number>();
    for (const f of workers.flatMap((w) => w.failures)) failureCodes.set(f, (failureCodes.get(f) ?? 0) + 1);
    const failuresText = [...failureCodes].map(([code, n]) => `${n} ${code}`).join(', ') || 'none';
    console.log(
      `appliance failover (ttl ${TIMING.ttl} s): cluster and 3 appliances ready in ${seconds(ready - started)} s; killed PostgreSQL leader ${victim} and appliance ${deadAppliance.name}; ` +
        `${newPrimary} primary after ${seconds(promotedAt - killedAt)} s; first operation acknowledged after the kill at ${seconds(resumed)} s ` +
        `(outage ${seconds(resumed + killedAt - lastBefore)} s from the last acknowledgement before it); ` +
        `acknowledged: ${count('create')} creates, ${count('rekey')} rollovers, ${count('export')} dual-controlled Gets (${exports.length * 2} approvals) over ${newest.size} keys, all present; ` +
        `${before} acknowledged before the kill, ${acks.length - before} after; per worker ${workers.map((w) => `w${w.id} ${w.acks.length} acks/${w.failures.length} failed`).join(', ')}; ` +
        `${workers.reduce((n, w) => n + w.failures.length, 0)} failed attempts (${failuresText}); whole test ${seconds(Date.now() - started)} s`,
    );
  }, TEST_TIMEOUT_MS);
});

/** Seen by the caller as unavailability, a failover in progress: not acknowledged, the worker carries on. */
function describeFailure(err: unknown): string {
  return isStrongroomClientError(err) ? `${err.code}${err.details.errorCode ? `/${String(err.details.errorCode)}` : ''}` : String(err);
}

async function drive(worker: Worker, who: { admin: StrongroomClient; second: StrongroomClient; third: StrongroomClient }, stopped: () => boolean): Promise<void> {
  const keys: string[] = [];
  for (let step = 0; !stopped() && step < 10_000; step++) {
    try {
      if (keys.length === 0 || step % 3 === 0) {
        const name = `fo/w${worker.id}-${step}`;
        const made = await who.admin.create({ name, algorithm: 'AES-256' });
        keys.push(name);
        worker.acks.push({ kind: 'create', key: name, version: newestVersion(made.instances), atMs: Date.now() });
      } else if (step % 3 === 1) {
        const name = keys[step % keys.length];
        const rolled = await who.admin.rekey({ name });
        worker.acks.push({ kind: 'rekey', key: name, version: newestVersion(rolled.instances), atMs: Date.now() });
      } else {
        const name = keys[step % keys.length];
        const id = await askExport(who.admin, name);
        for (const approver of [who.second, who.third]) {
          const { request } = await approver.request<{ request: { digest: string } }>('ApprovalGet', { id });
          await approver.request('ApprovalApprove', { id, digest: request.digest });
        }
        const got = await who.admin.request<{ instance: { version: number }; material: string }>('ApprovalCollect', { id });
        if (Buffer.from(got.material, 'base64').length !== 32) throw new Error(`export ${id} of ${name}: not 32 bytes of material`);
        worker.acks.push({ kind: 'export', key: name, version: got.instance.version, atMs: Date.now(), approval: id });
      }
    } catch (err) {
      worker.failures.push(describeFailure(err));
    }
  }
}

/** An officer's Get of a key it has no grant on is an export: answered APPROVAL_REQUIRED with the request's id. */
async function askExport(admin: StrongroomClient, name: string): Promise<string> {
  try {
    await admin.request('Get', { name });
  } catch (err) {
    if (err instanceof ApprovalRequiredError) return err.requestId;
    throw err;
  }
  throw new Error(`Get of ${name} by an officer was not dual-controlled`);
}

function newestVersion(instances: ReadonlyArray<{ version: number }>): number {
  return Math.max(...instances.map((i) => i.version));
}
