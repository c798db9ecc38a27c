/**
 * The settings of the server's own backups (common/config.ts layers them
 * like every other): how often it makes one (backup_schedule) and how many
 * it keeps in backup_dir (backup_retention). Kept apart from config.ts, as
 * the listeners' are, so that the backup work adds its settings and checks
 * here.
 */
import type { SettingSpec } from './config';
import { ConfigError } from './errors';
import { exactDurationMs } from './exact-duration';

/** Shortest schedule: a backup of a large keychain takes seconds to minutes, and each one is a full copy. */
export const MIN_BACKUP_SCHEDULE_MS = 3_600_000;
/** Most backups retention may keep: far past any sensible count, so a typo (70000) is refused, not obeyed. */
export const MAX_BACKUP_RETENTION = 1000;

export const BACKUP_SETTINGS: readonly SettingSpec[] = [
  {
    key: 'backup_schedule',
    env: 'STRONGROOM_BACKUP_SCHEDULE',
    defaultValue: () => 'off',
    meaning: 'How often the server makes a backup into backup_dir itself (ISO 8601 exact duration, at least PT1H: P1D, PT6H), counted from the newest backup there; off for none (docs/backup.md).',
  },
  {
    key: 'backup_retention',
    env: 'STRONGROOM_BACKUP_RETENTION',
    defaultValue: () => '7',
    meaning: 'How many backups (scheduled and on demand) the server keeps in backup_dir: after each new one, the oldest beyond this count are deleted (only files named as the server names them). 1 to 1000.',
  },
];

/** backup_schedule in milliseconds, or null for off; ConfigError unless an exact duration of at least PT1H. */
export function backupScheduleMs(text: string): number | null {
  if (text === 'off') return null;
  let ms: number;
  try {
    ms = exactDurationMs(text, 'backup_schedule');
  } catch {
    throw new ConfigError(`backup_schedule must be an ISO 8601 duration of weeks, days, hours, minutes or seconds (P1D, PT6H) or off, not "${text}"`);
  }
  if (ms < MIN_BACKUP_SCHEDULE_MS) throw new ConfigError(`backup_schedule must be at least PT1H, not "${text}"`);
  return ms;
}

/** backup_retention as a number; ConfigError unless a whole number from 1 to MAX_BACKUP_RETENTION. */
export function backupRetention(text: string): number {
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > MAX_BACKUP_RETENTION) {
    throw new ConfigError(`backup_retention must be a whole number from 1 to ${MAX_BACKUP_RETENTION}, not "${text}"`);
  }
  return Number(text);
}

export function checkBackupSettings(values: Readonly<Record<string, string | null>>): void {
  backupScheduleMs(values.backup_schedule ?? '');
  backupRetention(values.backup_retention ?? '');
}
