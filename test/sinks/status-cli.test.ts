/**
 * Audit sinks through the compiled CLI: `strongroom serve` forwards to a
 * JSON-lines file sink configured by environment variables, `strongroom
 * status --server` shows each sink (text and --json), and a bad sink line
 * stops `serve` with CONFIG_INVALID (exit 9) naming the sink and the field;
 * status --server also shows the scheduled backups (backup_schedule).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyRecords } from '../../domain/audit/audit-chain';
import { parseAuditLine } from '../../protocol/audit-line';
import { assertCliBuilt, cli, ServingCli, startServe as serve } from '../support/cli-runner';
import { waitFor } from './syslog-listeners';

describe('audit sinks from the CLI', () => {
  let dir: string;
  let data: string;
  let server: ServingCli | null = null;
  const sinkEnv = (): NodeJS.ProcessEnv => ({ STRONGROOM_AUDIT_SINKS: 'archive', STRONGROOM_AUDIT_SINK_ARCHIVE: `transport=file path=${join(dir, 'trail.jsonl')}` });

  beforeAll(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-sink-cli-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
  });

  afterAll(async () => {
    await server?.stop();
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
    // A schedule too: its first check is an hour after start, so status shows none made yet and when one is due.
    server = await serve(data, { ...sinkEnv(), STRONGROOM_BACKUP_SCHEDULE: 'P1D', STRONGROOM_BACKUP_RETENTION: '3' });
    const address = `127.0.0.1:${server.port}`;
    expect(cli(['--data', data, '--server', address, '--json', 'key', 'create', 'hr/payroll']).status).toBe(0);
    const json = cli(['--data', data, '--server', address, '--json', 'status']);
    expect(json.status).toBe(0);
    const sinks = JSON.parse(json.stdout).auditSinks as Array<Record<string, unknown>>;
    expect(sinks).toEqual([expect.objectContaining({ name: 'archive', transport: 'file', format: 'json', target: join(dir, 'trail.jsonl'), dropped: 0 })]);
    expect(JSON.parse(json.stdout).backups).toEqual({ schedule: 'P1D', retention: 3, lastScheduled: null, nextDueAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    const text = cli(['--data', data, '--server', address, 'status']);
    expect(text.stdout).toMatch(/\n  backups:  every P1D, keeps 3; last scheduled none yet; next due \d{4}-\d\d-\d\dT\S+Z\n/);
    expect(text.stdout).toMatch(/audit sinks:\n\s+archive: file\/json to \S+trail\.jsonl, connected; delivered \d+, queued 0, dropped 0, retries 0/);
    await waitFor(() => existsSync(join(dir, 'trail.jsonl')) && readFileSync(join(dir, 'trail.jsonl'), 'utf8').split('\n').length > 2, 'the file sink');
    const records = readFileSync(join(dir, 'trail.jsonl'), 'utf8').trimEnd().split('\n').map((line, i) => parseAuditLine(line, i + 1));
    // From the first forwarded event on (the trail may hold events from before serve started).
    expect(verifyRecords(records, { seq: records[0].seq - 1, hash: records[0].prevHash })).toMatchObject({ ok: true, events: records.length });
  });
});
