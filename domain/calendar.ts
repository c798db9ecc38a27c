/**
 * Local calendar dates in the appliance's time zone, with nothing but `Intl`:
 * which local date an instant falls on, calendar addition of ISO 8601
 * durations (years and months first, clamped to the month's last day, then
 * weeks and days), and the instant a local date begins. A local midnight that
 * a DST jump skips (America/Havana, America/Santiago, Asia/Beirut move their
 * clocks at 00:00) begins the date at the first instant after the gap; a local
 * midnight that occurs twice begins it at the first occurrence. A date a zone
 * skipped whole (Pacific/Apia 2011-12-30) "begins" where the next date does.
 * Pure: no clock, no module state; a `ZoneCalendar` holds its own formatter.
 */
import { civilFromDays, daysFromCivil, daysInMonth } from '../common/civil-days';
import { ValidationError } from '../common/errors';

export interface LocalDate {
  readonly year: number;
  readonly month: number; // 1..12
  readonly day: number; // 1..31
}

export interface CalendarDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
}

const MS_PER_DAY = 86_400_000;
/**
 * Durations stay within this many years' worth per component, so that no
 * cryptoperiod (P99999999999Y) pushes a date outside what `Date` can represent
 * and turns a due time into NaN.
 */
const MAX_DURATION_YEARS = 1_000;
const MAX_COMPONENT = {
  years: MAX_DURATION_YEARS,
  months: MAX_DURATION_YEARS * 12,
  weeks: MAX_DURATION_YEARS * 53,
  days: MAX_DURATION_YEARS * 366,
} as const;
/** Instants handled: 1900..2200, well inside tzdata's rules and `Date`'s range. */
const MIN_INSTANT_MS = Date.UTC(1900, 0, 1);
const MAX_INSTANT_MS = Date.UTC(2200, 0, 1);
/** The form parseCryptoperiod produces: `P1Y6M`, `P2W`, `P90D` (no time part). */
const ISO_DURATION = /^P(?:(\d{1,7})Y)?(?:(\d{1,7})M)?(?:(\d{1,7})W)?(?:(\d{1,7})D)?$/;

function assertDate(date: LocalDate): void {
  const { year, month, day } = date;
  if (![year, month, day].every(Number.isInteger) || year < 1900 || year > 2200 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new ValidationError(`invalid calendar date ${year}-${month}-${day}`);
  }
}

/**
 * Adds a duration by calendar arithmetic: years and months first, clamping the
 * day to the month's last (2024-02-29 + P1Y = 2025-02-28), then weeks and days.
 * @example addDuration({ year: 2026, month: 1, day: 31 }, { years: 0, months: 1, weeks: 0, days: 0 }) // 2026-02-28
 */
export function addDuration(date: LocalDate, duration: CalendarDuration): LocalDate {
  assertDate(date);
  for (const unit of ['years', 'months', 'weeks', 'days'] as const) {
    const n = duration[unit];
    if (!Number.isInteger(n) || n < 0 || n > MAX_COMPONENT[unit]) throw new ValidationError(`invalid duration ${unit}: ${n}`);
  }
  const monthIndex = date.year * 12 + (date.month - 1) + duration.years * 12 + duration.months;
  const year = Math.floor(monthIndex / 12);
  const month = (monthIndex % 12) + 1;
  const day = Math.min(date.day, daysInMonth(year, month));
  return civilFromDays(daysFromCivil(year, month, day) + duration.weeks * 7 + duration.days);
}

/** The local date after `date`. */
export function nextDate(date: LocalDate): LocalDate {
  return civilFromDays(daysFromCivil(date.year, date.month, date.day) + 1);
}

/**
 * Parses the ISO 8601 durations parseCryptoperiod produces (years, months,
 * weeks, days; at least one non-zero). Anything else is INVALID_ARGUMENT.
 * @example parseIsoDuration('P1Y6M') // { years: 1, months: 6, weeks: 0, days: 0 }
 */
export function parseIsoDuration(text: string): CalendarDuration {
  const match = typeof text === 'string' ? ISO_DURATION.exec(text) : null;
  const [years, months, weeks, days] = (match ?? []).slice(1, 5).map((part) => Number(part ?? 0));
  const duration = { years, months, weeks, days };
  if (!match || text === 'P' || years + months + weeks + days === 0) {
    throw new ValidationError(`invalid cryptoperiod "${String(text)}": expected an ISO 8601 duration such as P90D or P1Y`);
  }
  for (const unit of ['years', 'months', 'weeks', 'days'] as const) {
    if (duration[unit] > MAX_COMPONENT[unit]) throw new ValidationError(`cryptoperiod "${text}" is longer than ${MAX_DURATION_YEARS} years`);
  }
  return duration;
}

function assertInstant(instantMs: number): void {
  if (!Number.isFinite(instantMs) || instantMs < MIN_INSTANT_MS || instantMs > MAX_INSTANT_MS) {
    throw new ValidationError(`instant ${instantMs} is outside the supported range (1900..2200)`);
  }
}

/**
 * One time zone's calendar. Holds a single `Intl.DateTimeFormat`, so callers
 * that ask many questions about one zone build it once.
 */
export class ZoneCalendar {
  private readonly format: Intl.DateTimeFormat;

  constructor(readonly timeZone: string) {
    try {
      this.format = new Intl.DateTimeFormat('en-US', {
        timeZone, calendar: 'iso8601', numberingSystem: 'latn', hourCycle: 'h23',
        year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
      });
    } catch (cause) {
      throw new ValidationError(`unknown time zone "${String(timeZone)}"`, { cause });
    }
  }

  /** The local wall clock at an instant, as if it were a UTC epoch (ms). */
  private wallClock(instantMs: number): number {
    const fields: Record<string, number> = {};
    for (const part of this.format.formatToParts(instantMs)) fields[part.type] = Number(part.value);
    const days = daysFromCivil(fields.year, fields.month, fields.day);
    const ms = ((instantMs % 1000) + 1000) % 1000;
    return days * MS_PER_DAY + ((fields.hour * 60 + fields.minute) * 60 + fields.second) * 1000 + ms;
  }

  /** Zone offset in ms at an instant (local wall clock minus UTC). */
  offsetAt(instantMs: number): number {
    return this.wallClock(instantMs) - instantMs;
  }

  /** The local calendar date an instant falls on. */
  localDateOf(instantMs: number): LocalDate {
    assertInstant(instantMs);
    return civilFromDays(Math.floor(this.wallClock(instantMs) / MS_PER_DAY));
  }

  /**
   * Every instant at which the local wall clock reads `date` 00:00, earliest
   * first: one normally, two when midnight is repeated. When a DST jump skips
   * midnight, the single instant right after the gap (the date's first).
   * Candidates come from the offsets in force a day either side and at the
   * first guess `wall - offset(wall)`; each is kept only if it round-trips.
   */
  midnightsOf(date: LocalDate): number[] {
    assertDate(date);
    const wall = daysFromCivil(date.year, date.month, date.day) * MS_PER_DAY;
    const offsets = new Set([wall - MS_PER_DAY, wall + MS_PER_DAY, wall].map((t) => this.offsetAt(t)));
    offsets.add(this.offsetAt(wall - this.offsetAt(wall)));
    const guesses = [...offsets].map((offset) => wall - offset).sort((a, b) => a - b);
    const exact = [...new Set(guesses.filter((t) => this.wallClock(t) === wall))];
    if (exact.length > 0) return exact;
    // In a gap: the wall clock is below `wall` at the earliest guess and past it
    // at the latest; the first instant reading `wall` or later ends the gap.
    let lo = guesses[0];
    let hi = guesses[guesses.length - 1];
    if (!(this.wallClock(lo) < wall && this.wallClock(hi) > wall)) {
      throw new ValidationError(`cannot locate local midnight of ${date.year}-${date.month}-${date.day} in ${this.timeZone}`);
    }
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.wallClock(mid) >= wall) hi = mid;
      else lo = mid;
    }
    return [hi];
  }

  /** Epoch ms at which the local date begins (see the module docblock for gaps and repeats). */
  startOfLocalDay(date: LocalDate): number {
    return this.midnightsOf(date)[0];
  }
}

/** The local calendar date of an instant in `timeZone`. */
export function localDateOf(instantMs: number, timeZone: string): LocalDate {
  return new ZoneCalendar(timeZone).localDateOf(instantMs);
}

/**
 * Epoch ms of 00:00 on a local date in `timeZone`; after the gap when DST skips
 * midnight, the first occurrence when midnight is repeated.
 * @example startOfLocalDay({ year: 2026, month: 7, day: 2 }, 'Europe/Paris') // Date.UTC(2026, 6, 1, 22)
 */
export function startOfLocalDay(date: LocalDate, timeZone: string): number {
  return new ZoneCalendar(timeZone).startOfLocalDay(date);
}
