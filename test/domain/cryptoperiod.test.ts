import fc from 'fast-check';
import { addDuration, parseIsoDuration, ZoneCalendar } from '../../domain/calendar';
import { isDue, nextDueAfterCatchUp, notificationDueAt, rolloverDueAt } from '../../domain/cryptoperiod';
import { codeOf } from '../support/error-code';

const at = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** [zone, activated at, cryptoperiod, rollover expected]; each comment derives the expected instant by hand. */
const CASES: ReadonlyArray<readonly [string, string, string, string]> = [
  // UTC: local date = UTC date.
  ['UTC', '2026-01-01T10:00Z', 'P1D', '2026-01-02T00:00Z'],
  ['UTC', '2026-01-01T10:00Z', 'P90D', '2026-04-01T00:00Z'], // 31 (Jan) + 28 (Feb) + 31 (Mar) = 90
  ['UTC', '2026-01-01T00:00Z', 'P1D', '2026-01-02T00:00Z'], // activated exactly at midnight: a full day
  ['UTC', '2026-01-01T23:59:59.999Z', 'P1D', '2026-01-02T00:00Z'], // 1 ms of "day one"
  // Europe/Paris: CET +1, CEST +2 from 2026-03-29 01:00Z to 2026-10-25 01:00Z.
  ['Europe/Paris', '2026-03-28T12:00Z', 'P1D', '2026-03-28T23:00Z'], // 13:00 CET 03-28 -> 03-29 00:00 CET (jump is at 02:00)
  ['Europe/Paris', '2026-03-29T12:00Z', 'P1D', '2026-03-29T22:00Z'], // 14:00 CEST 03-29 -> 03-30 00:00 CEST (23 h day)
  ['Europe/Paris', '2026-03-28T22:30Z', 'P1D', '2026-03-28T23:00Z'], // 23:30 CET 03-28 -> 03-29 00:00 CET, 30 min later
  ['Europe/Paris', '2026-10-24T12:00Z', 'P1D', '2026-10-24T22:00Z'], // 14:00 CEST 10-24 -> 10-25 00:00 CEST
  ['Europe/Paris', '2026-10-25T12:00Z', 'P1D', '2026-10-25T23:00Z'], // 13:00 CET 10-25 -> 10-26 00:00 CET (25 h day)
  ['Europe/Paris', '2026-01-15T09:00Z', 'P90D', '2026-04-14T22:00Z'], // 01-15 + 90 = 04-15 (16+28+31+15), 00:00 CEST
  ['Europe/Paris', '2026-09-01T10:00Z', 'P90D', '2026-11-29T23:00Z'], // 09-01 + 90 = 11-30 (29+31+30), 00:00 CET
  ['Europe/Paris', '2026-06-30T23:30Z', 'P1D', '2026-07-01T22:00Z'], // 01:30 CEST on 07-01 (UTC says 06-30) -> 07-02 00:00
  ['Europe/Paris', '2026-06-30T21:30Z', 'P1D', '2026-06-30T22:00Z'], // 23:30 CEST on 06-30 -> 07-01 00:00, 30 min later
  // America/New_York: EST -5, EDT -4 from 2026-03-08 07:00Z to 2026-11-01 06:00Z.
  ['America/New_York', '2026-03-07T20:00Z', 'P1D', '2026-03-08T05:00Z'], // 15:00 EST 03-07 -> 03-08 00:00 EST
  ['America/New_York', '2026-03-08T12:00Z', 'P1D', '2026-03-09T04:00Z'], // 08:00 EDT 03-08 -> 03-09 00:00 EDT (23 h day)
  ['America/New_York', '2026-03-08T03:30Z', 'P1D', '2026-03-08T05:00Z'], // 22:30 EST on 03-07 (UTC says 03-08)
  ['America/New_York', '2026-10-31T20:00Z', 'P1D', '2026-11-01T04:00Z'], // 16:00 EDT 10-31 -> 11-01 00:00 EDT
  ['America/New_York', '2026-11-01T12:00Z', 'P1D', '2026-11-02T05:00Z'], // 07:00 EST 11-01 -> 11-02 00:00 EST (25 h day)
  ['America/New_York', '2026-01-01T03:00Z', 'P90D', '2026-03-31T04:00Z'], // 22:00 EST on 2025-12-31; + 90 = 03-31, EDT
  ['America/New_York', '2026-09-15T16:00Z', 'P90D', '2026-12-14T05:00Z'], // 09-15 + 90 = 12-14 (15+31+30+14), EST
  // Leap days (UTC).
  ['UTC', '2028-02-29T12:00Z', 'P1Y', '2029-02-28T00:00Z'], // 2029-02-29 does not exist: clamped
  ['UTC', '2028-02-28T12:00Z', 'P1D', '2028-02-29T00:00Z'],
  ['UTC', '2028-01-31T12:00Z', 'P1M', '2028-02-29T00:00Z'],
  ['UTC', '2026-01-31T12:00Z', 'P1M', '2026-02-28T00:00Z'],
  ['Europe/Paris', '2028-02-28T23:30Z', 'P1Y', '2029-02-27T23:00Z'], // 00:30 CET on 02-29 -> 2029-02-28 00:00 CET
  // Half-hour and +14 zones.
  ['Asia/Kolkata', '2026-01-01T20:00Z', 'P1D', '2026-01-02T18:30Z'], // 01:30 IST 01-02 -> 01-03 00:00 IST (+05:30)
  ['Asia/Kolkata', '2026-01-01T18:29Z', 'P1D', '2026-01-01T18:30Z'], // 23:59 IST 01-01 -> one minute later
  ['Pacific/Kiritimati', '2026-01-01T09:59Z', 'P1D', '2026-01-01T10:00Z'], // 23:59 +14 on 01-01
  ['Pacific/Kiritimati', '2026-01-01T12:00Z', 'P90D', '2026-04-01T10:00Z'], // 02:00 on 01-02; + 90 = 04-02 (29+28+31+2)
  // Midnight skipped by DST: the first instant of the date, 01:00 local.
  ['America/Santiago', '2026-09-05T15:00Z', 'P1D', '2026-09-06T04:00Z'], // 11:00 -04 09-05 -> 09-06 01:00 -03
  ['America/Havana', '2026-03-07T17:00Z', 'P1D', '2026-03-08T05:00Z'], // 12:00 -05 03-07 -> 03-08 01:00 -04
  ['Asia/Beirut', '2026-03-28T10:00Z', 'P1D', '2026-03-28T22:00Z'], // 12:00 +02 03-28 -> 03-29 01:00 +03
  // Santiago falls back 00:00 -> 23:00 on 04-05: 04-05 00:00 exists once, after the repeated hour.
  ['America/Santiago', '2026-04-04T12:00Z', 'P1D', '2026-04-05T04:00Z'], // 09:00 -03 04-04 -> 04-05 00:00 -04
  ['America/Santiago', '2026-04-05T03:30Z', 'P1D', '2026-04-05T04:00Z'], // 23:30 -04 04-04 (second time round)
  // Havana falls back 01:00 -> 00:00 on 11-01: midnight exists twice (04:00Z, 05:00Z); the first.
  ['America/Havana', '2026-10-31T16:00Z', 'P1D', '2026-11-01T04:00Z'], // 12:00 -04 10-31
  ['America/Havana', '2026-11-01T04:30Z', 'P1D', '2026-11-02T05:00Z'], // 00:30 -04 11-01 -> 11-02 00:00 -05
];

describe('rolloverDueAt', () => {
  it.each(CASES)('%s, activated %s, %s: rolls at %s', (zone, activated, period, expected) => {
    expect(new Date(rolloverDueAt(at(activated), period, zone)).toISOString()).toBe(new Date(at(expected)).toISOString());
  });

  it('rolls a P1D key at every local midnight of a DST year, however long the day', () => {
    // Chained daily rollovers through 2026 in Paris: 363 days of 24 h, one of 23 h, one of 25 h.
    let activated = at('2025-12-31T23:00Z'); // 2026-01-01 00:00 CET
    const lengths = new Map<number, number>();
    for (let i = 0; i < 365; i += 1) {
      const next = rolloverDueAt(activated, 'P1D', 'Europe/Paris');
      lengths.set(next - activated, (lengths.get(next - activated) ?? 0) + 1);
      activated = next;
    }
    expect(activated).toBe(at('2026-12-31T23:00Z')); // 2027-01-01 00:00 CET
    expect(Object.fromEntries(lengths)).toEqual({ [24 * HOUR]: 363, [23 * HOUR]: 1, [25 * HOUR]: 1 });
  });

  it.each([
    ['Mars/Olympus', 'P1D', 0],
    ['UTC', 'P0D', 0],
    ['UTC', 'PT1H', 0],
    ['UTC', '90', 0], // the stored form is ISO; parseCryptoperiod normalises user input first
    ['UTC', 'P1D', NaN],
    ['UTC', 'P1D', at('2250-01-01T00:00Z')],
  ] as const)('refuses zone %p, cryptoperiod %p, activation %p', (zone, period, activated) => {
    expect(codeOf(() => rolloverDueAt(activated, period, zone))).toBe('INVALID_ARGUMENT');
  });
});

describe('notification, due check and catch-up', () => {
  it('notifies the notice period before the rollover', () => {
    expect(notificationDueAt(at('2026-04-01T00:00Z'), 7 * DAY)).toBe(at('2026-03-25T00:00Z'));
    expect(notificationDueAt(at('2026-04-01T00:00Z'), 0)).toBe(at('2026-04-01T00:00Z'));
    expect(codeOf(() => notificationDueAt(at('2026-04-01T00:00Z'), -1))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => notificationDueAt(NaN, DAY))).toBe('INVALID_ARGUMENT');
  });

  it('is due from the due instant on, not a millisecond before', () => {
    const due = at('2026-04-01T00:00Z');
    expect(isDue(due - 1, due)).toBe(false);
    expect(isDue(due, due)).toBe(true);
    expect(isDue(due + 1, due)).toBe(true);
  });

  it('a key that missed its rollover gets one instance now, due one period from today', () => {
    // Due 2026-04-01 but the appliance was off until 2026-09-10 10:00 Paris (08:00Z): no replay of
    // the missed periods; the new instance's period starts on 09-10, so it rolls 09-11 00:00 CEST.
    const now = at('2026-09-10T08:00Z');
    expect(nextDueAfterCatchUp(now, 'P1D', 'Europe/Paris')).toBe(at('2026-09-10T22:00Z'));
    expect(nextDueAfterCatchUp(now, 'P90D', 'Europe/Paris')).toBe(at('2026-12-08T23:00Z')); // 09-10 + 90 = 12-09 (20+31+30+9), CET
  });
});

describe('properties', () => {
  const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'America/Santiago', 'America/Havana', 'Asia/Beirut',
    'America/Asuncion', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Kiritimati', 'Pacific/Chatham', 'Australia/Lord_Howe'];
  const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });
  const zone = fc.constantFrom(...ZONES);
  const period = fc
    .tuple(fc.nat(3), fc.nat(15), fc.nat(10), fc.nat(400))
    .filter((parts) => parts.some((n) => n > 0))
    .map(([y, m, w, d]) => `P${y ? `${y}Y` : ''}${m ? `${m}M` : ''}${w ? `${w}W` : ''}${d ? `${d}D` : ''}`);

  it('rolls after activation, on activation date + period, at the instant that date begins', () => {
    fc.assert(fc.property(instant, period, zone, (t, p, tz) => {
      const calendar = new ZoneCalendar(tz);
      const due = rolloverDueAt(t, p, tz);
      expect(due).toBeGreaterThan(t);
      expect(calendar.localDateOf(due)).toEqual(addDuration(calendar.localDateOf(t), parseIsoDuration(p)));
      expect(calendar.localDateOf(due - 1)).not.toEqual(calendar.localDateOf(due)); // the date changed right there
      const wallMsOfDay = (((due + calendar.offsetAt(due)) % DAY) + DAY) % DAY;
      const gapDay = calendar.offsetAt(due - 1) !== calendar.offsetAt(due);
      if (!gapDay) expect(wallMsOfDay).toBe(0); // a local midnight, except where DST skipped it
    }), { numRuns: 400 });
  });

  it('activations on the same local date roll at the same instant', () => {
    fc.assert(fc.property(instant, period, zone, (t, p, tz) => {
      const calendar = new ZoneCalendar(tz);
      const startOfDay = calendar.startOfLocalDay(calendar.localDateOf(t));
      expect(rolloverDueAt(startOfDay, p, tz)).toBe(rolloverDueAt(t, p, tz));
    }), { numRuns: 200 });
  });
});
