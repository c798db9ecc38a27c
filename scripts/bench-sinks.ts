/**
 * Audit sink benchmark: Get ops/s served by a real appliance (SoftHSM2,
 * SQLite, mTLS, in a child process) with no sink, with a live TCP syslog
 * sink, with a dead one (nothing listens on its port: every attempt is
 * refused and its queue fills and drops), and with a stalled one (the SIEM
 * accepts the connection and never reads). Each is printed as ops/s and as
 * a ratio to the no-sink run: forwarding must not make serving wait.
 *
 *   node dist/scripts/bench-sinks.js [--quick] [--json]
 *
 * Every cell is bounded in requests and time; children, sockets and the
 * temp folder are removed on success, error and Ctrl-C.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame } from '../protocol/frame-codec';
import { createBenchAppliance } from './bench-appliance';
import { Child } from './bench-child';
import { closeLanes, Credentials, Lane, openLanes, runCell } from './bench-socket-load';

const BENCH_CLIENT = 'bench-app';
const KEYS = 100;
const CONNECTIONS = 16;
const PIPELINE_DEPTH = 16;

interface Scenario {
  readonly name: string;
  readonly sinkLine: string | null;
}

interface Result {
  readonly scenario: string;
  readonly opsPerSecond: number;
  readonly p99ms: number;
  readonly ratio: number;
}

function startChild(args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = fork(join(__dirname, 'bench-socket-servers.js'), args, { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Child('appliance', proc);
}

/** A TCP listener on 127.0.0.1:0 that either reads and counts, or accepts and never reads (a stalled SIEM). */
async function listener(read: boolean): Promise<{ port: number; bytes: () => number; close: () => Promise<void> }> {
  let bytes = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (read) socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    else socket.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => bytes,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const dead = await listener(true);
  await dead.close();
  return dead.port;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const log = (line: string): void => {
    if (!json) console.log(line);
  };
  const cell = { warmupMs: quick ? 100 : 500, maxMs: quick ? 300 : 3000, maxRequests: quick ? 20_000 : 300_000 };
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-bench-sinks-'));
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanup = async (): Promise<void> => {
    while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void> | void)();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => void cleanup().finally(() => process.kill(process.pid, signal));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { appliance, flags, issue, grantBench } = await createBenchAppliance(dir);
    let client: Credentials;
    const names = Array.from({ length: KEYS }, (_, i) => `bench/k-${i}`);
    try {
      client = issue(BENCH_CLIENT, 'app');
      grantBench(BENCH_CLIENT, ['get'], 'bench-sinks');
      for (const fullName of names) appliance.keychain.createKey({ fullName, algorithm: 'AES-256' });
    } finally {
      await appliance.close();
    }
    const requests = names.map((name) => encodeFrame(Buffer.from(JSON.stringify({ id: '00000000', op: 'Get', args: { name } }), 'utf8')));
    const live = await listener(true);
    cleanups.push(() => live.close());
    const stalled = await listener(false);
    cleanups.push(() => stalled.close());
    const dead = await deadPort();
    const sink = (port: number): string => `transport=syslog-tcp host=127.0.0.1 port=${port} format=cef queue=10000 retry_max_ms=1000`;
    const scenarios: Scenario[] = [
      { name: 'no sink', sinkLine: null },
      { name: 'live TCP sink (CEF)', sinkLine: sink(live.port) },
      { name: 'dead TCP sink', sinkLine: sink(dead) },
      { name: 'stalled TCP sink', sinkLine: sink(stalled.port) },
    ];
    log(`Strongroom audit sink benchmark — node ${process.version}, ${availableParallelism()} CPUs; Get over ${KEYS} keys, ${CONNECTIONS} connections pipelined ${PIPELINE_DEPTH} deep; ${cell.warmupMs} ms warm-up, then ${cell.maxMs} ms or ${cell.maxRequests} requests${quick ? ' (--quick)' : ''}`);
    const results: Result[] = [];
    for (const scenario of scenarios) {
      const scenarioFlags = scenario.sinkLine === null ? flags : { ...flags, audit_sinks: 'siem', 'audit_sink.siem': scenario.sinkLine };
      const child = startChild(['appliance', join(dir, 'data')], { ...process.env, SOFTHSM2_CONF: flags.softhsm2_conf });
      cleanups.push(() => child.stop());
      await child.next('waiting');
      child.send({ type: 'config', flags: scenarioFlags });
      const port = (await child.next('ready')).port as number;
      const lanes: Lane[] = await openLanes(port, CONNECTIONS, client);
      try {
        const result = await runCell(lanes, { requests, connections: CONNECTIONS, depth: PIPELINE_DEPTH, ...cell });
        const base = results[0]?.opsPerSecond ?? result.opsPerSecond;
        results.push({ scenario: scenario.name, opsPerSecond: result.opsPerSecond, p99ms: result.p99ms, ratio: result.opsPerSecond / base });
        log(`${scenario.name.padEnd(22)} ${Math.round(result.opsPerSecond).toString().padStart(8)} Get/s  p99 ${result.p99ms.toFixed(2)} ms  ratio to no sink ${(result.opsPerSecond / base).toFixed(2)}`);
      } finally {
        closeLanes(lanes);
        await child.stop();
      }
    }
    log(`live sink received ${live.bytes()} bytes`);
    if (json) console.log(JSON.stringify({ node: process.version, cpus: availableParallelism(), quick, results, liveSinkBytes: live.bytes() }, null, 2));
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
