/**
 * Socket benchmark: Get, Encrypt and GenerateDataKey served by a real
 * appliance over mutual TLS (a SoftHSM2 token, a SQLite keychain, the
 * appliance PKI, the native protocol server), each cell beside the same cell
 * against a bare node:tls echo server measured in the same run: same
 * certificates, same mTLS, same framing, same request bytes, a response frame
 * of the size the real server answers with. The ratio is what everything
 * above TLS and framing costs (docs/protocol.md; DESIGN.md "The hot path").
 * KMIP Get (scripts/bench-socket-kmip.ts) is measured the same way, closed
 * loop, on the appliance's KMIP listener beside a KMIP echo ceiling, over
 * the same keys (Unique Identifier = each key's instance), and compared with
 * a native Get closed cell of the same connection count measured just
 * before it (the `Get beside KMIP` rows; the KMIP/native column).
 * Run after `bash scripts/setup.sh` and `npx tsc -p tsconfig.json`:
 *
 *   node dist/scripts/bench-socket.js [--quick] [--json] [--profile] [--keys 1000] [--audit-in-process] [--only Get,KMIP] [--cluster]
 *
 * `srv µs/op` is the appliance process's CPU time (all its threads) per
 * response of the cell: on a busy machine it moves far less than ops/s, so
 * it is the figure to compare between runs. `commit ms` and `ev/commit` are
 * the cell's audit group commits (mean time of one, events in one): every
 * answer of either wire waits for its commit, and for the one under way
 * before it, so on a shared disk they, not the server's CPU, set the p50.
 *
 * `--only` measures the listed workloads (Get, Encrypt, GenerateDataKey,
 * KMIP) and skips the rest: e.g. `--only KMIP --profile` profiles the KMIP path alone.
 *
 * `--cluster` (as root, after setup.sh: issue 17) adds Create to the
 * single node's workloads, then, once the single node's cells are done and
 * its child stopped, starts the real three-node Patroni/etcd/PostgreSQL
 * cluster of scripts/cluster/ and an appliance on it (storage = postgres,
 * postgres_patroni), and measures its audited Get and Create at the same
 * connection counts beside the same echo: the `(cluster)` rows
 * (scripts/bench-socket-cluster.ts). With `--profile` that child is
 * profiled too. The cluster is stopped with everything else.
 *
 * `--audit-in-process` appends audit events on the server's own connection
 * (each group commit's fsync on the event loop) instead of the audit worker
 * thread, to measure what the worker gains.
 *
 * Both servers run in child processes (scripts/bench-socket-servers.ts), the
 * load generator (scripts/bench-socket-load.ts) in this one, so that client
 * and server never share an event loop. `--profile` runs the appliance child
 * under `node --cpu-prof` and prints its top self-time functions. Every cell
 * is bounded in requests and time; children and temp folders are removed on
 * success, error and Ctrl-C.
 */
import { Child } from './bench-child';
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeLanes, Lane, openLanes, prime, tlsDescription } from './bench-socket-load';
import { KMIP_WIRE, kmipWorkload, KmipWorkload } from './bench-socket-kmip';
import { EchoConfig } from './bench-socket-servers';
import { CellBounds, measureRow, RequestSource, Row, table } from './bench-socket-cells';
import { BenchCluster } from './bench-socket-cluster';
import { ENCRYPT_PLAINTEXT_BYTES, Prepared, prepareAppliance, requestSets, responseSizes } from './bench-socket-setup';
import { formatSelfTimes, readProfile, selfTimes } from './cpu-profile-summary';

const CONNECTION_COUNTS = [1, 16, 64] as const;
const PIPELINE_DEPTH = 16;
const MODES = ['closed', 'pipelined'] as const;
/**
 * Create is measured closed loop only: pipelined at 64 connections it has
 * 1,024 creates in flight, and at the cluster's rate of some hundred a
 * second the drain after the cell alone outlasts the load generator's bound.
 */
const CREATE_MODES = ['closed'] as const;
/** Round trips per op to learn the real response size the echo server must imitate. */
const SIZE_PROBES = 50;
/** Targets from the issue, checked at 64 connections (reported, never enforced). */
/** Issue 15's targets at 64 connections, by operation and mode (reported, never enforced): Get closed 0.5 with p99 under 5 ms, Get pipelined 0.3, Encrypt and GenerateDataKey 0.4. */
const TARGETS: Record<string, Partial<Record<'closed' | 'pipelined', { ratio: number; p99ms?: number }>>> = {
  Get: { closed: { ratio: 0.5, p99ms: 5 }, pipelined: { ratio: 0.3 } },
  Encrypt: { closed: { ratio: 0.4 }, pipelined: { ratio: 0.4 } },
  GenerateDataKey: { closed: { ratio: 0.4 }, pipelined: { ratio: 0.4 } },
};
/** KMIP Get's target (reported, never enforced): its ops/s at least this share of the native Get's, closed loop, same connections. */
const KMIP_TARGET_VS_NATIVE = 0.8;
/**
 * The appliance child's audit checkpoint interval: longer than any run, so
 * the one checkpoint comes at its stop. A checkpoint first verifies every
 * event since the last one (HSM-signing only a verified head): after the
 * pipelined cells that is some hundred thousand events, seconds of CPU on
 * both cores and reads beside the commits' fsyncs, which at the default
 * 60 s landed in whichever cell ran then (the KMIP or native cell at 16
 * connections) and tripled its server CPU per request. It costs one
 * verification per interval, not per request, so it is kept out of the cells.
 */
const CHECKPOINT_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** The native Get closed cell measured right before each KMIP cell, which the KMIP/native column divides by. */
const NATIVE_BESIDE_KMIP = 'Get beside KMIP';
const WORKLOADS = ['Get', 'Encrypt', 'GenerateDataKey', 'Create', 'KMIP'] as const;
type Workload = (typeof WORKLOADS)[number];
/** What runs without --only: Create (a key made per request) only beside a cluster, where it is compared. */
const DEFAULT_WORKLOADS: readonly Workload[] = ['Get', 'Encrypt', 'GenerateDataKey', 'KMIP'];
/** What the clustered appliance is measured on (issue 17): audited Get and Create. */
const CLUSTER_WORKLOADS: ReadonlySet<string> = new Set(['Get', 'Create']);

interface RunOptions extends CellBounds {
  readonly quick: boolean;
  readonly json: boolean;
  readonly profile: boolean;
  readonly keys: number;
  readonly auditInProcess: boolean;
  readonly only: ReadonlySet<Workload>;
  /** Also a clustered appliance (3-node Patroni/PostgreSQL), its Get and Create beside the single node's. */
  readonly cluster: boolean;
}

function options(argv: readonly string[]): RunOptions {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--keys');
  const keys = at >= 0 ? Number(argv[at + 1]) : quick ? 200 : 1000;
  if (!Number.isInteger(keys) || keys < 1 || keys > 100_000) throw new RangeError('--keys must be 1..100000');
  const onlyAt = argv.indexOf('--only');
  const cluster = argv.includes('--cluster');
  const only = onlyAt >= 0 ? String(argv[onlyAt + 1] ?? '').split(',') : cluster ? [...DEFAULT_WORKLOADS, 'Create'] : [...DEFAULT_WORKLOADS];
  const unknown = only.filter((name) => !(WORKLOADS as readonly string[]).includes(name));
  if (only.length === 0 || unknown.length > 0) throw new RangeError(`--only takes a list of ${WORKLOADS.join(', ')}`);
  return {
    quick,
    json: argv.includes('--json'),
    profile: argv.includes('--profile'),
    keys,
    warmupMs: quick ? 100 : 500,
    maxMs: quick ? 300 : 3000,
    maxRequests: quick ? 20_000 : 200_000,
    auditInProcess: argv.includes('--audit-in-process'),
    only: new Set(only as Workload[]),
    cluster,
  };
}

function startChild(name: string, args: string[], execArgv: string[], env: NodeJS.ProcessEnv): Child {
  const proc = fork(join(__dirname, 'bench-socket-servers.js'), args, { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Child(name, proc);
}

function targetLines(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  for (const r of rows) {
    const target = TARGETS[r.op]?.[r.mode];
    if (r.connections !== 64 || !target) continue;
    const ratioOk = r.ratio >= target.ratio;
    const p99Ok = target.p99ms === undefined || r.real.p99ms < target.p99ms;
    const p99Text = target.p99ms === undefined ? '' : `, p99 ${r.real.p99ms.toFixed(2)} ms < ${target.p99ms} ms`;
    lines.push(`target ${r.op} @64 ${r.mode}: ratio ${r.ratio.toFixed(3)} >= ${target.ratio}${p99Text}: ${ratioOk && p99Ok ? 'met' : 'NOT met'}`);
  }
  for (const r of rows) {
    if (r.op !== 'KMIP Get' || r.vsNative === undefined || !Number.isFinite(r.vsNative)) continue;
    const native = rows.find((n) => n.op === NATIVE_BESIDE_KMIP && n.connections === r.connections);
    const cpu = native ? ` (server CPU per op: native ${native.serverUsPerOp.toFixed(0)} µs / KMIP ${r.serverUsPerOp.toFixed(0)} µs = ${(native.serverUsPerOp / r.serverUsPerOp).toFixed(3)})` : '';
    lines.push(`target KMIP Get @${r.connections} closed: KMIP/native ${r.vsNative.toFixed(3)} >= ${KMIP_TARGET_VS_NATIVE}: ${r.vsNative >= KMIP_TARGET_VS_NATIVE ? 'met' : 'NOT met'}${cpu}`);
  }
  return lines;
}

/** Opens one KMIP lane to probe what KMIP can measure (kmipWorkload), then closes it. */
async function probeKmip(port: number | null, prepared: Prepared): Promise<KmipWorkload> {
  if (port === null) throw new Error('the appliance serves no KMIP listener (kmip_port off)');
  const [lane] = await openLanes(port, 1, prepared.client, KMIP_WIRE);
  try {
    return await kmipWorkload(lane, prepared.instances, SIZE_PROBES);
  } finally {
    closeLanes([lane]);
  }
}

/**
 * The KMIP rows: closed loop at each connection count, beside the KMIP echo
 * and a native Get closed cell measured just before it (NATIVE_BESIDE_KMIP):
 * both wires' answers wait for an audit group commit, whose time on a shared
 * disk moves by several times between minutes, so a KMIP cell is compared
 * only with a native cell of the same minute.
 */
async function measureKmip(appliance: Child, op: string, requests: RequestSource, kmipLanes: { real: Lane[]; echo: Lane[] }, native: { requests: RequestSource; real: Lane[]; echo: Lane[] } | null, opts: RunOptions, log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  for (const connections of CONNECTION_COUNTS) {
    const beside = native ? await measureRow(appliance, NATIVE_BESIDE_KMIP, native.requests, native, connections, 1, opts) : null;
    const kmipRow = await measureRow(appliance, op, requests, kmipLanes, connections, 1, opts);
    const row: Row = { ...kmipRow, vsNative: beside ? kmipRow.real.opsPerSecond / beside.real.opsPerSecond : NaN };
    for (const measured of beside ? [beside, row] : [row]) {
      rows.push(measured);
      log(table([measured]).split('\n')[1]);
    }
  }
  return rows;
}

/** Forks an appliance child serving the keychain `flags` point at (profiled into `profileDir` if given); answers it and its ports once it listens. */
async function startAppliance(name: string, dataDir: string, flags: Record<string, string>, profileDir: string | null, opts: RunOptions, children: Child[]): Promise<{ child: Child; port: number; kmipPort: number | null }> {
  const env = { ...process.env, SOFTHSM2_CONF: flags.softhsm2_conf };
  const execArgv = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const child = startChild(name, ['appliance', dataDir], execArgv, env);
  children.push(child);
  await child.next('waiting');
  child.send({ type: 'config', flags: { ...flags, audit_checkpoint_interval_ms: String(CHECKPOINT_INTERVAL_MS) }, auditInProcess: opts.auditInProcess });
  const ready = await child.next('ready');
  return { child, port: ready.port as number, kmipPort: (ready.kmipPort as number | null | undefined) ?? null };
}

/** Closed and pipelined rows of `source` at every connection count, printed as they come. */
async function measureRows(appliance: Child, op: string, source: RequestSource, lanes: { real: Lane[]; echo: Lane[] }, opts: RunOptions, log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  for (const connections of CONNECTION_COUNTS) {
    for (const mode of op.startsWith('Create') ? CREATE_MODES : MODES) {
      const row = await measureRow(appliance, op, source, lanes, connections, mode === 'closed' ? 1 : PIPELINE_DEPTH, opts);
      rows.push(row);
      log(table([row]).split('\n')[1]);
    }
  }
  return rows;
}

/**
 * `--cluster`: the three-node cluster started, an appliance made and served
 * on it, and its Get and Create measured beside the same echo (its lanes
 * carry the single node's client certificate: the echo speaks the single
 * node's PKI). Rows are named `Get (cluster)` and `Create (cluster)`.
 */
async function measureCluster(cluster: BenchCluster, dir: string, echoLanes: Lane[], profileDir: string | null, opts: RunOptions, children: Child[], lanes: Lane[][], log: (line: string) => void): Promise<Row[]> {
  const t0 = Date.now();
  const { flags, description } = await cluster.start(join(dir, 'cluster-secrets'), (line) => log(`  ${line}`));
  log(`cluster: ${description}; ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = Date.now();
  const prepared = await prepareAppliance(join(dir, 'cluster-appliance'), opts.keys, flags);
  log(`cluster set-up: appliance (storage = postgres, postgres_patroni) with ${opts.keys + 1} keys made in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  const { child, port } = await startAppliance('cluster appliance', join(dir, 'cluster-appliance', 'data'), prepared.flags, profileDir, opts, children);
  const realLanes = await openLanes(port, Math.max(...CONNECTION_COUNTS), prepared.client);
  lanes.push(realLanes);
  const sets = requestSets(prepared.keyNames, opts.only).filter(([op]) => CLUSTER_WORKLOADS.has(op));
  for (const [, source] of sets) if (!source.pick) await prime(realLanes, source.requests);
  log(`cluster load average ${loadavg().map((n) => n.toFixed(2)).join(' ')} before its cells`);
  const rows: Row[] = [];
  for (const [op, source] of sets) rows.push(...(await measureRows(child, `${op} (cluster)`, source, { real: realLanes, echo: echoLanes }, opts, log)));
  return rows;
}

/** The top self-time entries of the one profile an appliance child wrote in `profileDir`, printed under `title`. */
function reportProfile(profileDir: string, title: string, log: (line: string) => void): { file: string; top: ReturnType<typeof selfTimes>['entries'] } {
  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the ${title} wrote no profile in ${profileDir}`);
  const path = join(profileDir, file);
  log('');
  log(`${title} profile (kept): ${path}`);
  log(formatSelfTimes(path, 15));
  return { file: path, top: selfTimes(readProfile(path)).entries.slice(0, 15) };
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const log = (line: string): void => {
    if (!opts.json) console.log(line);
  };
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-bench-socket-'));
  const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), 'strongroom-bench-profile-')) : null;
  const clusterProfileDir = opts.profile && opts.cluster ? mkdtempSync(join(tmpdir(), 'strongroom-bench-profile-cluster-')) : null;
  const children: Child[] = [];
  const lanes: Lane[][] = [];
  const cluster = opts.cluster ? new BenchCluster() : null;
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    for (const open of lanes) closeLanes(open);
    // The appliances first: the cluster appliance's last audit commit and checkpoint still reach its database.
    await Promise.all(children.map((child) => child.stop()));
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    void cleanup().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const t0 = Date.now();
    const prepared = await prepareAppliance(dir, opts.keys);
    log(`set-up: appliance with ${opts.keys + 1} keys made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const env = { ...process.env, SOFTHSM2_CONF: prepared.flags.softhsm2_conf };
    const ready = await startAppliance('appliance', join(dir, 'data'), prepared.flags, profileDir, opts, children);
    const appliance = ready.child;
    const appliancePort = ready.port;

    const sets = requestSets(prepared.keyNames, opts.only);
    const sizes = await responseSizes(appliancePort, prepared.client, sets);
    const kmip = opts.only.has('KMIP') ? await probeKmip(ready.kmipPort ?? null, prepared) : null;
    const echo = startChild('echo', ['echo'], [], env);
    children.push(echo);
    await echo.next('waiting');
    const echoConfig: EchoConfig = { type: 'config', ...prepared.server, responseBytes: sizes, ...(kmip ? { kmipResponseBytes: kmip.responseBytes } : {}) };
    echo.send(echoConfig);
    const echoReady = await echo.next('ready');
    const echoPort = echoReady.port as number;

    const maxConnections = Math.max(...CONNECTION_COUNTS);
    const realLanes = await openLanes(appliancePort, maxConnections, prepared.client);
    lanes.push(realLanes);
    const echoLanes = await openLanes(echoPort, maxConnections, prepared.client);
    lanes.push(echoLanes);
    const kmipLanes = kmip ? { real: await openLanes(ready.kmipPort as number, maxConnections, prepared.client, KMIP_WIRE), echo: await openLanes(echoReady.kmipPort as number, maxConnections, prepared.client, KMIP_WIRE) } : null;
    if (kmipLanes) lanes.push(kmipLanes.real, kmipLanes.echo);

    const setup = `appliance server and echo server each in a child process (fork); load generator in the parent process; audit group commits ${opts.auditInProcess ? 'on the server connection (--audit-in-process)' : 'in the audit worker thread'}; audit checkpoint only at the stop (not inside a cell)`;
    const load = loadavg().map((n) => n.toFixed(2)).join(' ');
    const header = `Strongroom socket benchmark — node ${process.version}, ${availableParallelism()} CPUs, ${new Date().toISOString()}, load average ${load} before the run`;
    log(header);
    log(`setup: ${setup}; ${tlsDescription(realLanes[0])} mTLS on 127.0.0.1; Get over ${opts.keys} keys; Encrypt of ${ENCRYPT_PLAINTEXT_BYTES} bytes; pipelined depth ${PIPELINE_DEPTH}`);
    log(`cells: ${opts.warmupMs} ms warm-up, then ${opts.maxMs} ms or ${opts.maxRequests} requests, whichever first${opts.quick ? ' (--quick)' : ''}`);
    log(`echo response payload bytes (measured on the real server): ${Object.entries(sizes).map(([op, n]) => `${op} ${n}`).join(', ')}${kmip ? `; KMIP ${kmip.operation} message ${kmip.responseBytes}` : ''}`);
    if (kmip) log(`KMIP: ${kmip.operation === 'Get' ? `Get by Unique Identifier (instance) over ${opts.keys} keys, Key Format Type Raw` : 'Get is not served yet (answered Operation Not Supported): Discover Versions stands in'}, KMIP 2.1, closed loop; KMIP/native: ops/s over the native Get closed cell measured just before it (Get beside KMIP)`);

    // Each key once on each wire before any cell, so that no wire's first cell fills the server's row cache for the others.
    for (const [, source] of sets) if (!source.pick) await prime(realLanes, source.requests);
    if (kmip && kmipLanes) await prime(kmipLanes.real, kmip.requests);
    log(`primed: every request of each workload sent once on each wire before the cells (Create names a new key each time: not primed)`);

    const rows: Row[] = [];
    if (!opts.json) console.log(table([]));
    // KMIP runs right after the native Get, so that the two it is compared with are measured close together.
    const stages: Array<[string, RequestSource]> = [...sets];
    if (kmip) stages.splice(sets.findIndex(([op]) => op === 'Get') + 1, 0, [`KMIP ${kmip.operation}`, { requests: kmip.requests }]);
    for (const [op, source] of stages) {
      if (kmipLanes && op.startsWith('KMIP ')) {
        const nativeGet = sets.find(([name]) => name === 'Get')?.[1];
        rows.push(...(await measureKmip(appliance, op, source, kmipLanes, nativeGet ? { requests: nativeGet, real: realLanes, echo: echoLanes } : null, opts, log)));
        continue;
      }
      rows.push(...(await measureRows(appliance, op, source, { real: realLanes, echo: echoLanes }, opts, log)));
    }
    if (cluster) {
      // The single node is done: its child stops (and writes its profile) before the cluster's start takes the CPU.
      closeLanes(realLanes);
      await appliance.stop();
      rows.push(...(await measureCluster(cluster, dir, echoLanes, clusterProfileDir, opts, children, lanes, log)));
    }
    for (const line of targetLines(rows)) log(line);

    await cleanup();
    const profile = profileDir ? reportProfile(profileDir, 'appliance child', log) : null;
    const clusterProfile = clusterProfileDir ? reportProfile(clusterProfileDir, 'cluster appliance child', log) : null;
    if (opts.json) {
      console.log(JSON.stringify({ node: process.version, cpus: availableParallelism(), date: new Date().toISOString(), loadAverage: loadavg(), setup, quick: opts.quick, keys: opts.keys, echoResponseBytes: sizes, results: rows, targets: targetLines(rows), profile, clusterProfile }, null, 2));
    }
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
