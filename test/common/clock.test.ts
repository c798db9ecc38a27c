/** isoNow: the clock's time in ISO 8601 UTC, whatever it formatted last (its memo of one millisecond). */
import { isoNow, ManualClock } from '../../common/clock';

describe('isoNow', () => {
  it('answers each clock\'s own time, in the same millisecond and after it moved either way', () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 1, 12, 0, 0, 7));
    const other = new ManualClock(Date.UTC(1999, 11, 31, 23, 59, 59, 999));
    expect(isoNow(clock)).toBe('2026-05-01T12:00:00.007Z');
    expect(isoNow(clock)).toBe('2026-05-01T12:00:00.007Z');
    expect(isoNow(other)).toBe('1999-12-31T23:59:59.999Z');
    clock.advance(1);
    expect(isoNow(clock)).toBe('2026-05-01T12:00:00.008Z');
    clock.advance(-2);
    expect(isoNow(clock)).toBe('2026-05-01T12:00:00.006Z');
  });

  it('refuses a time Date cannot format, and answers the next good one', () => {
    const clock = new ManualClock(8.64e15 + 1);
    expect(() => isoNow(clock)).toThrow(RangeError);
    expect(() => isoNow(clock)).toThrow(RangeError);
    clock.set(0);
    expect(isoNow(clock)).toBe('1970-01-01T00:00:00.000Z');
  });
});
