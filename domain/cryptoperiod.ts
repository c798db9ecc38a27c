/**
 * When a key with rollover policy `auto` rolls over. The rule: "at midnight in
 * the appliance's time zone on the last day of a key's cryptoperiod, a new
 * instance becomes current". Our reading: an instance activated at instant T
 * has a cryptoperiod that starts on T's LOCAL calendar date D (in the appliance
 * time zone, not UTC) and covers the ISO 8601 duration P by calendar arithmetic
 * on local dates (years and months first, clamped to the month's last day, then
 * weeks and days). Its last day is the day before D+P, and the rollover happens
 * at the local midnight that ENDS that last day, i.e. at 00:00 local on D+P.
 * So P1D activated 2026-01-01T10:00Z (UTC) rolls at 2026-01-02T00:00Z, and
 * P90D at 2026-04-01T00:00Z. Where DST skips that midnight the rollover is the
 * first instant of D+P (right after the gap); where midnight is repeated, its
 * first occurrence. Pure: the caller passes "now" and the zone.
 */
import { ValidationError } from '../common/errors';
import { addDuration, parseIsoDuration, ZoneCalendar } from './calendar';

/**
 * Epoch ms at which an instance activated at `activatedAtMs` stops being
 * current: 00:00 in `timeZone` on (local date of activation) + `cryptoperiod`.
 * Always later than the activation: should a zone repeat midnight after the
 * activation instant (a fall-back jump across midnight), the later occurrence
 * is taken rather than one already past.
 * @example rolloverDueAt(Date.parse('2026-06-30T23:30Z'), 'P1D', 'Europe/Paris') // Date.parse('2026-07-01T22:00Z')
 */
export function rolloverDueAt(activatedAtMs: number, cryptoperiod: string, timeZone: string | ZoneCalendar): number {
  const duration = parseIsoDuration(cryptoperiod);
  // A ZoneCalendar can be passed in and reused: building its Intl formatter
  // per key was a twentieth of a rollover sweep's time.
  const calendar = typeof timeZone === 'string' ? new ZoneCalendar(timeZone) : timeZone;
  const due = addDuration(calendar.localDateOf(activatedAtMs), duration);
  const midnights = calendar.midnightsOf(due);
  const next = midnights.find((instant) => instant > activatedAtMs);
  if (next === undefined) {
    throw new ValidationError(`no rollover instant after activation in ${calendar.timeZone}`, { details: { cryptoperiod, timeZone: calendar.timeZone } });
  }
  return next;
}

/**
 * When to warn that a rollover is coming: `noticeMs` before it.
 * @example notificationDueAt(Date.parse('2026-04-01T00:00Z'), 7 * 86_400_000) // 2026-03-25T00:00Z
 */
export function notificationDueAt(rolloverAtMs: number, noticeMs: number): number {
  if (!Number.isFinite(rolloverAtMs) || !Number.isFinite(noticeMs) || noticeMs < 0) {
    throw new ValidationError(`invalid notice period ${noticeMs} ms`);
  }
  return rolloverAtMs - noticeMs;
}

/** Whether something due at `dueMs` is due at `nowMs` (due exactly at the instant counts). */
export function isDue(nowMs: number, dueMs: number): boolean {
  return nowMs >= dueMs;
}

/**
 * The next rollover for a key that missed one (the appliance was off at its
 * due time). It gets ONE new instance, activated now, not one per missed
 * period; that instance's cryptoperiod starts on now's local date, so its
 * rollover is `rolloverDueAt(nowMs, …)`. Missed periods are not replayed.
 */
export function nextDueAfterCatchUp(nowMs: number, cryptoperiod: string, timeZone: string): number {
  return rolloverDueAt(nowMs, cryptoperiod, timeZone);
}
