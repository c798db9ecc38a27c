/**
 * Runs the compiled `strongroom` CLI (dist/cli/main.js) as a child process,
 * and `strongroom serve` in the background, for suites that test the CLI as
 * an operator uses it. The server is stopped with SIGTERM (a graceful close:
 * its last audit checkpoint is signed then).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const CLI = resolve(__dirname, '../../dist/cli/main.js');
const START_WAIT_MS = 30_000;

export interface CliRun {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  stdout: string;
  stderr: string;
}

export function assertCliBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.json\``);
}

/** Runs the CLI to its end; `input` is its standard input. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): CliRun {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000, input });
  let json: unknown = null;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    /* human output */
  }
  return { status: result.status ?? -1, json, stdout: result.stdout, stderr: result.stderr };
}

export interface ServingCli {
  readonly child: ChildProcess;
  readonly port: number;
  /** What the server wrote to stderr so far (its log). */
  stderr(): string;
  /** Resolves once the server's stdout holds `text` (a restart's listening line); rejects after START_WAIT_MS. */
  waitForStdout(text: string): Promise<void>;
  /** SIGTERM, then waits for the exit (idempotent). */
  stop(): Promise<void>;
}

export function startServe(data: string, env: NodeJS.ProcessEnv = {}): Promise<ServingCli> {
  return new Promise((resolvePort, reject) => {
    const child = spawn(process.execPath, [CLI, '--data', data, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start: ${err}`));
    }, START_WAIT_MS);
    const stop = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    };
    const waitForStdout = (text: string): Promise<void> =>
      new Promise((resolveText, rejectText) => {
        if (out.includes(text)) return resolveText();
        const timeout = setTimeout(() => {
          child.stdout?.off('data', look);
          rejectText(new Error(`serve did not print ${text} within ${START_WAIT_MS} ms: ${err}`));
        }, START_WAIT_MS);
        const look = (): void => {
          if (!out.includes(text)) return;
          clearTimeout(timeout);
          child.stdout?.off('data', look);
          resolveText();
        };
        child.stdout?.on('data', look);
      });
    child.stderr?.on('data', (chunk) => (err += chunk));
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        clearTimeout(timer);
        resolvePort({ child, port: JSON.parse(line).listening.port as number, stderr: () => err, stop, waitForStdout });
      }
    });
    child.on('exit', () => reject(new Error(`serve exited: ${err}`)));
  });
}

/**
 * Runs the CLI to its end without blocking this process: for suites whose
 * appliance runs in the test process (startTestAppliance), which must keep
 * serving while the CLI talks to it. Killed after 60 s.
 */
export function cliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: unknown = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* human output */
      }
      done({ status: code ?? -1, json, stdout, stderr });
    });
  });
}
