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
 *   node dist/scripts/bench-socket.js [--quick] [--json] [--profile] [--keys 1000] [--audit-in-process] [--only Get,KMIP]
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
import { createBenchAppliance } from './bench-appliance';
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isoNow, systemClock } from '../common/clock';
import { encodeFrame } from '../protocol/frame-codec';
import { decodeResponse } from '../protocol/response';
import { CellResult, closeLanes, Credentials, Lane, openLanes, prime, roundTrip, runCell, tlsDescription } from './bench-socket-load';
import { KMIP_WIRE, kmipWorkload, KmipWorkload } from './bench-socket-kmip';
import { EchoConfig } from './bench-socket-servers';
import { formatSelfTimes, readProfile, selfTimes } from './cpu-profile-summary';

const CONNECTION_COUNTS = [1, 16, 64] as const;
const PIPELINE_DEPTH = 16;
/** Round trips per op to learn the real response size the echo server must imitate. */
const SIZE_PROBES = 50;
const ENCRYPT_PLAINTEXT_BYTES = 256;
const BENCH_CLIENT = 'bench-app';
const BENCH_KEY = 'bench/aes';
/** Targets from the issue, checked at 64 connections (reported, never enforced). */
const TARGETS: Record<string, { ratio: number; p99ms?: number }> = { Get: { ratio: 0.7, p99ms: 5 }, Encrypt: { ratio: 0.6 }, GenerateDataKey: { ratio: 0.6 } };
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
const WORKLOADS = ['Get', 'Encrypt', 'GenerateDataKey', 'KMIP'] as const;
type Workload = (typeof WORKLOADS)[number];

interface RunOptions {
  readonly quick: boolean;
  readonly json: boolean;
  readonly profile: boolean;
  readonly keys: number;
  readonly warmupMs: number;
  readonly maxMs: number;
  readonly maxRequests: number;
  readonly auditInProcess: boolean;
  readonly only: ReadonlySet<Workload>;
}

interface Row {
  readonly op: string;
  readonly connections: number;
  readonly mode: 'closed' | 'pipelined';
  readonly real: CellResult;
  readonly echo: CellResult;
  readonly ratio: number;
  /** The appliance process's CPU time (all threads) over the cell's responses, warm-up included: steadier than ops/s on a busy machine. */
  readonly serverUsPerOp: number;
  /** KMIP rows: ops/s over the native Get's measured just before it (the `Get beside KMIP` row), same connections, closed loop (NaN when Get is not measured). */
  readonly vsNative?: number;
  /** The cell's audit group commits: their mean time (ms) and events each; both wires' answers wait for one. */
  readonly commitMs: number;
  readonly eventsPerCommit: number;
}

function options(argv: readonly string[]): RunOptions {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--keys');
  const keys = at >= 0 ? Number(argv[at + 1]) : quick ? 200 : 1000;
  if (!Number.isInteger(keys) || keys < 1 || keys > 100_000) throw new RangeError('--keys must be 1..100000');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? String(argv[onlyAt + 1] ?? '').split(',') : [...WORKLOADS];
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
  };
}


function startChild(name: string, args: string[], execArgv: string[], env: NodeJS.ProcessEnv): Child {
  const proc = fork(join(__dirname, 'bench-socket-servers.js'), args, { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Child(name, proc);
}

interface Prepared {
  readonly flags: Record<string, string>;
  readonly client: Credentials;
  readonly server: Credentials;
  readonly keyNames: string[];
  /** The first instance of each key, in keyNames' order: KMIP's Unique Identifiers. */
  readonly instances: string[];
}

/** Makes the appliance in `dir` in this process (then closes it): token, keychain, PKI, the app client, its grant, the keys. */
async function prepareAppliance(dir: string, keys: number): Promise<Prepared> {
  const { appliance, flags, pki, issue } = await createBenchAppliance(dir);
  try {
    const client = issue(BENCH_CLIENT, 'app');
    appliance.keychain.directory.putGrant({
      id: randomUUID(),
      subjectKind: 'client',
      subject: BENCH_CLIENT,
      pattern: 'bench/*',
      permissions: ['get', 'encrypt', 'generate-data-key'],
      createdAt: isoNow(systemClock),
      createdBy: 'bench-socket',
    });
    appliance.keychain.createKey({ fullName: BENCH_KEY, algorithm: 'AES-256' });
    const keyNames: string[] = [];
    const instances: string[] = [];
    for (let i = 0; i < keys; i++) {
      keyNames.push(`bench/k-${i}`);
      instances.push(appliance.keychain.createKey({ fullName: keyNames[i], algorithm: 'AES-256' }).instances[0].name);
    }
    const server = pki.serverCredentials();
    return { flags, keyNames, instances, client, server };
  } finally {
    await appliance.close();
  }
}

function requestFrame(op: string, args: Record<string, unknown>): Buffer {
  // The id's 8 digits are overwritten per request (bench-socket-load.ts).
  return encodeFrame(Buffer.from(JSON.stringify({ id: '00000000', op, args }), 'utf8'));
}

function requestSets(keyNames: readonly string[], only: ReadonlySet<Workload>): Array<[string, Buffer[]]> {
  const plaintext = randomBytes(ENCRYPT_PLAINTEXT_BYTES).toString('base64');
  const sets: Array<[Workload, Buffer[]]> = [
    ['Get', keyNames.map((name) => requestFrame('Get', { name }))],
    ['Encrypt', [requestFrame('Encrypt', { name: BENCH_KEY, plaintext })]],
    ['GenerateDataKey', [requestFrame('GenerateDataKey', { name: BENCH_KEY })]],
  ];
  return sets.filter(([op]) => only.has(op));
}

/** Mean payload size of the real server's successful answers, per op (and proof that the grants work). */
async function responseSizes(port: number, client: Credentials, sets: Array<[string, Buffer[]]>): Promise<Record<string, number>> {
  const [lane] = await openLanes(port, 1, client);
  try {
    const sizes: Record<string, number> = {};
    for (const [op, requests] of sets) {
      let total = 0;
      for (let i = 0; i < SIZE_PROBES; i++) {
        const payload = await roundTrip(lane, requests[i % requests.length]);
        const response = decodeResponse(payload);
        if (response.error) throw new Error(`${op} failed during set-up: ${response.error.code} ${response.error.message}`);
        total += payload.length;
      }
      sizes[op] = Math.round(total / SIZE_PROBES);
    }
    return sizes;
  } finally {
    closeLanes([lane]);
  }
}

function fixed(value: number, digits: number, width: number): string {
  return (Number.isFinite(value) ? value.toFixed(digits) : '-').padStart(width);
}

function table(rows: readonly Row[]): string {
  const head = `${'op'.padEnd(22)}${'conns'.padStart(6)}  ${'mode'.padEnd(10)}${'ops/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'srv µs/op'.padStart(11)}${'echo ops/s'.padStart(12)}${'echo p99'.padStart(10)}${'ratio'.padStart(8)}${'commit ms'.padStart(11)}${'ev/commit'.padStart(11)}${'KMIP/native'.padStart(13)}`;
  const lines = rows.map(
    (r) =>
      `${r.op.padEnd(22)}${String(r.connections).padStart(6)}  ${r.mode.padEnd(10)}${fixed(r.real.opsPerSecond, 0, 9)}${fixed(r.real.p50ms, 2, 9)}${fixed(r.real.p99ms, 2, 9)}${fixed(r.serverUsPerOp, 0, 11)}` +
      `${fixed(r.echo.opsPerSecond, 0, 12)}${fixed(r.echo.p99ms, 2, 10)}${fixed(r.ratio, 3, 8)}${fixed(r.commitMs, 2, 11)}${fixed(r.eventsPerCommit, 1, 11)}${r.vsNative === undefined ? '' : fixed(r.vsNative, 3, 13)}`,
  );
  return [head, ...lines].join('\n');
}

function targetLines(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  for (const r of rows) {
    const target = TARGETS[r.op];
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

/** The appliance child's CPU time so far (user + system, all threads, microseconds) and its audit group commits so far. */
async function serverCounters(appliance: Child): Promise<{ cpuUs: number; commits: number; events: number; seconds: number }> {
  appliance.send({ type: 'cpu' });
  const usage = await appliance.next('cpu');
  return { cpuUs: (usage.user ?? NaN) + (usage.system ?? NaN), commits: usage.audit?.commits ?? NaN, events: usage.audit?.events ?? NaN, seconds: usage.audit?.seconds ?? NaN };
}

/** Runs a cell on the real server's lanes, with the server's CPU time per response and the cell's audit group commits. */
async function measuredCell(appliance: Child, lanes: readonly Lane[], spec: Parameters<typeof runCell>[1]): Promise<{ real: CellResult; serverUsPerOp: number; commitMs: number; eventsPerCommit: number }> {
  const before = await serverCounters(appliance);
  const real = await runCell(lanes, spec);
  const after = await serverCounters(appliance);
  const commits = after.commits - before.commits;
  return { real, serverUsPerOp: (after.cpuUs - before.cpuUs) / real.responses, commitMs: ((after.seconds - before.seconds) * 1000) / commits, eventsPerCommit: (after.events - before.events) / commits };
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

/** One closed or pipelined cell on the real server and on its echo, as a row. */
async function measureRow(appliance: Child, op: string, requests: Buffer[], lanes: { real: Lane[]; echo: Lane[] }, connections: number, depth: number, opts: RunOptions): Promise<Row> {
  const spec = { requests, connections, depth, warmupMs: opts.warmupMs, maxMs: opts.maxMs, maxRequests: opts.maxRequests };
  const { real, ...server } = await measuredCell(appliance, lanes.real, spec);
  const echoResult = await runCell(lanes.echo, spec);
  return { op, connections, mode: depth === 1 ? 'closed' : 'pipelined', real, echo: echoResult, ratio: real.opsPerSecond / echoResult.opsPerSecond, ...server };
}

/**
 * The KMIP rows: closed loop at each connection count, beside the KMIP echo
 * and a native Get closed cell measured just before it (NATIVE_BESIDE_KMIP):
 * both wires' answers wait for an audit group commit, whose time on a shared
 * disk moves by several times between minutes, so a KMIP cell is compared
 * only with a native cell of the same minute.
 */
async function measureKmip(appliance: Child, op: string, requests: Buffer[], kmipLanes: { real: Lane[]; echo: Lane[] }, native: { requests: Buffer[]; real: Lane[]; echo: Lane[] } | null, opts: RunOptions, log: (line: string) => void): Promise<Row[]> {
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

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const log = (line: string): void => {
    if (!opts.json) console.log(line);
  };
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-bench-socket-'));
  const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), 'strongroom-bench-profile-')) : null;
  const children: Child[] = [];
  const lanes: Array<Parameters<typeof closeLanes>[0]> = [];
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    for (const open of lanes) closeLanes(open);
    await Promise.all(children.map((child) => child.stop()));
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
    const execArgv = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    const appliance = startChild('appliance', ['appliance', join(dir, 'data')], execArgv, env);
    children.push(appliance);
    await appliance.next('waiting');
    appliance.send({ type: 'config', flags: { ...prepared.flags, audit_checkpoint_interval_ms: String(CHECKPOINT_INTERVAL_MS) }, auditInProcess: opts.auditInProcess });
    const ready = await appliance.next('ready');
    const appliancePort = ready.port as number;

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
    for (const [, requests] of sets) await prime(realLanes, requests);
    if (kmip && kmipLanes) await prime(kmipLanes.real, kmip.requests);
    log(`primed: every request of each workload sent once on each wire before the cells`);

    const rows: Row[] = [];
    if (!opts.json) console.log(table([]));
    // KMIP runs right after the native Get, so that the two it is compared with are measured close together.
    const stages: Array<[string, Buffer[]]> = [...sets];
    if (kmip) stages.splice(sets.findIndex(([op]) => op === 'Get') + 1, 0, [`KMIP ${kmip.operation}`, kmip.requests]);
    for (const [op, requests] of stages) {
      if (kmipLanes && op.startsWith('KMIP ')) {
        const nativeGet = sets.find(([name]) => name === 'Get')?.[1];
        rows.push(...(await measureKmip(appliance, op, requests, kmipLanes, nativeGet ? { requests: nativeGet, real: realLanes, echo: echoLanes } : null, opts, log)));
        continue;
      }
      for (const connections of CONNECTION_COUNTS) {
        for (const mode of ['closed', 'pipelined'] as const) {
          const row = await measureRow(appliance, op, requests, { real: realLanes, echo: echoLanes }, connections, mode === 'closed' ? 1 : PIPELINE_DEPTH, opts);
          rows.push(row);
          log(table([row]).split('\n')[1]);
        }
      }
    }
    for (const line of targetLines(rows)) log(line);

    await cleanup();
    let profile: { file: string; top: ReturnType<typeof selfTimes>['entries'] } | null = null;
    if (profileDir) {
      const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
      if (!file) throw new Error(`the appliance child wrote no profile in ${profileDir}`);
      const path = join(profileDir, file);
      profile = { file: path, top: selfTimes(readProfile(path)).entries.slice(0, 15) };
      log('');
      log(`appliance child profile (kept): ${path}`);
      log(formatSelfTimes(path, 15));
    }
    if (opts.json) {
      console.log(JSON.stringify({ node: process.version, cpus: availableParallelism(), date: new Date().toISOString(), loadAverage: loadavg(), setup, quick: opts.quick, keys: opts.keys, echoResponseBytes: sizes, results: rows, targets: targetLines(rows), profile }, null, 2));
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
