/**
 * The report's "upcoming rollovers": the keys whose automatic rollover
 * comes within UPCOMING_ROLLOVER_DAYS of the report's generation (overdue
 * ones too: they roll at the next check), soonest first, and the rollover
 * notices the appliance recorded in the audit trail during the period
 * (domain/rollover-notices.ts), each marked genuine or not (its MAC checked
 * by the caller) and each scheduled rollover showing when its genuine
 * notice was recorded. Bounded like the rest of the report: the soonest
 * MAX_UPCOMING are kept, the rest counted.
 */
import { AuditEvent } from '../audit/audit-event';
import { KeyView } from '../views';
import { RecordedRolloverNotice, ScheduledRollover, UpcomingRollovers } from './report-model';

/** How far ahead the report looks for rollovers to come. */
export const UPCOMING_ROLLOVER_DAYS = 30;
/** Most scheduled rollovers and most notices listed. */
export const MAX_UPCOMING = 1000;
/** The audit event type of a notice (domain/rollover-notices.ts ROLLOVER_NOTICE_EVENT; the report reads the trail, not the scheduler). */
const ROLLOVER_NOTICE = 'rollover-notice';

type Scheduled = Omit<ScheduledRollover, 'noticedAt'>;

export class UpcomingRolloversBuilder {
  private readonly untilMs: number;
  /** Kept sorted soonest first, at most MAX_UPCOMING. */
  private scheduled: Scheduled[] = [];
  private omittedScheduled = 0;
  private readonly notices: RecordedRolloverNotice[] = [];
  private omittedNotices = 0;

  /**
   * `nowMs`: the report's generation time, from which the window is counted.
   * `genuine`: whether a notice event is the appliance's (null: not checked).
   */
  constructor(nowMs: number, private readonly genuine: (event: AuditEvent) => boolean | null = () => null) {
    this.untilMs = nowMs + UPCOMING_ROLLOVER_DAYS * 86_400_000;
  }

  addKey(key: KeyView): void {
    if (key.nextRolloverAt === null || !(Date.parse(key.nextRolloverAt) < this.untilMs)) return;
    const item: Scheduled = { key: key.fullName, instance: key.currentInstance, dueAt: key.nextRolloverAt, cryptoperiod: key.cryptoperiod };
    if (this.scheduled.length >= MAX_UPCOMING) {
      this.omittedScheduled++;
      // Keep the soonest: a later one than the last kept is only counted.
      if (this.scheduled[this.scheduled.length - 1].dueAt <= item.dueAt) return;
      this.scheduled.pop();
    }
    const at = this.scheduled.findIndex((s) => s.dueAt > item.dueAt);
    this.scheduled.splice(at === -1 ? this.scheduled.length : at, 0, item);
  }

  /** Takes a rollover notice (the caller has checked the period); other events are ignored. */
  addEvent(event: AuditEvent): void {
    if (event.type !== ROLLOVER_NOTICE) return;
    if (this.notices.length >= MAX_UPCOMING) {
      this.omittedNotices++;
      return;
    }
    this.notices.push({
      noticedAt: event.time, key: event.key, instance: event.instance, dueAt: event.custom.dueAt ?? null, cryptoperiod: event.custom.cryptoperiod ?? null, genuine: this.genuine(event),
    });
  }

  build(): UpcomingRollovers {
    const noticed = new Map<string, string>();
    // A forged notice must not show a rollover as announced; an unchecked one (sealed) still counts.
    for (const notice of this.notices) if (notice.key !== null && notice.dueAt !== null && notice.genuine !== false) noticed.set(`${notice.key}@${notice.dueAt}`, notice.noticedAt);
    return {
      withinDays: UPCOMING_ROLLOVER_DAYS,
      scheduled: this.scheduled.map((s) => ({ ...s, noticedAt: noticed.get(`${s.key}@${s.dueAt}`) ?? null })),
      omittedScheduled: this.omittedScheduled,
      notices: [...this.notices],
      omittedNotices: this.omittedNotices,
    };
  }
}
