/**
 * The backup schedule on a manual clock and timers: a backup is made at the
 * first check once the newest backup in the folder is a period old (or there
 * is none), never twice for one period, the period counted across a restart
 * from the folder; a failed backup is reported in the status and tried again
 * at the next check, and never escapes the timer; status tells the last
 * scheduled run and the next due time.
 */
import { ManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logger';
import { BackupSchedule, MAX_CHECK_INTERVAL_MS } from '../../../domain/backup/backup-schedule';
import { ManualTimers } from '../../support/manual-timers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 11, 7, 0, 0, 0);

/** A backup folder in memory: the times of the backups made. */
function setUp(options: { existing?: number[]; periodMs?: number; fail?: () => Error | null } = {}) {
  const clock = new ManualClock(START);
  const timers = new ManualTimers(clock);
  const times = [...(options.existing ?? [])];
  const attempts: number[] = [];
  const schedule = new BackupSchedule({
    schedule: 'P1D',
    periodMs: options.periodMs ?? DAY,
    clock,
    timers,
    log: silentLogger,
    newestBackupMs: () => (times.length === 0 ? null : Math.max(...times)),
    make: async () => {
      attempts.push(clock.nowMs());
      const error = options.fail?.() ?? null;
      if (error) throw error;
      times.push(clock.nowMs());
      return { name: `backup-${times.length}` };
    },
  });
  return { clock, timers, times, attempts, schedule };
}

describe('backup schedule', () => {
  it('checks every min(period, one hour): one backup at the first check when there is none, the next a period later', async () => {
    const { timers, times, schedule } = setUp();
    schedule.start();
    expect(timers.delays()).toEqual([MAX_CHECK_INTERVAL_MS]);
    await timers.advance(HOUR - 1);
    expect(times).toEqual([]);
    await timers.advance(1);
    expect(times).toEqual([START + HOUR]);
    await timers.advance(DAY - 1);
    expect(times).toEqual([START + HOUR]);
    await timers.advance(1);
    expect(times).toEqual([START + HOUR, START + HOUR + DAY]);
    await timers.advance(3 * DAY);
    expect(times).toEqual([1, 2, 3, 4, 5].map((n) => START + HOUR + (n - 1) * DAY));
    await schedule.stop();
    expect(timers.count).toBe(0);
  });

  it('counts the period from the newest backup in the folder, so a restart neither skips nor doubles one', async () => {
    const { timers, times, schedule } = setUp({ existing: [START - 20 * HOUR] });
    schedule.start();
    expect(schedule.status().nextDueAt).toBe(new Date(START + 4 * HOUR).toISOString());
    await timers.advance(3 * HOUR);
    expect(times).toHaveLength(1);
    await timers.advance(HOUR);
    expect(times).toEqual([START - 20 * HOUR, START + 4 * HOUR]);
    await schedule.stop();
  });

  it('does not believe a backup named after the clock (the folder is untrusted): a planted future name does not put the schedule off', async () => {
    const { timers, times, schedule } = setUp({ existing: [START + 30 * DAY] });
    schedule.start();
    await timers.advance(HOUR);
    expect(times).toEqual([START + 30 * DAY, START + HOUR]);
    await schedule.stop();
  });

  it('a period of two hours is checked hourly and makes a backup every two hours', async () => {
    const { timers, times, schedule } = setUp({ periodMs: 2 * HOUR, existing: [START] });
    schedule.start();
    expect(timers.delays()).toEqual([HOUR]);
    await timers.advance(2 * HOUR);
    expect(times).toEqual([START, START + 2 * HOUR]);
    await schedule.stop();
  });

  it('reports a failure in the status, retries at the next check, and never rejects out of the timer', async () => {
    let failing = true;
    const sealed = Object.assign(new Error('the keychain is sealed'), { code: 'SEALED' });
    const { timers, times, attempts, schedule } = setUp({ fail: () => (failing ? sealed : null) });
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      schedule.start();
      await timers.advance(HOUR);
      expect(attempts).toEqual([START + HOUR]);
      expect(times).toEqual([]);
      expect(schedule.status().lastScheduled).toEqual({ at: new Date(START + HOUR).toISOString(), outcome: 'SEALED', message: 'the keychain is sealed' });
      expect(schedule.status().nextDueAt).toBe(new Date(START + 2 * HOUR).toISOString());
      await timers.advance(HOUR);
      expect(attempts).toEqual([START + HOUR, START + 2 * HOUR]);
      failing = false;
      await timers.advance(HOUR);
      expect(times).toEqual([START + 3 * HOUR]);
      expect(schedule.status()).toEqual({
        schedule: 'P1D',
        lastScheduled: { at: new Date(START + 3 * HOUR).toISOString(), outcome: 'ok', name: 'backup-1' },
        nextDueAt: new Date(START + 3 * HOUR + DAY).toISOString(),
      });
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
      await schedule.stop();
    }
  });

  it('a failure without a code is INTERNAL_ERROR; a folder that cannot be read means due now', async () => {
    const clock = new ManualClock(START);
    const timers = new ManualTimers(clock);
    let made = 0;
    const schedule = new BackupSchedule({
      schedule: 'P1D', periodMs: DAY, clock, timers, log: silentLogger,
      newestBackupMs: () => {
        throw new Error('EACCES');
      },
      make: async () => {
        made++;
        throw new Error('disk full');
      },
    });
    await schedule.check();
    expect(made).toBe(1);
    expect(schedule.status().lastScheduled).toMatchObject({ outcome: 'INTERNAL_ERROR', message: 'disk full' });
  });

  it('idle waits for the check a timer started, and starts none itself', async () => {
    const { timers, times, schedule } = setUp();
    await schedule.idle();
    expect(times).toEqual([]);
    schedule.start();
    await timers.advance(HOUR);
    await schedule.idle();
    expect(times).toEqual([START + HOUR]);
    await schedule.stop();
  });

  it('joins a check in progress instead of making a second backup', async () => {
    const { times, schedule } = setUp();
    await Promise.all([schedule.check(), schedule.check()]);
    expect(times).toHaveLength(1);
    await schedule.check();
    expect(times).toHaveLength(1);
  });
});
