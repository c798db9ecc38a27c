/**
 * `strongroom rollover due --within` in local mode (the compiled CLI on a
 * data folder made by `init --demo-token`): the keys whose automatic
 * rollover falls within the window, with their due dates, in JSON and text;
 * the window counted from now or from --at, its end inclusive; a key
 * without automatic rollover never listed. Over the wire, with the
 * appliance's clock injected, see test/server/rollover-notices.test.ts.
 *
 * Keys are created now (T0), in UTC: a PnD key is due at the midnight
 * ending its n-th day, in (T0 + (n-1) days, T0 + n days].
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cli, CliRun } from '../support/cli-runner';

const DAY_MS = 86_400_000;

describe('strongroom rollover due --within (local mode)', () => {
  let dir: string;
  let data: string;
  const inData = (...args: string[]): CliRun => cli(['--data', data, ...args], { STRONGROOM_TIMEZONE: 'UTC' });
  const names = (run: CliRun): string[] => run.json.due.map((d: { name: string }) => d.name);
  let due: Record<string, string>;

  beforeAll(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-due-'));
    data = join(dir, 'data');
    expect(inData('init', '--demo-token', '--json').status).toBe(0);
    due = {};
    for (const [name, period] of [['due/daily', 'P1D'], ['due/tenday', 'P10D'], ['due/monthly', 'P30D']]) {
      const created = inData('key', 'create', name, '--cryptoperiod', period, '--json');
      expect(created.status).toBe(0);
      due[name] = created.json.key.nextRolloverAt;
    }
    expect(inData('key', 'create', 'due/manual', '--rollover', 'manual', '--json').status).toBe(0);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists exactly the keys due within the window from now, with their due dates', () => {
    const before = Date.now();
    const run = inData('rollover', 'due', '--within', 'P7D', '--json');
    expect(run.status).toBe(0);
    expect(run.json.due).toEqual([{ name: 'due/daily', nextRolloverAt: due['due/daily'] }]);
    expect(run.json.within).toBe('P7D');
    expect(Date.parse(run.json.at) - Date.parse(run.json.from)).toBe(7 * DAY_MS);
    expect(Date.parse(run.json.from)).toBeGreaterThanOrEqual(before);
  });

  it('counts the window from --at, its end inclusive to the millisecond', () => {
    const tenday = Date.parse(due['due/tenday']);
    const exactly = inData('rollover', 'due', '--at', new Date(tenday - 7 * DAY_MS).toISOString(), '--within', 'P7D', '--json');
    expect(names(exactly)).toEqual(['due/daily', 'due/tenday']);
    const justBefore = inData('rollover', 'due', '--at', new Date(tenday - 7 * DAY_MS - 1).toISOString(), '--within', 'P7D', '--json');
    expect(names(justBefore)).toEqual(['due/daily']);
    const all = inData('rollover', 'due', '--within', 'P5W', '--json');
    expect(names(all)).toEqual(['due/daily', 'due/tenday', 'due/monthly']);
  });

  it('prints a table with the due dates in text mode, and says when nothing is due', () => {
    const text = inData('rollover', 'due', '--within', 'PT1S');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^Nothing due within PT1S of /);
    const week = inData('rollover', 'due', '--within', 'P7D');
    expect(week.stdout).toMatch(/^Due within P7D of .* \(by .*\):/);
    expect(week.stdout).toContain(`due/daily`);
    expect(week.stdout).toContain(due['due/daily']);
    expect(week.stdout).not.toContain('due/tenday');
  });

  it('refuses a calendar or malformed window (exit 2) with what to write instead', () => {
    const months = inData('rollover', 'due', '--within', 'P1M', '--json');
    expect([months.status, months.json.error.code]).toEqual([2, 'INVALID_ARGUMENT']);
    expect(months.json.error.message).toMatch(/P30D/);
    expect(inData('rollover', 'due', '--within', 'soon', '--json').status).toBe(2);
  });
});
