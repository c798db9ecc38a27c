/**
 * Audit sinks through the compiled CLI: `strongroom serve` forwards to a
 * JSON-lines file sink configured by environment variables, `strongroom
 * status --server` shows each sink (text and --json), and a bad sink line
 * stops `serve` with CONFIG_INVALID (exit 9) naming the sink and the field.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { verifyRecords } from '../../domain/audit/audit-chain';
import { parseAuditLine } from '../../domain/audit/audit-line';
import { waitFor } from './syslog-listeners';

const CLI = resolve(__dirname, '../../dist/cli/main.js');
const START_WAIT_MS = 30_000;

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function serve(data: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolvePort, reject) => {
    const child = spawn(process.execPath, [CLI, '--data', data, 'serve', '--port', '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start: ${err}`));
    }, START_WAIT_MS);
    child.stderr?.on('data', (chunk) => (err += chunk));
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        clearTimeout(timer);
        resolvePort({ child, port: JSON.parse(line).listening.port as number });
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`serve exited: ${err}`));
    });
  });
}

describe('audit sinks from the CLI', () => {
  let dir: string;
  let data: string;
  let server: { child: ChildProcess; port: number } | null = null;
  const sinkEnv = (): NodeJS.ProcessEnv => ({ STRONGROOM_AUDIT_SINKS: 'archive', STRONGROOM_AUDIT_SINK_ARCHIVE: `transport=file path=${join(dir, 'trail.jsonl')}` });

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.json\``);
    dir = mkdtempSync(join(tmpdir(), 'strongroom-sink-cli-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
  });

  afterAll(async () => {
    if (server !== null && server.child.exitCode === null) {
      const exited = new Promise((r) => server?.child.once('exit', r));
      server.child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to serve with a bad sink line: CONFIG_INVALID, exit 9, naming the sink and the field', () => {
    const bad = cli(['--data', data, '--json', 'serve', '--port', '0'], { STRONGROOM_AUDIT_SINKS: 'archive', STRONGROOM_AUDIT_SINK_ARCHIVE: 'transport=syslog-tcp host=127.0.0.1 port=99999' });
    expect(bad.status).toBe(9);
    const error = JSON.parse(bad.stdout).error as { code: string; message: string; details: { sink: string; field: string } };
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.details).toEqual({ sink: 'archive', field: 'port' });
  });

  it('forwards to the file sink and shows the sink in status --server, text and --json', async () => {
    server = await serve(data, sinkEnv());
    const address = `127.0.0.1:${server.port}`;
    expect(cli(['--data', data, '--server', address, '--json', 'key', 'create', 'hr/payroll']).status).toBe(0);
    const json = cli(['--data', data, '--server', address, '--json', 'status']);
    expect(json.status).toBe(0);
    const sinks = JSON.parse(json.stdout).auditSinks as Array<Record<string, unknown>>;
    expect(sinks).toEqual([expect.objectContaining({ name: 'archive', transport: 'file', format: 'json', target: join(dir, 'trail.jsonl'), dropped: 0 })]);
    const text = cli(['--data', data, '--server', address, 'status']);
    expect(text.stdout).toMatch(/audit sinks:\n\s+archive: file\/json to \S+trail\.jsonl, connected; delivered \d+, queued 0, dropped 0, retries 0/);
    await waitFor(() => existsSync(join(dir, 'trail.jsonl')) && readFileSync(join(dir, 'trail.jsonl'), 'utf8').split('\n').length > 2, 'the file sink');
    const records = readFileSync(join(dir, 'trail.jsonl'), 'utf8').trimEnd().split('\n').map((line, i) => parseAuditLine(line, i + 1));
    // From the first forwarded event on (the trail may hold events from before serve started).
    expect(verifyRecords(records, { seq: records[0].seq - 1, hash: records[0].prevHash })).toMatchObject({ ok: true, events: records.length });
  });
});
