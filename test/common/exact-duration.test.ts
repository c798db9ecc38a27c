/**
 * Exact ISO 8601 durations (common/exact-duration.ts), the windows of
 * `rollover due --within`: weeks, days, hours, minutes and seconds in
 * milliseconds; calendar units, empty and malformed durations refused with
 * what to write instead.
 */
import { exactDurationMs, MAX_EXACT_DURATION_MS } from '../../common/exact-duration';
import { StrongroomError } from '../../common/errors';

const DAY_MS = 86_400_000;

function refusal(text: string): StrongroomError {
  try {
    exactDurationMs(text, 'within');
  } catch (err) {
    return err as StrongroomError;
  }
  throw new Error(`${text} was accepted`);
}

describe('exact durations', () => {
  it('reads weeks, days, hours, minutes and seconds, a day being 24 hours', () => {
    expect(exactDurationMs('P7D', 'within')).toBe(7 * DAY_MS);
    expect(exactDurationMs('P2W', 'within')).toBe(14 * DAY_MS);
    expect(exactDurationMs('PT12H', 'within')).toBe(12 * 3_600_000);
    expect(exactDurationMs('P1W2DT3H4M5S', 'within')).toBe(9 * DAY_MS + 3 * 3_600_000 + 4 * 60_000 + 5000);
    expect(exactDurationMs('P3660D', 'within')).toBe(MAX_EXACT_DURATION_MS);
  });

  it('refuses months and years, naming the days to write instead', () => {
    for (const text of ['P1M', 'P1Y', 'P1Y2M3D']) {
      const err = refusal(text);
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/write days, e\.g\. P30D/);
      expect(err.details).toEqual({ field: 'within' });
    }
  });

  it('refuses empty, zero, malformed and over-long durations', () => {
    for (const text of ['', 'P', 'PT', 'P1DT', '7D', 'P-1D', 'P1.5D', 'P0D', 'PT0S', 'P3661D', 'P7d']) {
      expect(refusal(text).code).toBe('INVALID_ARGUMENT');
    }
    expect(refusal('P0D').message).toMatch(/empty/);
    expect(refusal('P3661D').message).toMatch(/ten years/);
  });
});
