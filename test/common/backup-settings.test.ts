/**
 * backup_schedule and backup_retention are checked when the configuration
 * loads, like every setting: an exact ISO 8601 duration of at least PT1H or
 * off, and a whole count from 1 to 1000; anything else is CONFIG_INVALID
 * naming the setting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupRetention, backupScheduleMs } from '../../common/backup-settings';
import { loadConfig } from '../../common/config';
import { ConfigError } from '../../common/errors';
import { codeOf } from '../support/error-code';

describe('backup settings', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strongroom-backup-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to no schedule and a retention of 7, and takes a schedule and count from the environment', () => {
    const base = loadConfig({ dataDir: dir, env: {} });
    expect(base.values.backup_schedule).toBe('off');
    expect(base.values.backup_retention).toBe('7');
    const set = loadConfig({ dataDir: dir, env: { STRONGROOM_BACKUP_SCHEDULE: 'PT6H', STRONGROOM_BACKUP_RETENTION: '30' } });
    expect(backupScheduleMs(set.values.backup_schedule as string)).toBe(6 * 3_600_000);
    expect(backupRetention(set.values.backup_retention as string)).toBe(30);
  });

  it('reads off as no schedule and exact durations in milliseconds', () => {
    expect(backupScheduleMs('off')).toBeNull();
    expect(backupScheduleMs('P1D')).toBe(86_400_000);
    expect(backupScheduleMs('P1W')).toBe(7 * 86_400_000);
    expect(backupScheduleMs('PT1H')).toBe(3_600_000);
    expect(backupRetention('1')).toBe(1);
    expect(backupRetention('1000')).toBe(1000);
  });

  it.each([
    ['PT30M', /at least PT1H/],
    ['PT59M59S', /at least PT1H/],
    ['P1M', /ISO 8601 duration/],
    ['daily', /ISO 8601 duration/],
    ['', /ISO 8601 duration/],
    ['P0D', /ISO 8601 duration/],
  ])('refuses backup_schedule %p', (value, message) => {
    expect(codeOf(() => loadConfig({ dataDir: dir, env: {}, flags: { backup_schedule: value } }))).toBe('CONFIG_INVALID');
    expect(() => backupScheduleMs(value)).toThrow(ConfigError);
    expect(() => backupScheduleMs(value)).toThrow(message);
  });

  it.each(['0', '1001', '-1', '2.5', 'seven', ''])('refuses backup_retention %p', (value) => {
    expect(codeOf(() => loadConfig({ dataDir: dir, env: {}, flags: { backup_retention: value } }))).toBe('CONFIG_INVALID');
    expect(() => backupRetention(value)).toThrow(/backup_retention must be a whole number from 1 to 1000/);
  });
});
