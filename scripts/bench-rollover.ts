/**
 * Rollover benchmark: how long a real appliance (SoftHSM2 token, SQLite
 * keychain, PKI, the native protocol server in a child process) takes to
 * sweep N keys whose `auto` rollover is due, and what the sweep does to the
 * Get traffic it serves meanwhile: a closed-loop Get load at 16 connections
 * runs for the whole sweep, and the same load for the same duration just
 * BEFORE the sweep is the baseline (same run, same server, same keys).
 *
 *   node dist/scripts/bench-rollover.js [--keys 100000] [--quick] [--json] [--profile]
 *
 * How the sweep is triggered: the server sweeps at start, so it starts with
 * its clock set back to just after the keys were created (nothing is due;
 * the benchmark's `clockOffsetMs`, scripts/bench-socket-servers.ts), the
 * baseline runs, then the clock is moved to real time (everything is due)
 * and an officer client sends RolloverRun: the sweep's duration is the
 * time to its answer, the keys rolled are in it, and a RolloverDue
 * afterwards must list nothing. The server's own periodic check is pushed
 * out of the run (rollover_check_interval_ms) so it cannot race RolloverRun.
 *
 * Before the server starts, a few hundred extra keys are swept in this
 * process (no load, same file): the unloaded per-key cost, which also sizes
 * the baseline window. `--profile` runs the server under `node --cpu-prof`
 * and prints its top self-time functions. Everything is bounded; the child
 * and the temp folder are removed on success, error and Ctrl-C.
 */
import { Child } from './bench-child';
import { createBenchAppliance } from './bench-appliance';
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ManualClock } from '../common/clock';
import { Keychain } from '../domain/keychain';
import { sweepDueRollovers } from '../domain/rollover-scheduler';
import { encodeFrame } from '../protocol/frame-codec';
import { decodeResponse } from '../protocol/response';
import { closeLanes, Credentials, Lane, openLanes, tlsDescription } from './bench-socket-load';
import { GetLoad, table } from './bench-rollover-load';
import { formatSelfTimes, readProfile, selfTimes } from './cpu-profile-summary';

const DEFAULT_KEYS = 100_000;
const QUICK_KEYS = 5_000;
/** Upper bound on --keys: the set-up and the RolloverRun answer (~60 bytes a key) stay bounded. */
const MAX_KEYS = 1_000_000;
const CONNECTIONS = 16;
/** Keys per set-up transaction: one fsync per chunk instead of one per key. */
const CREATE_CHUNK = 5_000;
/** Keys swept in this process, unloaded, before the server starts: the per-key cost. */
const PROBE_KEYS = 300;
/** Age of the probe keys (P1Y): due before the bench keys, and not again within the run once rolled. */
const PROBE_AGE_DAYS = 400;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The server's own periodic sweep: later than any run (and below setInterval's 2^31-1 ms limit). */
const NO_PERIODIC_SWEEP_MS = '2000000000';
/** Baseline window: this many times the unloaded sweep estimate, within these bounds. */
const BASELINE_FACTOR = 1.5;
const MIN_BASELINE_MS = 2_000;
const MAX_BASELINE_MS = 300_000;
/** A child that has not said what it was asked by then failed. */
const CHILD_REPLY_TIMEOUT_MS = 60_000;
/** The sweep must answer within max(this, keys × SWEEP_MS_PER_KEY_BOUND). */
const MIN_SWEEP_TIMEOUT_MS = 180_000;
const SWEEP_MS_PER_KEY_BOUND = 10;
const APP_CLIENT = 'bench-app';
const OFFICER_CLIENT = 'bench-officer';

interface RunOptions {
  readonly keys: number;
  readonly quick: boolean;
  readonly json: boolean;
  readonly profile: boolean;
  readonly warmupMs: number;
}

function options(argv: readonly string[]): RunOptions {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--keys');
  const keys = at >= 0 ? Number(argv[at + 1]) : quick ? QUICK_KEYS : DEFAULT_KEYS;
  if (!Number.isInteger(keys) || keys < 1 || keys > MAX_KEYS) throw new RangeError(`--keys must be 1..${MAX_KEYS}`);
  return { keys, quick, json: argv.includes('--json'), profile: argv.includes('--profile'), warmupMs: quick ? 500 : 2000 };
}


interface Prepared {
  readonly flags: Record<string, string>;
  readonly app: Credentials;
  readonly officer: Credentials;
  readonly keyNames: string[];
  /** When the due keys were created (server clock at start: just after it). */
  readonly createdAtMs: number;
  readonly createSeconds: number;
  readonly probe: { readonly keys: number; readonly seconds: number };
}

/** Makes the appliance in `dir` in this process (then closes it): token, keychain, PKI, clients, grant, the due keys, the probe sweep. */
async function prepareAppliance(dir: string, keys: number): Promise<Prepared> {
  const { appliance, flags, issue, grantBench } = await createBenchAppliance(dir, { timezone: 'UTC', rollover_check_interval_ms: NO_PERIODIC_SWEEP_MS });
  // Created at 01:00 UTC three days ago with P1D: due at 00:00 UTC two days ago.
  const createdAtMs = Math.floor(Date.now() / DAY_MS) * DAY_MS - 3 * DAY_MS + HOUR_MS;
  try {
    const app = issue(APP_CLIENT, 'app');
    const officer = issue(OFFICER_CLIENT, 'officer');
    grantBench(APP_CLIENT, ['get'], 'bench-rollover');

    const keychainAt = async (ms: number): Promise<Keychain> => {
      const keychain = new Keychain({ store: appliance.store, clock: new ManualClock(ms), timeZone: 'UTC' });
      await keychain.unseal(await appliance.hsm());
      return keychain;
    };
    const create = (keychain: Keychain, prefix: string, count: number, cryptoperiod: string): string[] => {
      const names = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
      for (let start = 0; start < count; start += CREATE_CHUNK) {
        appliance.store.transaction(() => {
          for (const fullName of names.slice(start, start + CREATE_CHUNK)) {
            keychain.createKey({ fullName, algorithm: 'AES-256', rollover: { kind: 'auto', cryptoperiod } });
          }
        });
      }
      return names;
    };
    const past = await keychainAt(createdAtMs);
    const t0 = performance.now();
    const keyNames = create(past, 'bench/k-', keys, 'P1D');
    const createSeconds = (performance.now() - t0) / 1000;
    past.seal();

    // Probe keys: P1Y, created 400 days back, so due before createdAtMs (when the bench keys are not yet
    // due) and, once rolled, not due again for a year: the server's sweep never sees them.
    const longAgo = await keychainAt(createdAtMs - PROBE_AGE_DAYS * DAY_MS);
    create(longAgo, 'probe/k-', PROBE_KEYS, 'P1Y');
    const t1 = performance.now();
    const probed = await sweepDueRollovers(longAgo, createdAtMs);
    const probeSeconds = (performance.now() - t1) / 1000;
    longAgo.seal();
    if (probed.rolled !== PROBE_KEYS || probed.failed !== 0) throw new Error(`the probe sweep rolled ${probed.rolled} (${probed.failed} failed), not ${PROBE_KEYS}`);
    return { flags, app, officer, keyNames, createdAtMs, createSeconds, probe: { keys: PROBE_KEYS, seconds: probeSeconds } };
  } finally {
    await appliance.close();
  }
}

/** One officer request on an idle lane; resolves with its result and the answer's size, rejects on an error answer or after timeoutMs. */
function officerRequest(lane: Lane, op: string, args: Record<string, unknown>, timeoutMs: number): Promise<{ result: Record<string, unknown>; bytes: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      lane.onFrames = null;
      reject(new Error(`${op}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    lane.onClose = (err) => {
      clearTimeout(timer);
      reject(err);
    };
    lane.onFrames = (_lane, frames) => {
      if (frames.length === 0) return;
      clearTimeout(timer);
      lane.onFrames = null;
      lane.onClose = null;
      const response = decodeResponse(frames[0]);
      if (response.error) reject(new Error(`${op} failed: ${response.error.code} ${response.error.message}`));
      else resolve({ result: response.result as Record<string, unknown>, bytes: frames[0].length });
    };
    lane.socket.write(encodeFrame(Buffer.from(JSON.stringify({ id: 1, op, args }), 'utf8')));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const log = (line: string): void => {
    if (!opts.json) console.log(line);
  };
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-bench-rollover-'));
  const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), 'strongroom-bench-profile-')) : null;
  let server: Child | null = null;
  const lanes: Lane[][] = [];
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    for (const open of lanes) closeLanes(open);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    void cleanup().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const load0 = loadavg().map((n) => n.toFixed(2)).join(' ');
    log(`Strongroom rollover benchmark — node ${process.version}, ${availableParallelism()} CPUs, ${new Date().toISOString()}, load average ${load0} before the run`);
    const t0 = performance.now();
    const prepared = await prepareAppliance(dir, opts.keys);
    const setupSeconds = (performance.now() - t0) / 1000;
    const probeMsPerKey = (prepared.probe.seconds * 1000) / prepared.probe.keys;
    log(`set-up: ${opts.keys} due auto/P1D keys created in ${prepared.createSeconds.toFixed(1)} s (${Math.round(opts.keys / prepared.createSeconds)} keys/s, transactions of ${CREATE_CHUNK}); whole set-up ${setupSeconds.toFixed(1)} s`);
    log(`unloaded probe sweep in this process: ${prepared.probe.keys} keys in ${(prepared.probe.seconds * 1000).toFixed(0)} ms (${probeMsPerKey.toFixed(3)} ms/key)`);

    const env = { ...process.env, SOFTHSM2_CONF: prepared.flags.softhsm2_conf };
    const execArgv = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    server = new Child('appliance', fork(join(__dirname, 'bench-socket-servers.js'), ['appliance', join(dir, 'data')], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), CHILD_REPLY_TIMEOUT_MS);
    await server.next('waiting');
    // The server starts a minute after the keys were made: its start-up sweep finds nothing due.
    server.send({ type: 'config', flags: prepared.flags, clockOffsetMs: prepared.createdAtMs + 60_000 - Date.now() });
    const port = (await server.next('ready')).port as number;

    const appLanes = await openLanes(port, CONNECTIONS, prepared.app);
    lanes.push(appLanes);
    const [officerLane] = await openLanes(port, 1, prepared.officer);
    lanes.push([officerLane]);
    const dueBefore = await officerRequest(officerLane, 'RolloverDue', { limit: 1 }, CHILD_REPLY_TIMEOUT_MS);
    if ((dueBefore.result.due as unknown[]).length !== 0) throw new Error('keys are already due before the sweep: the baseline would not be one');

    const baselineMs = Math.min(MAX_BASELINE_MS, Math.max(MIN_BASELINE_MS, BASELINE_FACTOR * opts.keys * probeMsPerKey));
    const sweepTimeoutMs = Math.max(MIN_SWEEP_TIMEOUT_MS, opts.keys * SWEEP_MS_PER_KEY_BOUND);
    log(`setup: appliance server in a child process (fork), load generator in this one; ${tlsDescription(appLanes[0])} mTLS on 127.0.0.1`);
    log(`load: closed-loop Get at ${CONNECTIONS} connections over ${opts.keys} keys, ${opts.warmupMs} ms warm-up, baseline up to ${(baselineMs / 1000).toFixed(1)} s, then the sweep`);
    log('trigger: server clock moved from "just after creation" to real time (IPC), then RolloverRun from an officer client; sweep time = time to its answer');

    const requests = prepared.keyNames.map((name) => encodeFrame(Buffer.from(JSON.stringify({ id: '00000000', op: 'Get', args: { name } }), 'utf8')));
    const load = new GetLoad(appLanes, requests);
    load.start();
    let sweep: { result: Record<string, unknown>; bytes: number };
    let sweepStart: number;
    let sweepEnd: number;
    let baselineStart: number;
    try {
      await sleep(opts.warmupMs);
      baselineStart = performance.now();
      await sleep(baselineMs);
      server.send({ type: 'clock', offsetMs: 0 });
      await server.next('clock-set');
      sweepStart = performance.now();
      sweep = await officerRequest(officerLane, 'RolloverRun', {}, sweepTimeoutMs);
      sweepEnd = performance.now();
    } finally {
      await load.stop();
    }
    const sweepMs = sweepEnd - sweepStart;
    const dueAfter = await officerRequest(officerLane, 'RolloverDue', { limit: 10 }, CHILD_REPLY_TIMEOUT_MS);
    const rolled = sweep.result.rolled as number;
    const failed = sweep.result.failed as number;
    // Same duration as the sweep, just before it (shorter only if the sweep outlasted the baseline run).
    const before = load.records.window(Math.max(baselineStart, sweepStart - sweepMs), sweepStart);
    const during = load.records.window(sweepStart, sweepEnd);
    const leftDue = (dueAfter.result.due as unknown[]).length;

    log('');
    log(table([
      ['before sweep', before],
      ['during sweep', during],
    ]));
    log('');
    log(`sweep: ${rolled} keys rolled, ${failed} failed, ${sweep.result.batches} batches in ${(sweepMs / 1000).toFixed(2)} s (${Math.round(rolled / (sweepMs / 1000))} keys/s, ${(sweepMs / Math.max(1, rolled)).toFixed(3)} ms/key under load vs ${probeMsPerKey.toFixed(3)} unloaded); RolloverRun answer ${(sweep.bytes / 1e6).toFixed(1)} MB`);
    log(`after: RolloverDue lists ${leftDue} key(s)${rolled === opts.keys && failed === 0 && leftDue === 0 ? ' — every due key rolled once' : ' — NOT every key rolled'}`);
    log(`during/before: ops/s x${(during.opsPerSecond / before.opsPerSecond).toFixed(2)}, p50 x${(during.p50ms / before.p50ms).toFixed(1)}, p99 x${(during.p99ms / before.p99ms).toFixed(1)}, max ${during.maxMs.toFixed(1)} ms vs ${before.maxMs.toFixed(1)} ms`);

    await cleanup();
    let profile: { file: string; top: ReturnType<typeof selfTimes>['entries'] } | null = null;
    if (profileDir) {
      const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
      if (!file) throw new Error(`the appliance child wrote no profile in ${profileDir}`);
      const path = join(profileDir, file);
      profile = { file: path, top: selfTimes(readProfile(path)).entries.slice(0, 20) };
      log('');
      log(`appliance child profile (whole life of the server; kept): ${path}`);
      log(formatSelfTimes(path, 20));
    }
    if (opts.json) {
      console.log(
        JSON.stringify(
          {
            node: process.version,
            cpus: availableParallelism(),
            date: new Date().toISOString(),
            loadAverageBefore: load0,
            quick: opts.quick,
            keys: opts.keys,
            connections: CONNECTIONS,
            trigger: 'server clock moved to real time, then RolloverRun (officer client)',
            setup: { createSeconds: prepared.createSeconds, totalSeconds: setupSeconds, createChunk: CREATE_CHUNK },
            probe: { keys: prepared.probe.keys, seconds: prepared.probe.seconds, msPerKey: probeMsPerKey },
            sweep: { rolled, failed, batches: sweep.result.batches, seconds: sweepMs / 1000, keysPerSecond: rolled / (sweepMs / 1000), answerBytes: sweep.bytes, dueAfter: leftDue },
            get: { before, during },
            profile,
          },
          null,
          2,
        ),
      );
    }
    if (rolled !== opts.keys || failed !== 0 || leftDue !== 0) process.exitCode = 1;
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
