/**
 * Appliances in processes of their own, each with its own SoftHSM2 token and
 * data folder, run as an operator runs them: the token made with
 * softhsm2-util, master keys shared between tokens by
 * scripts/share-master-key.sh (pkcs11-tool), `strongroom init`, then
 * `strongroom serve` in a child process that serves until the test stops it,
 * and the CLI (child processes too) locally or over the wire as any of the
 * officers init made.
 *
 * Why processes: SoftHSM2 reads SOFTHSM2_CONF once per process, at
 * C_Initialize, so two appliances on two token folders cannot share one
 * (test/support/softhsm-fixture.ts). Here the test process never loads the
 * PKCS#11 module at all.
 *
 * Every wait is bounded: the CLI runs at most CLI_TIMEOUT_MS (cli-runner),
 * a server must say it listens within SERVE_START_MS, and stop() sends
 * SIGTERM, then SIGKILL after SERVE_STOP_MS, and resolves only when the
 * process is gone (or throws after SIGKILL_WAIT_MS, which means the kernel
 * did not reap it). stopAll() in an afterAll leaves no child behind.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSoftHsmToken, findSoftHsmModule } from '../../hsm/softhsm-token';
import { CLI, cli, cliAsync, CliRun } from './cli-runner';

/** The operator script that writes one master key into several tokens. */
export const SHARE_MASTER_KEY_SCRIPT = resolve(__dirname, '../../scripts/share-master-key.sh');
const SCRIPT_TIMEOUT_MS = 60_000;
const SERVE_START_MS = 30_000;
const SERVE_STOP_MS = 15_000;
const SIGKILL_WAIT_MS = 5_000;

/** A SoftHSM2 token in `<root>/<name>/softhsm`, with its user PIN in `<root>/<name>/hsm-user-pin`. */
export interface ApplianceToken {
  readonly name: string;
  /** The appliance's data folder: the token and PIN live inside it, as `init --demo-token` puts them. */
  readonly dataDir: string;
  readonly label: string;
  readonly pinFile: string;
  readonly softhsmConf: string;
  readonly modulePath: string;
}

/** Makes the token of appliance `name` (no master key yet) and its data folder. */
export function makeApplianceToken(root: string, name: string): ApplianceToken {
  const modulePath = findSoftHsmModule();
  if (modulePath === null) throw new Error('SoftHSM2 is required (scripts/setup.sh installs it); tests never skip');
  const dataDir = join(root, name);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const userPin = randomBytes(12).toString('hex');
  const pinFile = join(dataDir, 'hsm-user-pin');
  writeFileSync(pinFile, `${userPin}\n`, { mode: 0o600 });
  const label = `sr-${name}-${randomBytes(3).toString('hex')}`;
  const token = createSoftHsmToken({ dir: join(dataDir, 'softhsm'), label, userPin, soPin: randomBytes(12).toString('hex') });
  return { name, dataDir, label, pinFile, softhsmConf: token.softhsmConf, modulePath };
}

/**
 * Runs scripts/share-master-key.sh: one new AES-256 master key of `version`
 * written into every token, and wiped. Returns the run (the caller asserts).
 */
export function shareMasterKey(tokens: readonly ApplianceToken[], version = 1): { status: number; stdout: string; stderr: string } {
  const specs = tokens.map((t) => `${t.label}:${t.pinFile}:${t.softhsmConf}`);
  const run = spawnSync('bash', [SHARE_MASTER_KEY_SCRIPT, '--version', String(version), '--module', tokens[0].modulePath, ...specs], {
    encoding: 'utf8',
    timeout: SCRIPT_TIMEOUT_MS,
  });
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

/**
 * Writes the data folder's appliance.conf: the token, and `settings` (e.g.
 * hsm_imported_master_keys). Enough for `backup verify` with the HSM; init
 * (initAppliance) makes the keychain.
 */
export function configureAppliance(token: ApplianceToken, settings: Record<string, string> = {}): void {
  const values: Record<string, string> = {
    hsm_module: token.modulePath,
    hsm_token_label: token.label,
    softhsm2_conf: token.softhsmConf,
    ...settings,
  };
  const lines = ['# Written by test/support/appliance-process.ts', ...Object.entries(values).map(([k, v]) => `${k} = ${v}`)];
  writeFileSync(join(token.dataDir, 'appliance.conf'), `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** Runs the CLI on this appliance's data folder, locally (`--json` first). */
export function local(token: ApplianceToken, ...args: string[]): CliRun {
  return cli(['--data', token.dataDir, '--json', ...args]);
}

/**
 * `strongroom init` on each configured token, at the same time (each its
 * own process, killed after 60 s): the keychain sealed by the token's master
 * key (made there if it has none).
 */
export function initAppliances(tokens: readonly ApplianceToken[]): Promise<CliRun[]> {
  return Promise.all(tokens.map((token) => cliAsync(['--data', token.dataDir, '--json', 'init'])));
}

/** An officer's certificate init made: admin, or officer-2, officer-3… */
export type OfficerName = 'admin' | `officer-${number}`;

/** Whose credentials a remote CLI run uses. */
export interface RemoteAs {
  /** Default admin. */
  readonly officer?: OfficerName;
  /** The pki folder holding the officer's certificate and key and the CA (default the served data folder's): after a restore the appliance is the backup's, with its CA and officers. */
  readonly pki?: string;
}

export interface ServedAppliance {
  readonly port: number;
  /** The CLI over the wire to this server (`--json` first). */
  remote(args: readonly string[], as?: RemoteAs): CliRun;
  /** What the server wrote to stderr so far (its log). */
  log(): string;
  /**
   * True once the server says it restarted itself onto a restored keychain
   * (its listening line again, with "restarted": "backup-restore"), false
   * after `timeoutMs`, or when it exits first.
   */
  restarted(timeoutMs: number): Promise<boolean>;
  /** SIGTERM, SIGKILL after a bound; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

const running = new Set<ServedAppliance>();

/** Starts `strongroom serve` on the appliance's data folder in a child process (127.0.0.1, a free port). */
export function serveAppliance(token: ApplianceToken): Promise<ServedAppliance> {
  const child = spawn(process.execPath, [CLI, '--data', token.dataDir, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let out = '';
  let err = '';
  let port = 0;
  child.stderr?.on('data', (chunk) => (err += chunk));
  const restartedLine = (): boolean => out.split('\n').some((l) => l.includes('"restarted"'));
  const served: ServedAppliance = {
    get port() {
      return port;
    },
    remote(args, { officer = 'admin', pki = join(token.dataDir, 'pki') } = {}) {
      return cli([
        '--data', token.dataDir, '--server', `127.0.0.1:${port}`, '--ca', join(pki, 'ca.pem'),
        '--cert', join(pki, `${officer}.crt`), '--key', join(pki, `${officer}.key`), '--json', ...args,
      ]);
    },
    log: () => err,
    restarted: (timeoutMs) =>
      new Promise((done) => {
        const finish = (found: boolean): void => {
          clearTimeout(timer);
          child.stdout?.off('data', look);
          child.off('exit', gone);
          done(found);
        };
        const look = (): void => {
          if (restartedLine()) finish(true);
        };
        const gone = (): void => finish(restartedLine());
        const timer = setTimeout(() => finish(restartedLine()), timeoutMs);
        // Registered after ours below (which appends to `out`), so each chunk is looked at once it is in.
        child.stdout?.on('data', look);
        child.once('exit', gone);
        look();
      }),
    stop: () => stopChild(child, exited).finally(() => running.delete(served)),
  };
  running.add(served);
  return new Promise((resolvePort, reject) => {
    const fail = (why: string): void => {
      if (port !== 0) return;
      clearTimeout(timer);
      void served.stop().finally(() => reject(new Error(`serve ${token.name}: ${why}\n${err}`)));
    };
    const timer = setTimeout(() => fail(`no "listening" line within ${SERVE_START_MS} ms`), SERVE_START_MS);
    child.once('exit', () => fail('exited before listening'));
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line === undefined) return;
      clearTimeout(timer);
      port = JSON.parse(line).listening.port as number;
      resolvePort(served);
    });
  });
}

/** Stops every server serveAppliance started and has not stopped yet: for an afterAll. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((served) => served.stop()));
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await within(exited, SERVE_STOP_MS)) return;
  child.kill('SIGKILL');
  if (!(await within(exited, SIGKILL_WAIT_MS))) throw new Error(`serve (pid ${child.pid}) still there ${SIGKILL_WAIT_MS} ms after SIGKILL`);
}

/** True when `promise` settles within `ms`. */
function within(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      done(true);
    });
  });
}

