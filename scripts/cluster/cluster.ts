/**
 * A real three-node PostgreSQL 15 cluster on loopback, for tests and for a
 * developer's hands: three etcd members, and three Patroni-managed PostgreSQL
 * nodes with synchronous replication, all as the postgres user, in a temp
 * folder, on a claimed block of ports (scripts/cluster/port-block.ts).
 *
 * The folder is on /dev/shm (tmpfs) when it has room, else in the system's
 * temp folder; STRONGROOM_CLUSTER_DIR chooses another parent. A run writes
 * about 600 MB (etcd preallocates 64 MB WAL files; three PostgreSQL data
 * folders), which a loaded disk took 7-9 s just to delete. On tmpfs fsync
 * costs nothing: commits are faster than on a disk, but nothing the tests
 * check depends on it, since they kill processes, not the machine, and a
 * killed process's flushed writes are in the page cache that the survivors read.
 *
 *   const cluster = await startCluster();      // ready: a primary, a synchronous and an asynchronous standby
 *   … cluster.nodes, cluster.superuser, cluster.primaries(), cluster.killNode(name) …
 *   await cluster.stop();                      // every process of the run SIGKILLed, the folder removed
 *
 * Every wait is bounded and fails with the member logs' tails. A start that
 * fails stops what it started before it throws; `stop` kills every process of
 * the run, found by run id and folder (member-process.ts), not only those it
 * remembers. A run whose owner died without stopping (a killed test worker)
 * is cleaned up by the next start (reapAbandonedRuns).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterNodeAddress } from '../../storage/postgres/primary-finder';
import type { PgCredentials } from '../../storage/postgres/pg-session';
import { exitedMember, etcdHosts, startEtcd } from './etcd-members';
import { ClusterHarnessError } from './harness-error';
import { killRun, logTail, MemberProcess, postgresUser, PostgresUser, signal } from './member-process';
import { claimPortBlock, PortBlock, processExists } from './port-block';
import { checkTiming, PatroniTiming } from './patroni-config';
import { NodeRole, nodeRoles, startPatroniNodes, waitForRoles } from './patroni-nodes';

export interface ClusterOptions {
  /** Default: ttl 20, loop_wait 2, retry_timeout 9 (the trial in issue 17). */
  readonly timing?: PatroniTiming;
  /** Default true: the primary blocks commits while no synchronous standby is there. */
  readonly synchronousModeStrict?: boolean;
  /** Bound on the whole start (etcd, bootstrap, two base backups). */
  readonly startTimeoutMs?: number;
  /** Keep the run folder (logs, data) after stop. */
  readonly keepDir?: boolean;
  /** Progress lines ("etcd healthy after 1.2 s"). */
  readonly progress?: (line: string) => void;
}

export const DEFAULT_TIMING: PatroniTiming = { ttl: 20, loopWait: 2, retryTimeout: 9 };
const RUN_PREFIX = 'strongroom-cluster-';
const NODES = 3;
/** Per node: etcd client, etcd peer, PostgreSQL, Patroni REST. */
const PORTS_PER_NODE = 4;

export interface HarnessNode extends ClusterNodeAddress {
  readonly dir: string;
  readonly dataDir: string;
  readonly logPath: string;
}

export interface KilledNode {
  readonly patroniPid: number;
  readonly postmasterPid: number | undefined;
}

export interface RunningCluster {
  readonly runId: string;
  readonly dir: string;
  readonly nodes: readonly HarnessNode[];
  readonly etcdHosts: readonly string[];
  readonly timing: PatroniTiming;
  /** The PostgreSQL superuser, database `postgres`. */
  readonly superuser: PgCredentials;
  /** Names of the nodes whose Patroni answers `GET /primary` with 200 right now. */
  primaries(): Promise<string[]>;
  /** What each node's Patroni says it is right now (primary, synchronous or asynchronous standby, or nothing). */
  roles(): Promise<NodeRole[]>;
  /** Waits (bounded) until exactly one node other than `exclude` is primary; its name. */
  waitForPrimary(options: { exclude?: readonly string[]; timeoutMs: number }): Promise<string>;
  /** SIGKILLs the node's Patroni and its postmaster (the rest of PostgreSQL follows its postmaster). */
  killNode(name: string): KilledNode;
  /** The last lines of a node's Patroni log. */
  logTail(name: string, lines?: number): string;
  /** Kills every process of the run and removes its folder (unless keepDir); harmless twice. */
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  const timing = options.timing ?? DEFAULT_TIMING;
  checkTiming(timing);
  const progress = options.progress ?? (() => undefined);
  const user = postgresUser();
  await reapAbandonedRuns(user, progress);
  const runId = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(runParentDir(), RUN_PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  writeFileSync(join(dir, 'run-id'), runId);
  givePostgres(dir, user);
  const started: MemberProcess[] = [];
  let ports: PortBlock | undefined;
  const stop = stopper(runId, dir, user, started, () => ports, options.keepDir === true, progress);
  const t0 = Date.now();
  const since = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  try {
    ports = await claimPortBlock(NODES * PORTS_PER_NODE);
    const block = ports;
    const etcdMembers = Array.from({ length: NODES }, (_, i) => ({ name: `etcd${i + 1}`, clientPort: block.port(i), peerPort: block.port(NODES + i) }));
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    await startEtcd({ runId, runDir: dir, user, members: etcdMembers, readyTimeoutMs: Math.min(timeoutMs, 30_000) }, started);
    progress(`cluster ${runId}: etcd members healthy after ${since()} (ports ${block.base}-${block.base + block.size - 1})`);
    const nodes: HarnessNode[] = Array.from({ length: NODES }, (_, i) => {
      const name = `pg${i + 1}`;
      const nodeDir = join(dir, name);
      return {
        name,
        dir: nodeDir,
        dataDir: join(nodeDir, 'data'),
        logPath: join(dir, `${name}.log`),
        postgres: { host: '127.0.0.1', port: block.port(2 * NODES + i) },
        rest: { host: '127.0.0.1', port: block.port(3 * NODES + i) },
      };
    });
    const superuser: PgCredentials = { user: 'postgres', password: randomBytes(12).toString('hex'), database: 'postgres' };
    const hosts = etcdHosts(etcdMembers);
    startPatroniNodes(
      {
        runId,
        runDir: dir,
        user,
        nodes,
        cluster: {
          scope: `strongroom-${runId}`,
          etcdHosts: hosts,
          timing,
          synchronousModeStrict: options.synchronousModeStrict ?? true,
          superuserPassword: superuser.password,
          replicationPassword: randomBytes(12).toString('hex'),
        },
      },
      started,
    );
    const remaining = Math.max(timeoutMs - (Date.now() - t0), 1_000);
    const roles = await waitForRoles(nodes, { timeoutMs: remaining, failFast: () => exitedMember(started) });
    progress(`cluster ${runId}: ready after ${since()}: primary ${roles.primary}, synchronous standby ${roles.sync}, standby ${roles.async}`);
    const member = (name: string): MemberProcess => {
      const found = started.find((m) => m.name === name);
      if (found === undefined) throw new ClusterHarnessError(`no node named ${name} in cluster ${runId}`);
      return found;
    };
    return {
      runId,
      dir,
      nodes,
      etcdHosts: hosts,
      timing,
      superuser,
      primaries: async () => (await nodeRoles(nodes)).filter((r) => r.primary).map((r) => r.name),
      roles: () => nodeRoles(nodes),
      waitForPrimary: async ({ exclude = [], timeoutMs: bound }) =>
        (await waitForRoles(nodes, { timeoutMs: bound, exclude, primaryOnly: true, failFast: () => undefined })).primary,
      killNode: (name) => {
        const patroni = member(name);
        const node = nodes.find((n) => n.name === name) as HarnessNode;
        const postmasterPid = readPostmasterPid(node.dataDir);
        if (patroni.child.pid === undefined) throw new ClusterHarnessError(`node ${name}'s Patroni has no pid (it never started)`);
        signal(patroni.child.pid, 'SIGKILL');
        if (postmasterPid !== undefined) signal(postmasterPid, 'SIGKILL');
        return { patroniPid: patroni.child.pid, postmasterPid };
      },
      logTail: (name, lines) => logTail(member(name).logPath, lines),
      stop,
    };
  } catch (err) {
    const tails = started.map((m) => `--- ${m.name} (${m.logPath}) ---\n${logTail(m.logPath, 8)}`).join('\n');
    await stop().catch(() => undefined);
    throw new ClusterHarnessError(`the cluster did not start: ${(err as Error).message}\n${tails}`, { cause: err });
  }
}

/** The postmaster's pid: the first line of postmaster.pid in its data folder. */
function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function givePostgres(path: string, user: PostgresUser): void {
  chownSync(path, user.uid, user.gid);
  chmodSync(path, 0o700);
}

/** Makes the cluster's stop: Patroni first (so it restarts nothing), then everything of the run; then the folder and the ports. */
function stopper(
  runId: string,
  dir: string,
  user: PostgresUser,
  started: MemberProcess[],
  ports: () => PortBlock | undefined,
  keepDir: boolean,
  progress: (line: string) => void,
): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      const t0 = Date.now();
      for (const m of started) if (m.name.startsWith('pg') && m.child.pid !== undefined) signal(m.child.pid, 'SIGKILL');
      try {
        await killRun(runId, dir, user);
      } finally {
        const killed = Date.now();
        if (!keepDir) rmSync(dir, { recursive: true, force: true });
        ports()?.release();
        progress(`cluster ${runId}: stopped (processes killed in ${((killed - t0) / 1000).toFixed(1)} s, folder ${keepDir ? `kept: ${dir}` : `removed in ${((Date.now() - killed) / 1000).toFixed(1)} s`})`);
      }
    })();
    return stopping;
  };
}

const SHM = '/dev/shm';
const SHM_ROOM_NEEDED = 2 * 1024 ** 3;

/** Where run folders go: STRONGROOM_CLUSTER_DIR, else /dev/shm with 2 GiB free, else the temp folder. */
export function runParentDir(): string {
  const chosen = process.env.STRONGROOM_CLUSTER_DIR;
  if (chosen !== undefined && chosen !== '') return chosen;
  try {
    const fs = statfsSync(SHM);
    if (fs.bavail * fs.bsize >= SHM_ROOM_NEEDED) return SHM;
  } catch {
    // No /dev/shm here.
  }
  return tmpdir();
}

/** Runs whose owner process is gone: kill what is left of them and remove their folders. */
async function reapAbandonedRuns(user: PostgresUser, progress: (line: string) => void): Promise<void> {
  const parents = [...new Set([runParentDir(), SHM, tmpdir()])];
  const runs = parents.flatMap((parent) => {
    try {
      return readdirSync(parent).filter((e) => e.startsWith(RUN_PREFIX)).map((e) => join(parent, e));
    } catch {
      return [];
    }
  });
  for (const dir of runs) {
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || owner <= 0 || processExists(owner)) continue;
    progress(`cluster: cleaning up ${dir}, left by process ${owner}, which is gone`);
    await killRun(readRunId(dir), dir, user);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The run id a run folder was made for ('unknown' if it never got that far: killRun's folder test still finds its processes). */
function readRunId(dir: string): string {
  try {
    return readFileSync(join(dir, 'run-id'), 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}
