/**
 * Runs driver.py (Debian's PyKMIP, under /usr/bin/python3) for the Jest
 * tests: writes a client's certificate, key and the appliance CA to a temp
 * folder (0600), runs one scenario against a KMIP port, and reads back its
 * JSON line. A failed step's last exchange is decoded with the appliance's
 * own codec into the KMIP XML encoding (Byte Strings withheld, they may be
 * key material), so that a failure shows exactly what PyKMIP sent and got.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { decodeResponse } from '../../../protocol/kmip/kmip-message-decoder';
import { formatKmipXml } from '../../../protocol/kmip/kmip-xml';
import { decodeTtlv } from '../../../protocol/kmip/ttlv-decoder';
import { Credentials } from '../../support/appliance-fixture';

/** Debian's python3-pykmip is installed for this interpreter; another python3 first on PATH may not import `kmip`. */
export const PYTHON = '/usr/bin/python3';
const DRIVER = join(__dirname, 'driver.py');
/** A scenario is a handful of operations; a minute means PyKMIP or the server is stuck. */
const SCENARIO_TIMEOUT_MS = 60_000;

export type KmipVersionChoice = 'default' | '1.0' | '1.1' | '1.2' | '1.3' | '1.4' | '2.0';

export interface StepResult {
  readonly ok: boolean;
  readonly notRun?: string;
  readonly error?: { type: string; status?: string | null; reason?: string | null; message?: string | null };
  /** The last response's first batch item as PyKMIP decoded it (on failure). */
  readonly result?: { status: string | null; reason: string | null; message: string | null; correlation: string | null } | null;
  readonly exchange?: { sent: string | null; received: string | null };
  readonly [field: string]: unknown;
}

export interface ScenarioRun {
  readonly ok: boolean;
  readonly connected: boolean;
  readonly version?: string;
  readonly tls?: { version: string; cipher: string };
  readonly steps: Record<string, StepResult>;
  readonly error?: { type: string; message: string };
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: SCENARIO_TIMEOUT_MS, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Fails (never skips) when PyKMIP is missing: CI runs scripts/setup.sh, which installs it. */
export async function requirePyKmip(): Promise<void> {
  const probe = await run(PYTHON, ['-c', 'import kmip']);
  if (probe.code !== 0) {
    throw new Error(`PyKMIP is not importable by ${PYTHON} (${probe.stderr.trim().split('\n').pop() ?? 'no output'}): run scripts/setup.sh, which installs Debian's python3-pykmip`);
  }
}

/** A client's credentials as the files PyKMIP reads, readable by this user only. */
export class PyKmipClientFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'strongroom-pykmip-'));
  readonly cert = join(this.dir, 'client.pem');
  readonly key = join(this.dir, 'client.key');
  readonly ca = join(this.dir, 'ca.pem');

  constructor(credentials: Credentials) {
    writeFileSync(this.cert, credentials.certificatePem, { mode: 0o600 });
    writeFileSync(this.key, credentials.privateKeyPem, { mode: 0o600 });
    writeFileSync(this.ca, credentials.caPem, { mode: 0o600 });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ScenarioOptions {
  readonly version?: KmipVersionChoice;
  readonly tls?: 'context' | 'stock';
  readonly serverName?: string;
  readonly args?: Record<string, string>;
}

/** Runs one driver.py scenario against `port` and returns its JSON line. */
export async function runScenario(port: number, files: PyKmipClientFiles, scenario: string, options: ScenarioOptions = {}): Promise<ScenarioRun> {
  const argv = [DRIVER, '--port', String(port), '--cert', files.cert, '--key', files.key, '--ca', files.ca, '--version', options.version ?? 'default', '--tls', options.tls ?? 'context'];
  if (options.serverName !== undefined) argv.push('--server-name', options.serverName);
  for (const [k, v] of Object.entries(options.args ?? {})) argv.push('--arg', `${k}=${v}`);
  argv.push(scenario);
  const { code, stdout, stderr } = await run(PYTHON, argv);
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ScenarioRun;
  } catch {
    throw new Error(`driver.py ${scenario} (exit ${code}) printed no JSON line:\n${stdout}\n${stderr}`);
  }
}

/** A step's record, or a failure that shows what PyKMIP sent and what the server answered. */
export function step(run: ScenarioRun, name: string): StepResult {
  if (!run.connected) throw new Error(`PyKMIP did not connect: ${JSON.stringify(run.error)}`);
  const found = run.steps[name];
  if (found === undefined) throw new Error(`no step ${name} in ${Object.keys(run.steps).join(', ')}`);
  return found;
}

/** The step's results, or an Error naming its failure and the exchange in the KMIP XML encoding. */
export function succeeded(run: ScenarioRun, name: string): StepResult {
  const found = step(run, name);
  if (!found.ok) throw new Error(`step ${name} failed at KMIP ${run.version}: ${describeFailure(found)}`);
  return found;
}

export function describeFailure(found: StepResult): string {
  if (found.notRun) return found.notRun;
  const parts = [JSON.stringify(found.error), `result: ${JSON.stringify(found.result)}`];
  for (const [what, hex] of [['sent', found.exchange?.sent], ['received', found.exchange?.received]] as const) {
    parts.push(`${what}:\n${hex ? decodedForHumans(hex) : '(nothing)'}`);
  }
  return parts.join('\n');
}

/** The message in the KMIP XML encoding, Byte String values replaced by their length. */
export function decodedForHumans(hex: string): string {
  try {
    const xml = formatKmipXml(decodeTtlv(Buffer.from(hex, 'hex')));
    return xml.replace(/type="ByteString" value="([0-9a-fA-F]*)"/g, (_, v: string) => `type="ByteString" value="[${v.length / 2} bytes withheld]"`);
  } catch (err) {
    return `(undecodable: ${(err as Error).message}) ${hex.length / 2} bytes`;
  }
}

/** The first Batch Item of the response a step got, decoded by the appliance's codec: for answers PyKMIP cannot read. */
export function answerOf(found: StepResult): ResponseBatchItem {
  const hex = found.exchange?.received;
  if (!hex) throw new Error(`the step got no response: ${describeFailure(found)}`);
  return decodeResponse(decodeTtlv(Buffer.from(hex, 'hex'))).batchItems[0];
}
