/**
 * A real SIEM for the sink tests: Debian's rsyslogd, run in the foreground
 * with its own config, work directory and pid file in a temporary folder,
 * listening on 127.0.0.1 for TCP (imtcp, octet-counted frames) and UDP
 * (imudp). Every message it receives goes through the parsers a SIEM on
 * rsyslog uses, and their results are written one JSON object a line:
 *
 * - `mmpstrucdata` parses the RFC 5424 structured data into
 *   `rfc5424-sd` (element → param → value, escapes undone);
 * - `mmnormalize` with a liblognorm rulebase using the `cef` field type
 *   parses the CEF record into `cef` (header fields and `Extensions`);
 * - `input` says which listener took it (imtcp / imudp); `msgid`, `appname`,
 *   `facility`, `severity` and `timestamp` are rsyslog's reading of the header.
 *
 * Nothing is stubbed: if rsyslogd is not installed, start fails (run
 * scripts/setup.sh) rather than skipping. The UDP port is chosen by binding
 * port 0 and releasing it (imudp cannot report a port it picked); the TCP
 * listener picks its own and writes it to a file. Readiness is checked by
 * probing both listeners until rsyslog's output shows each probe; every
 * wait is bounded, and stop() ends the process it started.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './syslog-listeners';

export const RSYSLOGD = '/usr/sbin/rsyslogd';
/** How long rsyslogd gets to start listening, and to exit when asked. */
const START_MS = 20_000;
const STOP_MS = 10_000;

/** One message as rsyslog parsed it (the template writes `$!`). */
export interface ParsedRecord {
  readonly input: string;
  readonly msgid: string;
  readonly appname: string;
  readonly facility: string;
  readonly severity: string;
  /** TIMESTAMP as rsyslog read it, in RFC 3339. */
  readonly timestamp: string;
  readonly 'rfc5424-sd'?: Record<string, Record<string, string>>;
  readonly cef?: {
    readonly DeviceVendor: string;
    readonly DeviceProduct: string;
    readonly DeviceVersion: string;
    readonly SignatureID: string;
    readonly Name: string;
    readonly Severity: string;
    readonly Extensions: Record<string, string>;
  };
}

export interface RsyslogSiem {
  readonly tcpPort: number;
  readonly udpPort: number;
  /** Everything rsyslog has written so far, parsed (probes included). */
  records(): ParsedRecord[];
  /** What rsyslogd printed on stdout and stderr (for failure messages). */
  readonly diagnostics: string;
  stop(): Promise<void>;
}

/**
 * The liblognorm rulebase: one rule, the whole MSG as CEF.
 *
 * liblognorm 2.0.6's `cef` parser drops the first character of the first
 * extension key when no space follows the last header `|` (for
 * `…|3|rt=1 act=Get` it yields the keys `t` and `act`): it skips one byte
 * after that pipe as if it were a separator. CEF puts the extension right
 * after the pipe, and so does the appliance. The work-around is in the
 * rsyslog config below (normalize a copy of the MSG with a space inserted
 * after the seventh unescaped `|`), not in the appliance's output.
 */
const RULEBASE = 'version=2\nrule=:%cef:cef%\n';

/**
 * The CEF record split after its header (seven unescaped `|`): group 1 is
 * the header up to and with the last pipe, group 4 the extension. POSIX
 * ERE in a RainerScript string (so `\\` is one backslash and `$` needs one).
 */
const CEF_SPLIT = '(CEF:[0-9]+(\\\\|([^|\\\\\\\\]|\\\\\\\\.)*){6}\\\\|)(.*)';

function rsyslogConfig(dir: string, tcpPortFile: string, udpPort: number, output: string): string {
  return `# A SIEM for Strongroom's sink tests (test/sinks/rsyslog-siem.ts); rsyslog's defaults otherwise.
global(workDirectory="${join(dir, 'work')}")
module(load="imtcp")
module(load="imudp")
module(load="mmpstrucdata")
module(load="mmnormalize")
template(name="parsed" type="list") { property(name="$!all-json-plain") constant(value="\\n") }
template(name="timereported" type="string" string="%timereported:::date-rfc3339%")
ruleset(name="siem") {
  set $!input = $inputname;
  set $!msgid = $msgid;
  set $!appname = $app-name;
  set $!facility = $syslogfacility;
  set $!severity = $syslogseverity;
  set $!timestamp = exec_template("timereported");
  action(type="mmpstrucdata" sd_name.lowercase="off")
  # Work-around for liblognorm 2.0.6 (see RULEBASE in rsyslog-siem.ts): a space after the header's last pipe.
  set $.cef = re_extract($msg, "${CEF_SPLIT}", 0, 1, "") & " " & re_extract($msg, "${CEF_SPLIT}", 0, 4, "");
  if $.cef != " " then {
    action(type="mmnormalize" rulebase="${join(dir, 'cef.rulebase')}" variable="$.cef")
  }
  action(type="omfile" file="${output}" template="parsed")
}
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="${tcpPortFile}" ruleset="siem")
input(type="imudp" address="127.0.0.1" port="${udpPort}" ruleset="siem")
`;
}

/** A UDP port free a moment ago (imudp takes no port 0 it could report). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function probe(msgid: string): string {
  return `<14>1 - - strongroom-test - ${msgid} - probe`;
}

async function sendUdp(port: number, message: string): Promise<void> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => socket.send(Buffer.from(message, 'utf8'), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  } finally {
    socket.close();
  }
}

async function sendTcp(port: number, message: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(`${Buffer.byteLength(message, 'utf8')} ${message}`));
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export async function startRsyslog(): Promise<RsyslogSiem> {
  if (!existsSync(RSYSLOGD)) throw new Error(`${RSYSLOGD} is missing: run scripts/setup.sh (it installs Debian's rsyslog and liblognorm-utils)`);
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-rsyslog-'));
  mkdirSync(join(dir, 'work'));
  const output = join(dir, 'parsed.jsonl');
  const tcpPortFile = join(dir, 'tcp.port');
  const udpPort = await freeUdpPort();
  writeFileSync(join(dir, 'cef.rulebase'), RULEBASE);
  writeFileSync(join(dir, 'rsyslog.conf'), rsyslogConfig(dir, tcpPortFile, udpPort, output));

  let diagnostics = '';
  const child = spawn(RSYSLOGD, ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (diagnostics += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (diagnostics += chunk.toString('utf8')));
  const childExit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (err) => (diagnostics += `spawn failed: ${err.message}\n`));

  const records = (): ParsedRecord[] =>
    existsSync(output)
      ? readFileSync(output, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as ParsedRecord)
      : [];
  const seen = (msgid: string): boolean => records().some((record) => record.msgid === msgid);

  const stop = async (): Promise<void> => {
    if (!exited(child)) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
      await childExit;
      clearTimeout(killed);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const alive = (): void => {
      if (exited(child)) throw new Error(`rsyslogd exited at start: ${diagnostics}`);
    };
    await waitFor(() => (alive(), existsSync(tcpPortFile) && /^\d+\s*$/.test(readFileSync(tcpPortFile, 'utf8'))), 'rsyslogd to listen on TCP', START_MS);
    const tcpPort = Number(readFileSync(tcpPortFile, 'utf8').trim());
    // UDP has no handshake: probe until a datagram comes out parsed (bounded), then TCP once.
    const deadline = Date.now() + START_MS;
    while (!seen('probe-udp')) {
      alive();
      if (Date.now() > deadline) throw new Error(`rsyslogd never parsed a UDP probe on port ${udpPort}: ${diagnostics}`);
      await sendUdp(udpPort, probe('probe-udp'));
      await waitFor(() => seen('probe-udp'), 'a UDP probe', 250).catch(() => undefined);
    }
    await sendTcp(tcpPort, probe('probe-tcp'));
    await waitFor(() => (alive(), seen('probe-tcp')), 'a TCP probe', START_MS);
    return {
      tcpPort,
      udpPort,
      records,
      get diagnostics() {
        return diagnostics;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
