/**
 * `strongroom events` (the compiled CLI in a child process) against a real
 * appliance's event stream: --limit and --json print parseable lines as
 * events come, text mode one readable line per event, and refusals exit
 * with the README's codes (10 refused certificate, 11 unavailable, 2 usage).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { parsePage, scrape, valueOf } from '../server/metrics/scrape-metrics';

const CLI = resolve(__dirname, '../../dist/cli/main.js');
/** Bound on each CLI run. */
const RUN_MS = 30_000;

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

describe('strongroom events', () => {
  let app: TestAppliance;
  let dir: string;
  let appConn: RawConnection;
  let material: string;

  const write = (name: string, credentials: Credentials): string[] => {
    writeFileSync(join(dir, `${name}.crt`), credentials.certificatePem);
    writeFileSync(join(dir, `${name}.key`), credentials.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), credentials.caPem);
    return ['--cert', join(dir, `${name}.crt`), '--key', join(dir, `${name}.key`), '--ca', join(dir, 'ca.pem')];
  };

  /** Runs the CLI asynchronously (the appliance is in this process and must keep serving); `meanwhile` runs until it exits. */
  const run = (args: string[], meanwhile?: () => Promise<void>): Promise<Run> =>
    new Promise((done) => {
      const child = spawn(process.execPath, [CLI, '--data', join(dir, 'data'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let exited = false;
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
      child.on('exit', (code) => {
        exited = true;
        clearTimeout(timer);
        done({ status: code ?? -1, stdout, stderr });
      });
      if (meanwhile) {
        void (async () => {
          for (let i = 0; i < 200 && !exited; i++) {
            if (app.server.eventServer.stats.subscribers > 0) await meanwhile();
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
      }
    });

  let officerArgs: string[];
  let server: string[];

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.json\``);
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-events-'));
    app = await startTestAppliance();
    const hrApp = app.issue('hr-app', 'app');
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/payroll' })).error).toBeUndefined();
    // A grant of material is dual-controlled: the fixture's two approver officers approve it.
    expect((await app.approve(await officer.request('PolicyGrant', { client: 'hr-app', pattern: 'hr/*', permissions: ['get'] }))).state).toBe('executed');
    officer.destroy();
    appConn = await app.connect(hrApp);
    material = ((await appConn.request('Get', { name: 'hr/payroll' })).result as { material: string }).material;
    officerArgs = write('officer', app.officer);
    write('hr-app', hrApp);
    server = ['--server', `127.0.0.1:${app.port}`, '--events-port', String(app.server.eventsPort)];
  });

  afterAll(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const eventsArgs = (...rest: string[]): string[] => {
    // --events-port is the command's own option: it goes after `events`.
    return ['--server', server[1], ...officerArgs, 'events', '--events-port', server[3], ...rest];
  };

  it('--json --limit prints one parseable JSON line per event as Gets happen, then exits 0', async () => {
    const result = await run(['--json', ...eventsArgs('--type', 'audit', '--audit-type', 'operation', '--limit', '3', '--wait', '20000')], async () => {
      await appConn.request('Get', { name: 'hr/payroll' });
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    const events = lines.map((line) => JSON.parse(line));
    for (const event of events) expect(event).toMatchObject({ kind: 'audit', event: { type: 'operation', operation: 'Get', key: 'hr/payroll' } });
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    const bytes = Buffer.from(material, 'base64');
    for (const needle of [material, bytes.toString('hex')]) expect(result.stdout).not.toContain(needle);
    expect(Buffer.from(result.stdout, 'latin1').includes(bytes)).toBe(false);
  });

  it('prints one readable line per event in text mode (an approval request as it is made)', async () => {
    const result = await run(eventsArgs('--type', 'approval', '--limit', '1', '--wait', '20000'), async () => {
      app.server.services.events.publish({ kind: 'approval', action: 'requested', requestId: 'req-9', operation: 'Destroy', namespace: 'hr', key: 'hr/payroll', requester: 'test-officer', actor: null, approvals: 0, required: 2, digest: '00'.repeat(32), expiresAt: new Date(Date.now() + 60_000).toISOString(), time: new Date().toISOString() });
    });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\S+ approval requested Destroy hr\/payroll requested by test-officer \(0\/2\) request req-9$/);
  });

  it('--follow runs until --limit events have come (rollover notices here)', async () => {
    const result = await run(['--json', ...eventsArgs('--follow', '--type', 'rollover-notice', '--namespace', 'hr', '--limit', '2')], async () => {
      app.server.services.events.publish({ kind: 'rollover-notice', key: 'pay/other', namespace: 'pay', dueAt: '2030-01-01T00:00:00.000Z', time: new Date().toISOString() });
      app.server.services.events.publish({ kind: 'rollover-notice', key: 'hr/payroll', namespace: 'hr', dueAt: '2030-01-01T00:00:00.000Z', time: new Date().toISOString() });
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual([expect.objectContaining({ kind: 'rollover-notice', key: 'hr/payroll' }), expect.objectContaining({ kind: 'rollover-notice', key: 'hr/payroll' })]);
  });

  it('without --follow, stops after --wait with what arrived (nothing here) and exits 0', async () => {
    const result = await run(['--json', ...eventsArgs('--type', 'rollover-notice', '--wait', '300')]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
  });

  it('exits 10 for an app certificate, 11 when nothing listens, 2 for a bad filter, with one JSON error line', async () => {
    const appArgs = ['--cert', join(dir, 'hr-app.crt'), '--key', join(dir, 'hr-app.key'), '--ca', join(dir, 'ca.pem')];
    const refused = await run(['--json', '--server', server[1], ...appArgs, 'events', '--events-port', server[3], '--wait', '100']);
    expect(refused.status).toBe(10);
    expect(JSON.parse(refused.stdout.trim()).error.code).toBe('PERMISSION_DENIED');
    const down = await run(['--json', ...eventsArgs('--wait', '100').map((a) => (a === server[3] ? '1' : a))]);
    expect(down.status).toBe(11);
    expect(JSON.parse(down.stdout.trim()).error.code).toBe('UNAVAILABLE');
    const bad = await run(['--json', ...eventsArgs('--type', 'bogus', '--wait', '100')]);
    expect(bad.status).toBe(2);
    expect(JSON.parse(bad.stdout.trim()).error.code).toBe('INVALID_ARGUMENT');
    const noServer = await run(['--json', 'events', '--wait', '100']);
    expect(noServer.status).toBe(9);
  });

  it('against `strongroom serve`: the start message names the events and metrics ports, events streams what the server does, /metrics counts it', async () => {
    const data = join(dir, 'served');
    const init = await run(['--data', data, 'init', '--demo-token', '--json']);
    expect(init.status).toBe(0);
    const child = spawn(process.execPath, [CLI, '--data', data, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const listening = await new Promise<{ port: number; eventsPort: number; eventsAddress: string; metricsPort: number; metricsAddress: string }>((done, fail) => {
        let out = '';
        const timer = setTimeout(() => fail(new Error('serve did not start')), RUN_MS);
        child.stdout.on('data', (chunk) => {
          out += chunk;
          const line = out.split('\n').find((l) => l.includes('"listening"'));
          if (line) {
            clearTimeout(timer);
            done(JSON.parse(line).listening);
          }
        });
      });
      expect(listening.eventsAddress).toBe('127.0.0.1');
      expect(listening.eventsPort).toBeGreaterThan(0);
      expect(listening.eventsPort).not.toBe(listening.port);
      const remote = ['--data', data, '--server', `127.0.0.1:${listening.port}`];
      const follower = run(['--data', data, '--server', `127.0.0.1:${listening.port}`, '--json', 'events', '--events-port', String(listening.eventsPort), '--type', 'audit', '--audit-type', 'operation', '--limit', '1', '--wait', '20000']);
      // The CLI's own subscription is in the trail before it is sent anything: keep making events until it has one.
      let done = false;
      void follower.then(() => (done = true));
      for (let i = 0; i < 100 && !done; i++) {
        await run([...remote, '--json', 'key', 'list']);
      }
      const result = await follower;
      expect(result.status).toBe(0);
      expect(JSON.parse(result.stdout.trim())).toMatchObject({ kind: 'audit', event: { type: 'operation', operation: 'Locate', identity: { name: 'admin' } } });
      // The metrics listener (plain HTTP on loopback by default) counted those key lists.
      expect(listening.metricsAddress).toBe('127.0.0.1');
      expect(listening.metricsPort).toBeGreaterThan(0);
      const metrics = await scrape(listening.metricsPort);
      expect(metrics.status).toBe(200);
      expect(valueOf(parsePage(metrics.body), 'strongroom_requests_total', { operation: 'Locate', code: 'OK', transport: 'tls' })).toBeGreaterThanOrEqual(1);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }, 120_000);

  it('has --help with examples', async () => {
    const help = await run(['events', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('--follow');
  });
});
