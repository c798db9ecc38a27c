/**
 * Issue 16, item 9 (c): `--activate-at` on `key create`, `key register` and
 * `key rollover`, through the compiled CLI. In local mode, against a data
 * folder (`rollover run --at` plays the server's sweep as of a date); over
 * the wire, against a real test appliance on an injected clock, whose own
 * scheduled sweep activates an instance when its date comes (with an
 * `activated` audit event), while `key activate` does it sooner.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import { ManualTimers } from '../support/manual-timers';
import { Credentials, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { assertCliBuilt, cli, cliAsync, CliRun as Run } from '../support/cli-runner';

const DAY_MS = 86_400_000;

describe('activation dates from the CLI', () => {
  let dir: string;

  beforeAll(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-activation-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('in local mode', () => {
    let data: string;
    const local = (...args: string[]): Run => cli(['--data', data, '--json', ...args]);
    const soon = new Date(Date.now() + 2 * DAY_MS).toISOString();
    const after = new Date(Date.now() + 3 * DAY_MS).toISOString();

    beforeAll(() => {
      data = join(dir, 'local');
      expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
    });

    it('creates and registers PreActive keys with a date, refuses a past or zoneless date, and key activate activates one', () => {
      const created = local('key', 'create', 'fy/ledger', '--activate-at', soon);
      expect(created.status).toBe(0);
      expect(created.json.instances[0]).toMatchObject({ state: 'PreActive', current: true, activatedAt: null, activatesAt: soon });
      const registered = cli(['--data', data, '--json', 'key', 'register', 'fy/password', '--activate-at', soon], {}, 'pw');
      expect(registered.json.instances[0]).toMatchObject({ state: 'PreActive', activatesAt: soon });

      for (const bad of ['2001-01-01T00:00:00Z', '2030-01-01']) {
        const refused = local('key', 'create', 'fy/bad', '--activate-at', bad);
        expect(refused.status).toBe(2);
        expect(refused.json.error.code).toBe('INVALID_ARGUMENT');
      }
      expect(local('key', 'show', 'fy/bad').json.error.code).toBe('KEY_NOT_FOUND');

      const activated = local('key', 'activate', 'fy/password');
      expect(activated.status).toBe(0);
      expect(activated.json.instance).toMatchObject({ state: 'Active', activatesAt: null });
      expect(local('key', 'activate', 'fy/password').json.error.code).toBe('WRONG_STATE');
    });

    it('rolls over with a date: the current instance stays current until the sweep makes the successor current', () => {
      expect(local('key', 'create', 'hr/payroll').status).toBe(0);
      const rolled = local('key', 'rollover', 'hr/payroll', '--activate-at', soon);
      expect(rolled.status).toBe(0);
      expect(rolled.json.key.currentVersion).toBe(1);
      expect(rolled.json.instances.map((i: { version: number; state: string; current: boolean }) => [i.version, i.state, i.current])).toEqual([
        [1, 'Active', true],
        [2, 'PreActive', false],
      ]);
      const human = cli(['--data', data, 'key', 'show', 'hr/payroll']);
      expect(human.stdout).toContain(`PreActive until ${soon}`);
      expect(human.stdout).toContain(`strongroom key activate --instance ${rolled.json.instances[1].name}`);
      expect(local('key', 'rollover', 'hr/payroll').json.error.code).toBe('WRONG_STATE');

      const swept = local('rollover', 'run', '--at', after);
      expect(swept.status).toBe(0);
      // fy/ledger's date has come too.
      expect(swept.json.activated).toBe(2);
      const shown = local('key', 'show', 'hr/payroll').json;
      expect(shown.key.currentVersion).toBe(2);
      expect(shown.instances.map((i: { state: string }) => i.state)).toEqual(['Deactivated', 'Active']);
      expect(local('key', 'show', 'fy/ledger').json.instances[0].state).toBe('Active');
    });
  });

  describe('over the wire, against an appliance on an injected clock', () => {
    let app: TestAppliance;
    let clock: ManualClock;
    let officer: string[];

    const write = (name: string, credentials: Credentials): string[] => {
      writeFileSync(join(dir, `${name}.crt`), credentials.certificatePem);
      writeFileSync(join(dir, `${name}.key`), credentials.privateKeyPem, { mode: 0o600 });
      writeFileSync(join(dir, 'ca.pem'), credentials.caPem);
      return ['--cert', join(dir, `${name}.crt`), '--key', join(dir, `${name}.key`), '--ca', join(dir, 'ca.pem')];
    };
    // Asynchronous: the appliance runs in this process and must keep serving while the CLI talks to it.
    const remote = (...args: string[]): Promise<Run> => cliAsync(['--data', join(dir, 'remote'), '--server', `127.0.0.1:${app.port}`, ...officer, '--json', ...args]);

    beforeAll(async () => {
      clock = new ManualClock(Date.now());
      // Manual timers: nothing periodic runs on its own; the test runs the server's sweep when the clock has moved.
      app = await startTestAppliance({}, { clock, timers: new ManualTimers(clock) });
      officer = write('officer', app.officer);
    });

    afterAll(async () => {
      await app?.stop();
    });

    it('the server activates a dated key on its own when the date comes, and records it in the audit trail', async () => {
      const date = new Date(clock.nowMs() + DAY_MS).toISOString();
      const created = await remote('key', 'create', 'ops/later', '--activate-at', date);
      expect(created.status).toBe(0);
      expect(created.json.instances[0]).toMatchObject({ state: 'PreActive', activatesAt: date });
      await app.server.rollover.sweep();
      expect((await remote('key', 'show', 'ops/later')).json.instances[0].state).toBe('PreActive');

      clock.advance(DAY_MS);
      await app.server.rollover.sweep();
      const shown = (await remote('key', 'show', 'ops/later')).json;
      expect(shown.instances[0]).toMatchObject({ state: 'Active', activatedAt: new Date(clock.nowMs()).toISOString(), activatesAt: null });
      const events = (await remote('audit', 'search', '--type', 'activated')).json.events as Array<{ event: { key: string; instance: string; result: string } }>;
      expect(events.map((e) => e.event)).toEqual([expect.objectContaining({ key: 'ops/later', instance: shown.instances[0].name, result: 'ok' })]);
    });

    it('a dated rollover leaves the current instance serving until the successor takes over; key activate does it sooner', async () => {
      expect((await remote('key', 'create', 'ops/payroll')).status).toBe(0);
      const date = new Date(clock.nowMs() + 7 * DAY_MS).toISOString();
      const rolled = await remote('key', 'rollover', 'ops/payroll', '--activate-at', date);
      expect(rolled.status).toBe(0);
      expect(rolled.json.key.currentVersion).toBe(1);
      const successor = rolled.json.instances[1].name as string;
      const again = await remote('key', 'rollover', 'ops/payroll');
      expect([again.status, again.json.error.code]).toEqual([4, 'WRONG_STATE']);

      clock.advance(DAY_MS);
      const early = await remote('key', 'activate', '--instance', successor);
      expect(early.status).toBe(0);
      expect(early.json.instance).toMatchObject({ state: 'Active', current: true });
      const shown = (await remote('key', 'show', 'ops/payroll')).json;
      expect(shown.key.currentInstance).toBe(successor);
      expect(shown.instances[0].state).toBe('Deactivated');
    });
  });
});
