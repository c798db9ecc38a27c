/**
 * Appliances on the three-node Patroni cluster (scripts/cluster/cluster.ts),
 * each a `strongroom serve` process of its own, as an operator runs them
 * (docs/cluster/one-appliance.md, docs/cluster/join.md):
 *
 *   - a role and a database of their own on the cluster (C collation), the
 *     role's password in a 0600 file every node reads;
 *   - one SoftHSM2 token per appliance, in its data folder, and ONE master
 *     key written into all of them by scripts/share-master-key.sh
 *     (hsm_imported_master_keys = 1);
 *   - appliance.conf: storage = postgres, postgres_patroni naming the three
 *     Patroni REST ports and PostgreSQL ports, cluster_destroy = logical;
 *   - the first appliance runs `strongroom init` (the keychain, the CA, the
 *     officers admin, officer-2, officer-3), the others `strongroom cluster
 *     join`; then each serves on its own port of a claimed block.
 *
 * Each serves with `strongroom serve` unless the caller passes another
 * launcher: the failover test passes a test-only one whose servers' clocks it
 * moves over IPC (test/support/movable-clock-launcher.ts), so that keys fall
 * due during a bounded run; the demo and operators keep `strongroom serve`.
 *
 * Why processes: SoftHSM2 reads its configuration once per process, and the
 * failover test SIGKILLs one appliance as it does a PostgreSQL node.
 *
 *   const appliances = await startAppliances(cluster, { count: 3 });
 *   … appliances.nodes[i].port, appliances.pki, appliances.nodes[1].kill() …
 *   await appliances.stop();      // every serve killed, the folder removed, the ports given back
 *
 * Every wait is bounded (CLI runs, the listening line, exits). `stop` kills
 * every serve process of the run, even when a start failed half way.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findSoftHsmModule } from '../../hsm/softhsm-token';
// The same token and data folder the multi-appliance tests make (one helper, not two copies).
import { ApplianceToken, makeApplianceToken } from '../../test/support/appliance-process';
import { pgConnector } from '../../storage/postgres/pg-session';
import { PrimaryFinder } from '../../storage/postgres/primary-finder';
import type { RunningCluster } from './cluster';
import { ClusterHarnessError } from './harness-error';
import { claimPortBlock, PortBlock } from './port-block';

const ROOT = resolve(__dirname, '../..');
/** The compiled CLI (this file runs from dist/scripts/cluster or, under jest, from scripts/cluster: both resolve to the repository). */
const CLI = join(ROOT.endsWith('/dist') ? ROOT : join(ROOT, 'dist'), 'cli/main.js');
const SHARE_MASTER_KEY = join(ROOT.endsWith('/dist') ? resolve(ROOT, '..') : ROOT, 'scripts/share-master-key.sh');
const CLI_TIMEOUT_MS = 90_000;
const SERVE_START_MS = 60_000;
const KILL_WAIT_MS = 10_000;
const CLOCK_SET_MS = 10_000;

export const CLUSTER_DATABASE = 'strongroom';
export const CLUSTER_ROLE = 'strongroom';
/** Officers `init` makes with the default quorum of 2: the requester and two approvers. */
export const OFFICERS = ['admin', 'officer-2', 'officer-3'] as const;
export type OfficerName = (typeof OFFICERS)[number];

export interface AppliancesOptions {
  /** How many appliances (1 to 5). */
  readonly count: number;
  /** Parent of the run folder; default the cluster's run folder. */
  readonly parentDir?: string;
  /** Extra appliance.conf settings for every node (e.g. rollover_check_interval_ms). */
  readonly settings?: Readonly<Record<string, string>>;
  /** How each node's server process starts; default `strongroom serve` (what the demo and operators run). */
  readonly launcher?: ServeLauncher;
  readonly progress?: (line: string) => void;
}

/**
 * Starts one node's server on its data folder: a process that prints
 * serve's `{"listening": …}` line on stdout. A test's launcher
 * (test/support/movable-clock-launcher.ts) may open a fork IPC channel to
 * it, over which the test moves the server's clock (moveClock).
 */
export interface ServeLauncher {
  readonly command: string;
  args(dataDir: string): string[];
  /** The process is a fork child that answers `{type:'clock', offsetMs}` with `{type:'clock-set'}`. */
  readonly movableClock: boolean;
}

/** What an operator runs: `strongroom serve --data DIR`, on the system clock. */
export const STRONGROOM_SERVE: ServeLauncher = { command: process.execPath, args: (dataDir) => [CLI, '--data', dataDir, 'serve'], movableClock: false };

export interface ClusterAppliance {
  readonly name: string;
  readonly dataDir: string;
  /** The native protocol's port on 127.0.0.1. */
  readonly port: number;
  readonly pid: number;
  /**
   * Sets the server's clock to the real one plus offsetMs; resolves once the
   * server says it is set. Only for a launcher with a movable clock (tests):
   * `strongroom serve` has none, and this rejects.
   */
  moveClock(offsetMs: number): Promise<void>;
  /** SIGKILL: what a dead machine looks like to the others. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** What the server wrote to stderr so far. */
  log(): string;
  /** Null while it runs; else how it ended ('exit 3', 'SIGKILL'). */
  ended(): string | null;
}

export interface ApplianceCredentials {
  readonly caFile: string;
  certFile(officer: OfficerName): string;
  keyFile(officer: OfficerName): string;
}

export interface RunningAppliances {
  readonly dir: string;
  readonly nodes: readonly ClusterAppliance[];
  /** The CA and the officers' files init wrote (the first node's pki folder). */
  readonly pki: ApplianceCredentials;
  /** Kills every serve, removes the folder, gives the ports back; harmless twice. */
  stop(): Promise<void>;
}

interface Served {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export async function startAppliances(cluster: RunningCluster, options: AppliancesOptions): Promise<RunningAppliances> {
  if (!Number.isInteger(options.count) || options.count < 1 || options.count > 5) throw new ClusterHarnessError(`count must be 1 to 5, not ${options.count}`);
  const progress = options.progress ?? (() => undefined);
  const modulePath = findSoftHsmModule();
  if (modulePath === null) throw new ClusterHarnessError('SoftHSM2 is required (scripts/setup.sh installs it)');
  const dir = mkdtempSync(join(options.parentDir ?? cluster.dir, 'appliances-'));
  const served: Served[] = [];
  let ports: PortBlock | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all(served.map((s) => killAndWait(s)));
      rmSync(dir, { recursive: true, force: true });
      ports?.release();
    })());
  try {
    // Per node: the native protocol, and the event stream (which cannot be turned off).
    ports = await claimPortBlock(2 * options.count);
    const passwordFile = join(dir, 'postgres-password');
    const password = randomBytes(16).toString('hex');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    await createDatabase(cluster, password);
    const names = Array.from({ length: options.count }, (_, i) => `node-${i + 1}`);
    const tokens = names.map((name) => makeApplianceToken(dir, name));
    await run('bash', [SHARE_MASTER_KEY, '--version', '1', '--module', modulePath, ...tokens.map((t) => `${t.label}:${t.pinFile}:${t.softhsmConf}`)], 'share-master-key');
    const patroni = cluster.nodes.map((n) => `${n.name}=${n.rest.host}:${n.rest.port}/${n.postgres.host}:${n.postgres.port}`).join(',');
    tokens.forEach((token, i) =>
      writeConfig(token.dataDir, {
        hsm_module: modulePath,
        hsm_token_label: token.label,
        softhsm2_conf: token.softhsmConf,
        hsm_imported_master_keys: '1',
        storage: 'postgres',
        postgres_patroni: patroni,
        postgres_database: CLUSTER_DATABASE,
        postgres_user: CLUSTER_ROLE,
        postgres_password_file: passwordFile,
        cluster_destroy: 'logical',
        // Several nodes on one host: each its own name (else all take the host name, and the scheduler's lease cannot tell them apart).
        node_name: token.name,
        listen_address: '127.0.0.1',
        listen_port: String((ports as PortBlock).port(i)),
        events_port: String((ports as PortBlock).port(options.count + i)),
        // The pool needs the native port; KMIP and metrics are off so that a node takes only its two claimed ports.
        kmip_port: 'off',
        kmip_https_port: 'off',
        metrics_port: 'off',
        ...options.settings,
      }),
    );
    const first = tokens[0];
    await run(process.execPath, [CLI, '--data', first.dataDir, '--json', 'init'], `init on ${first.name}`);
    progress(`appliances: ${first.name} initialised the keychain in database ${CLUSTER_DATABASE}`);
    for (const token of tokens.slice(1)) {
      await run(process.execPath, [CLI, '--data', token.dataDir, '--json', 'cluster', 'join', '--node', token.name], `cluster join on ${token.name}`);
      progress(`appliances: ${token.name} joined`);
    }
    const nodes: ClusterAppliance[] = [];
    const launcher = options.launcher ?? STRONGROOM_SERVE;
    for (const token of tokens) nodes.push(await serve(token, launcher, served));
    progress(`appliances: ${nodes.map((n) => `${n.name} on 127.0.0.1:${n.port}`).join(', ')}`);
    const pki = join(first.dataDir, 'pki');
    return {
      dir,
      nodes,
      pki: { caFile: join(pki, 'ca.pem'), certFile: (o) => join(pki, `${o}.crt`), keyFile: (o) => join(pki, `${o}.key`) },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** The role and database the appliances use, made on the primary as the superuser. */
async function createDatabase(cluster: RunningCluster, password: string): Promise<void> {
  const finder = new PrimaryFinder({ nodes: cluster.nodes, deadlineMs: 30_000, retryIntervalMs: 250 }, { connect: pgConnector(cluster.superuser, { applicationName: 'appliances-setup' }) });
  const { session } = await finder.find();
  try {
    // The password is hex (no quoting needed); CREATE ROLE takes no parameters.
    await session.query(`CREATE ROLE ${CLUSTER_ROLE} LOGIN PASSWORD '${password}'`);
    await session.query(`CREATE DATABASE ${CLUSTER_DATABASE} OWNER ${CLUSTER_ROLE} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  } finally {
    await session.end();
  }
}

function writeConfig(dataDir: string, values: Record<string, string>): void {
  const lines = ['# Written by scripts/cluster/appliances.ts', ...Object.entries(values).map(([k, v]) => `${k} = ${v}`)];
  writeFileSync(join(dataDir, 'appliance.conf'), `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** Runs a command to its end within CLI_TIMEOUT_MS; throws with its output when it fails. */
function run(command: string, args: readonly string[], what: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done();
      else fail(new ClusterHarnessError(`${what} failed (${signal ?? `exit ${code}`}):\n${output.slice(-2000)}`));
    });
  });
}

/** Starts the node's server (`strongroom serve` by default) on its data folder and waits (bounded) for its listening line. */
function serve(token: ApplianceToken, launcher: ServeLauncher, served: Served[]): Promise<ClusterAppliance> {
  const child = spawn(launcher.command, launcher.args(token.dataDir), { stdio: ['ignore', 'pipe', 'pipe', ...(launcher.movableClock ? (['ipc'] as const) : [])] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const entry = { child, exited };
  served.push(entry);
  let out = '';
  let err = '';
  child.stderr?.on('data', (c) => (err = (err + c).slice(-20_000)));
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new ClusterHarnessError(`serve ${token.name}: no listening line within ${SERVE_START_MS} ms\n${err.slice(-2000)}`)), SERVE_START_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new ClusterHarnessError(`serve ${token.name} exited (${code}) before listening\n${err.slice(-2000)}`));
    });
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line === undefined) return;
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      done({
        name: token.name,
        dataDir: token.dataDir,
        port: JSON.parse(line).listening.port as number,
        pid: child.pid as number,
        moveClock: (offsetMs) => (launcher.movableClock ? moveClock(child, token.name, offsetMs) : Promise.reject(new ClusterHarnessError(`${token.name} runs strongroom serve: its clock is the system's and cannot be moved`))),
        kill: () => killAndWait(entry),
        log: () => err,
        ended: () => (child.exitCode !== null ? `exit ${child.exitCode}` : child.signalCode),
      });
    });
  });
}

/** Sends the offset over the IPC channel and waits (bounded) for the server's `clock-set`. */
function moveClock(child: ChildProcess, name: string, offsetMs: number): Promise<void> {
  return new Promise((done, fail) => {
    const onMessage = (message: { type?: string; offsetMs?: number }): void => {
      if (message?.type !== 'clock-set' || message.offsetMs !== offsetMs) return;
      settle(null);
    };
    const onExit = (): void => settle(new ClusterHarnessError(`${name} ended before its clock was set`));
    const timer = setTimeout(() => settle(new ClusterHarnessError(`${name}: clock not set within ${CLOCK_SET_MS} ms`)), CLOCK_SET_MS);
    const settle = (error: Error | null): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error === null) done();
      else fail(error);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ type: 'clock', offsetMs }, (error) => {
      if (error) settle(new ClusterHarnessError(`${name}: clock message not sent (${error.message})`));
    });
  });
}

async function killAndWait({ child, exited }: Served): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), KILL_WAIT_MS)))]);
  clearTimeout(timer);
  if (!gone) throw new ClusterHarnessError(`serve (pid ${child.pid}) still there ${KILL_WAIT_MS} ms after SIGKILL`);
}
