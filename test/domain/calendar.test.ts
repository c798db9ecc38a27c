import fc from 'fast-check';
import {
  addDuration, LocalDate, localDateOf, nextDate, parseIsoDuration, startOfLocalDay, ZoneCalendar,
} from '../../domain/calendar';
import { codeOf } from '../support/error-code';

const date = (year: number, month: number, day: number): LocalDate => ({ year, month, day });
const dur = (years: number, months: number, weeks: number, days: number) => ({ years, months, weeks, days });
const at = (iso: string): number => Date.parse(iso);

/** Zones with every kind of offset and DST habit: midnight jumps, half hours, +14. */
const ZONES = [
  'UTC', 'Europe/Paris', 'Europe/London', 'America/New_York', 'America/Santiago', 'America/Havana',
  'America/Asuncion', 'America/Sao_Paulo', 'America/St_Johns', 'Asia/Beirut', 'Asia/Kolkata', 'Asia/Kathmandu',
  'Asia/Tokyo', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Kiritimati', 'Pacific/Apia', 'Africa/Casablanca',
];

describe('localDateOf', () => {
  it('gives the local date, not the UTC one', () => {
    expect(localDateOf(at('2026-06-30T23:30Z'), 'Europe/Paris')).toEqual(date(2026, 7, 1)); // 01:30 CEST
    expect(localDateOf(at('2026-03-08T03:30Z'), 'America/New_York')).toEqual(date(2026, 3, 7)); // 22:30 EST
    expect(localDateOf(at('2026-01-01T18:29Z'), 'Asia/Kolkata')).toEqual(date(2026, 1, 1)); // 23:59 IST
    expect(localDateOf(at('2026-01-01T18:30Z'), 'Asia/Kolkata')).toEqual(date(2026, 1, 2)); // 00:00 IST
    expect(localDateOf(at('2026-01-01T10:00Z'), 'Pacific/Kiritimati')).toEqual(date(2026, 1, 2)); // 00:00 +14
    expect(localDateOf(at('2026-01-01T00:00Z'), 'UTC')).toEqual(date(2026, 1, 1));
    expect(localDateOf(at('2025-12-31T23:59:59.999Z'), 'UTC')).toEqual(date(2025, 12, 31));
  });

  it.each(['Mars/Olympus', '', 'Europe/Paris ', 'GMT+25'])('refuses time zone %p', (zone) => {
    expect(codeOf(() => localDateOf(0, zone))).toBe('INVALID_ARGUMENT');
  });

  it.each([NaN, Infinity, -1e20, at('2300-01-01T00:00Z')])('refuses instant %p', (instant) => {
    expect(codeOf(() => localDateOf(instant, 'UTC'))).toBe('INVALID_ARGUMENT');
  });
});

describe('addDuration', () => {
  it.each([
    [date(2024, 2, 29), dur(1, 0, 0, 0), date(2025, 2, 28)], // clamped to February's last day
    [date(2026, 1, 31), dur(0, 1, 0, 0), date(2026, 2, 28)],
    [date(2028, 1, 31), dur(0, 1, 0, 0), date(2028, 2, 29)],
    [date(2028, 2, 29), dur(4, 0, 0, 0), date(2032, 2, 29)],
    [date(2026, 1, 1), dur(0, 0, 0, 90), date(2026, 4, 1)],
    [date(2026, 1, 1), dur(0, 0, 2, 0), date(2026, 1, 15)],
    [date(2026, 12, 31), dur(0, 0, 0, 1), date(2027, 1, 1)],
    [date(2026, 8, 31), dur(1, 6, 0, 0), date(2028, 2, 29)],
    [date(2024, 2, 29), dur(1, 1, 0, 0), date(2025, 3, 29)], // years and months together, then one clamp
    [date(2026, 1, 31), dur(0, 1, 0, 1), date(2026, 3, 1)], // clamp first, then the day
    [date(2026, 11, 30), dur(0, 14, 0, 0), date(2028, 1, 30)],
    [date(2099, 12, 31), dur(0, 0, 0, 366), date(2101, 1, 1)], // 2100 is not a leap year
  ])('%j + %j = %j', (from, duration, expected) => {
    expect(addDuration(from, duration)).toEqual(expected);
  });

  it.each([
    [date(2026, 2, 29), dur(0, 0, 0, 1)],
    [date(2026, 13, 1), dur(0, 0, 0, 1)],
    [date(2026, 1, 1), dur(0, 0, 0, -1)],
    [date(2026, 1, 1), dur(0, 0.5, 0, 0)],
    [date(2026, 1, 1), dur(1001, 0, 0, 0)],
  ])('refuses %j + %j', (from, duration) => {
    expect(codeOf(() => addDuration(from, duration))).toBe('INVALID_ARGUMENT');
  });
});

describe('parseIsoDuration', () => {
  it.each([
    ['P90D', dur(0, 0, 0, 90)], ['P1Y', dur(1, 0, 0, 0)], ['P2W', dur(0, 0, 2, 0)],
    ['P1Y6M', dur(1, 6, 0, 0)], ['P1Y2M3W4D', dur(1, 2, 3, 4)], ['P0Y1D', dur(0, 0, 0, 1)],
  ])('parses %s', (text, expected) => {
    expect(parseIsoDuration(text)).toEqual(expected);
  });

  it.each(['', 'P', 'P0D', 'P0Y0M', 'PT1H', 'P1DT1H', 'P1.5Y', '90', 'p90d', ' P90D', 'P1D2M', 'P-1D',
    'P12345678D', 'P1001Y', 'P366001D', '1Y'])('refuses %p', (text) => {
    expect(codeOf(() => parseIsoDuration(text))).toBe('INVALID_ARGUMENT');
  });
});

describe('startOfLocalDay', () => {
  it.each([
    ['UTC', date(2026, 1, 2), '2026-01-02T00:00Z'],
    ['Europe/Paris', date(2026, 7, 2), '2026-07-01T22:00Z'], // CEST +2
    ['Europe/Paris', date(2026, 3, 29), '2026-03-28T23:00Z'], // spring forward at 02:00: midnight still CET +1
    ['Europe/Paris', date(2026, 3, 30), '2026-03-29T22:00Z'], // the 23-hour day ends
    ['Europe/Paris', date(2026, 10, 25), '2026-10-24T22:00Z'], // fall back at 03:00: midnight still CEST
    ['Europe/Paris', date(2026, 10, 26), '2026-10-25T23:00Z'], // the 25-hour day ends
    ['America/New_York', date(2026, 3, 8), '2026-03-08T05:00Z'], // EST -5, jump at 02:00
    ['America/New_York', date(2026, 3, 9), '2026-03-09T04:00Z'], // EDT -4
    ['America/New_York', date(2026, 11, 1), '2026-11-01T04:00Z'], // EDT, fall back at 02:00
    ['America/New_York', date(2026, 11, 2), '2026-11-02T05:00Z'], // EST
    ['Asia/Kolkata', date(2026, 1, 2), '2026-01-01T18:30Z'], // +05:30
    ['Asia/Kathmandu', date(2026, 1, 2), '2026-01-01T18:15Z'], // +05:45
    ['Pacific/Kiritimati', date(2026, 1, 2), '2026-01-01T10:00Z'], // +14
    ['Pacific/Chatham', date(2026, 1, 2), '2026-01-01T10:15Z'], // +13:45 in summer
    // Midnight skipped by DST (clocks go 23:59:59 -> 01:00): the first instant after the gap.
    ['America/Santiago', date(2026, 9, 6), '2026-09-06T04:00Z'], // 01:00 -03
    ['America/Havana', date(2026, 3, 8), '2026-03-08T05:00Z'], // 01:00 -04
    ['Asia/Beirut', date(2026, 3, 29), '2026-03-28T22:00Z'], // 01:00 +03
    // Santiago and Beirut fall back from 00:00 to 23:00 the day before: midnight occurs once, after the repeated hour.
    ['America/Santiago', date(2026, 4, 5), '2026-04-05T04:00Z'], // 00:00 -04
    ['Asia/Beirut', date(2026, 10, 25), '2026-10-24T22:00Z'], // 00:00 +02
    // Havana falls back from 01:00 to 00:00: midnight occurs twice (04:00Z at -04, 05:00Z at -05); the first.
    ['America/Havana', date(2026, 11, 1), '2026-11-01T04:00Z'],
    // A date skipped whole (Apia crossed the date line): it begins where 2011-12-31 does.
    ['Pacific/Apia', date(2011, 12, 30), '2011-12-30T10:00Z'],
    ['Pacific/Apia', date(2011, 12, 31), '2011-12-30T10:00Z'],
  ])('%s %j begins at %s', (zone, day, expected) => {
    expect(startOfLocalDay(day, zone)).toBe(at(expected));
  });

  it('finds both occurrences of a repeated midnight, and checks the 2026 rules it relies on', () => {
    const havana = new ZoneCalendar('America/Havana');
    expect(havana.midnightsOf(date(2026, 11, 1))).toEqual([at('2026-11-01T04:00Z'), at('2026-11-01T05:00Z')]);
    const santiago = new ZoneCalendar('America/Santiago');
    const gapEnd = at('2026-09-06T04:00Z');
    expect(santiago.offsetAt(gapEnd - 1)).toBe(-4 * 3_600_000);
    expect(santiago.offsetAt(gapEnd)).toBe(-3 * 3_600_000);
    expect(santiago.localDateOf(gapEnd - 1)).toEqual(date(2026, 9, 5)); // 23:59:59.999 -04
  });

  it('refuses impossible dates', () => {
    expect(codeOf(() => startOfLocalDay(date(2026, 2, 30), 'UTC'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => startOfLocalDay(date(2026, 0, 1), 'UTC'))).toBe('INVALID_ARGUMENT');
  });
});

const DST_ZONES = ZONES.filter((tz) => !['UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Tokyo', 'Pacific/Kiritimati'].includes(tz));

describe('every day of 2025..2028 in the zones that change their clocks', () => {
  // Random instants rarely land on a DST day; this sweep visits every one of them.
  it.each(DST_ZONES)('%s: each day starts after the previous one, at the first instant of its date', (tz) => {
    const calendar = new ZoneCalendar(tz);
    let day = date(2025, 1, 1);
    let start = calendar.startOfLocalDay(day);
    while (day.year < 2029) {
      const next = nextDate(day);
      const nextStart = calendar.startOfLocalDay(next);
      expect(nextStart).toBeGreaterThan(start);
      expect(calendar.localDateOf(nextStart - 1)).toEqual(day);
      expect(calendar.localDateOf(nextStart)).toEqual(next);
      day = next;
      start = nextStart;
    }
  });
});

describe('properties', () => {
  const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });
  const zone = fc.constantFrom(...ZONES);

  it('an instant lies within its local day: start(date) <= t < start(next date)', () => {
    fc.assert(fc.property(instant, zone, (t, tz) => {
      const calendar = new ZoneCalendar(tz);
      const day = calendar.localDateOf(t);
      const start = calendar.startOfLocalDay(day);
      expect(start).toBeLessThanOrEqual(t);
      expect(t).toBeLessThan(calendar.startOfLocalDay(nextDate(day)));
      expect(calendar.localDateOf(start)).toEqual(day);
      expect(calendar.localDateOf(start - 1)).not.toEqual(day);
    }), { numRuns: 500 });
  });

  it('the start of a day reads 00:00 unless a DST jump happens right there', () => {
    fc.assert(fc.property(instant, zone, (t, tz) => {
      const calendar = new ZoneCalendar(tz);
      const start = calendar.startOfLocalDay(calendar.localDateOf(t));
      const wallMsOfDay = (((start + calendar.offsetAt(start)) % 86_400_000) + 86_400_000) % 86_400_000;
      if (calendar.offsetAt(start - 1) === calendar.offsetAt(start)) expect(wallMsOfDay).toBe(0);
    }), { numRuns: 500 });
  });
});
