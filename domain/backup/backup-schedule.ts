/**
 * The server's scheduled backups (backup_schedule): at each check it makes a
 * backup if the newest one in backup_dir is a schedule period old (or there
 * is none), through the same maker as BackupCreate (`make`, which audits and
 * applies retention). Due-ness is read from the folder, not kept in memory,
 * so a restart neither skips nor doubles a backup, and an on-demand backup
 * counts as the period's backup too.
 *
 * Checks come every min(period, MAX_CHECK_INTERVAL_MS) on the injected
 * timers (tests drive them by hand). A failed backup (sealed, disk full, the
 * HSM away) leaves the newest backup old, so the next check tries again; a
 * failure is reported (logged; audited by `make`) and never thrown out of a
 * timer, so it cannot bring the server down.
 */
import { Clock } from '../../common/clock';
import { Logger } from '../../common/logger';
import { Timer, Timers } from '../../common/timers';

/** Longest wait between two checks: a failed backup is tried again at most this much later. */
export const MAX_CHECK_INTERVAL_MS = 3_600_000;

/** How the last scheduled backup ended. */
export interface ScheduledRun {
  readonly at: string;
  /** `ok`, or the failure's error code. */
  readonly outcome: string;
  /** The backup made (when ok). */
  readonly name?: string;
  readonly message?: string;
}

/** What `status` shows of the schedule. */
export interface BackupScheduleStatus {
  readonly schedule: string;
  readonly lastScheduled: ScheduledRun | null;
  /** The first check at or after the newest backup's age reaches the period. */
  readonly nextDueAt: string;
}

export interface BackupScheduleOptions {
  /** backup_schedule as written (P1D), and in milliseconds. */
  readonly schedule: string;
  readonly periodMs: number;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  /** When the newest backup in backup_dir was made (null: none). */
  readonly newestBackupMs: () => number | null;
  /** Makes one backup as the server (audited, retention applied): BackupCreate's own path. */
  readonly make: () => Promise<{ name: string }>;
}

export class BackupSchedule {
  private timer: Timer | null = null;
  private running: Promise<void> | null = null;
  private last: ScheduledRun | null = null;
  private nextCheckMs: number;
  private readonly checkMs: number;

  constructor(private readonly options: BackupScheduleOptions) {
    this.checkMs = Math.min(options.periodMs, MAX_CHECK_INTERVAL_MS);
    this.nextCheckMs = options.clock.nowMs() + this.checkMs;
  }

  /** Checks every check interval from now (the first one interval after start, not at start: the server is still coming up). */
  start(): void {
    if (this.timer) return;
    this.nextCheckMs = this.options.clock.nowMs() + this.checkMs;
    this.timer = this.options.timers.every(this.checkMs, () => void this.check());
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.idle();
  }

  /** Resolves once no check is in progress (the one a timer started, if any): starts none itself. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Makes a backup now if one is due, or joins the check in progress; never rejects. */
  check(): Promise<void> {
    this.nextCheckMs = this.options.clock.nowMs() + this.checkMs;
    this.running ??= this.runCheck().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  status(): BackupScheduleStatus {
    const due = this.dueMs();
    const next = this.nextCheckMs;
    const at = due === null || due <= next ? next : next + Math.ceil((due - next) / this.checkMs) * this.checkMs;
    return { schedule: this.options.schedule, lastScheduled: this.last, nextDueAt: new Date(at).toISOString() };
  }

  /**
   * When the next backup is due: a period after the newest one; null when
   * there is none (due now). The folder is not trusted: a name claiming a
   * time after the clock's is not believed (due now), so a file planted
   * with a future name cannot put the schedule off.
   */
  private dueMs(): number | null {
    try {
      const newest = this.options.newestBackupMs();
      return newest === null || newest > this.options.clock.nowMs() ? null : newest + this.options.periodMs;
    } catch {
      return null;
    }
  }

  private async runCheck(): Promise<void> {
    const { clock, log } = this.options;
    const now = clock.nowMs();
    const at = new Date(now).toISOString();
    try {
      const due = this.dueMs();
      if (due !== null && due > now) return;
      const made = await this.options.make();
      this.last = { at, outcome: 'ok', name: made.name };
      log.info('scheduled backup made', { name: made.name });
    } catch (err) {
      const { code, message } = err as { code?: string; message?: string };
      this.last = { at, outcome: code ?? 'INTERNAL_ERROR', message: String(message ?? err) };
      log.error('scheduled backup failed: tried again at the next check', { code: this.last.outcome, message: this.last.message });
    }
  }
}
