/**
 * A real RELP SIEM for the delivery tests: Debian's rsyslogd (as in
 * rsyslog-siem.ts) with imrelp (package rsyslog-relp) and imtcp on
 * 127.0.0.1, writing one line per message it took: the listener, then the
 * event's seq from the structured data. It can be killed with SIGKILL and
 * started again on the same ports and output file, as a SIEM that crashes
 * and comes back.
 *
 * The main queue is `direct`: a message is written to the output file (a
 * write(2) at the end of its one-message transaction) before imrelp sends
 * its `rsp 200`, so what rsyslog acknowledged survives its SIGKILL. (With
 * rsyslog's default in-memory main queue, a SIEM acknowledges what it only
 * holds in memory: that loss is the SIEM's, and no sender can see it.)
 *
 * Ports are picked by binding port 0 and releasing it (imrelp cannot report
 * a port it picked). Readiness: both listeners accept a connection. Every
 * wait is bounded; stop() ends the process it started.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RSYSLOGD } from './rsyslog-siem';

const IMRELP = '/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so';
const START_MS = 20_000;
const STOP_MS = 10_000;
const PROBE_EVERY_MS = 50;

/** One message rsyslog wrote: the listener (imrelp, imtcp) and the event's seq (NaN for a message without one). */
export interface TakenRecord {
  readonly input: string;
  readonly seq: number;
}

export interface RelpSiem {
  readonly relpPort: number;
  readonly tcpPort: number;
  records(): TakenRecord[];
  readonly diagnostics: string;
  /** SIGSTOP: it takes nothing off its sockets and answers nothing until killed (or SIGCONT). */
  pause(): void;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** Starts rsyslogd again with the same config, ports and output. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RelpTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

function config(dir: string, relpPort: number, tcpPort: number, output: string, tls: RelpTls | null): string {
  const relpTls = tls === null ? '' : ` tls="on" tls.caCert="${tls.caFile}" tls.myCert="${tls.certFile}" tls.myPrivKey="${tls.keyFile}" tls.authMode="certvalid"`;
  return `# A RELP SIEM for Strongroom's delivery tests (test/sinks/rsyslog-relp-siem.ts).
global(workDirectory="${join(dir, 'work')}")
main_queue(queue.type="Direct")
module(load="imrelp")
module(load="imtcp")
template(name="taken" type="string" string="%inputname% %structured-data%\\n")
ruleset(name="siem") {
  action(type="omfile" file="${output}" template="taken" flushOnTXEnd="on" asyncWriting="off")
}
input(type="imrelp" address="127.0.0.1" port="${relpPort}" ruleset="siem"${relpTls})
input(type="imtcp" address="127.0.0.1" port="${tcpPort}" ruleset="siem")
`;
}

async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startRelpSiem(options: { tls?: RelpTls } = {}): Promise<RelpSiem> {
  if (!existsSync(RSYSLOGD) || !existsSync(IMRELP)) throw new Error(`${RSYSLOGD} or ${IMRELP} is missing: run scripts/setup.sh (it installs Debian's rsyslog and rsyslog-relp)`);
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-relp-'));
  mkdirSync(join(dir, 'work'));
  const output = join(dir, 'taken.log');
  const relpPort = await freeTcpPort();
  const tcpPort = await freeTcpPort();
  writeFileSync(join(dir, 'rsyslog.conf'), config(dir, relpPort, tcpPort, output, options.tls ?? null));
  let diagnostics = '';
  let child: ChildProcess | null = null;
  let childExit: Promise<void> = Promise.resolve();
  const exited = (): boolean => child === null || child.exitCode !== null || child.signalCode !== null;

  const start = async (): Promise<void> => {
    const started = spawn(RSYSLOGD, ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout?.on('data', (chunk: Buffer) => (diagnostics += chunk.toString('utf8')));
    started.stderr?.on('data', (chunk: Buffer) => (diagnostics += chunk.toString('utf8')));
    started.once('error', (err) => (diagnostics += `spawn failed: ${err.message}\n`));
    childExit = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    // Bounded: each probe is one connect on loopback.
    const deadline = Date.now() + START_MS;
    for (;;) {
      if (exited()) throw new Error(`rsyslogd exited at start: ${diagnostics}`);
      if ((await accepts(relpPort)) && (await accepts(tcpPort))) return;
      if (Date.now() > deadline) throw new Error(`rsyslogd did not listen on ${relpPort} (RELP) and ${tcpPort} (TCP) within ${START_MS} ms: ${diagnostics}`);
      // The pause between two probes of a bounded poll of the real listeners.
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
  };

  const pause = (): void => {
    if (!exited()) child?.kill('SIGSTOP');
  };

  const kill = async (): Promise<void> => {
    if (exited()) return;
    child?.kill('SIGKILL');
    await childExit;
  };

  const stop = async (): Promise<void> => {
    if (!exited()) {
      child?.kill('SIGTERM');
      // A paused one hears the SIGTERM once it runs again.
      child?.kill('SIGCONT');
      const killed = setTimeout(() => child?.kill('SIGKILL'), STOP_MS);
      await childExit;
      clearTimeout(killed);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const records = (): TakenRecord[] =>
    existsSync(output)
      ? readFileSync(output, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => ({ input: line.split(' ')[0], seq: Number(/ seq="(\d+)"/.exec(line)?.[1] ?? NaN) }))
      : [];

  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    relpPort,
    tcpPort,
    records,
    get diagnostics() {
      return diagnostics;
    },
    pause,
    kill,
    start,
    stop,
  };
}
