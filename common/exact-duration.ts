/**
 * An ISO 8601 duration of exact time — weeks, days, hours, minutes, seconds
 * (`P7D`, `P2W`, `PT12H`, `P1DT6H`) — in milliseconds, a day being 24 hours.
 * For windows counted from an instant (`rollover due --within P7D`), where
 * a calendar unit would be ambiguous: months and years are refused with the
 * days to write instead (cryptoperiods, which are calendar periods, are
 * parsed by domain/calendar.ts).
 */
import { ValidationError } from './errors';

const EXACT_DURATION = /^P(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,7})H)?(?:(\d{1,9})M)?(?:(\d{1,10})S)?)?$/;
const CALENDAR_UNITS = /^P(?:\d+Y)?(?:\d+M)?/;
/** Longest window: ten years of days, far past any cryptoperiod's next due date. */
export const MAX_EXACT_DURATION_MS = 3660 * 86_400_000;

const UNIT_MS = [7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000];

/**
 * Milliseconds of `text`; INVALID_ARGUMENT (naming `field`) unless it is a
 * non-zero exact duration of at most ten years.
 * @example exactDurationMs('P1DT12H', 'within') // 129_600_000
 */
export function exactDurationMs(text: string, field: string): number {
  const match = EXACT_DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) {
    const calendar = CALENDAR_UNITS.exec(text)?.[0] ?? '';
    const hint = calendar.length > 1 ? ' (months and years vary in length: write days, e.g. P30D or P365D)' : '';
    throw new ValidationError(`${field} "${text}" is not an ISO 8601 duration of weeks, days, hours, minutes or seconds such as P7D or PT12H${hint}`, { details: { field } });
  }
  const ms = match.slice(1).reduce((sum, part, i) => sum + Number(part ?? 0) * UNIT_MS[i], 0);
  if (ms === 0) throw new ValidationError(`${field} "${text}" is empty: give a duration such as P7D`, { details: { field } });
  if (ms > MAX_EXACT_DURATION_MS) throw new ValidationError(`${field} "${text}" is longer than ten years (P3660D)`, { details: { field } });
  return ms;
}
