/**
 * ISO 8601 durations of days, hours and minutes for settings that need
 * finer than days (idempotency_retention): P2D, PT24H, PT30M, P1DT12H.
 */

/** The duration in milliseconds, or null when the text is not one of the shapes above or is under a minute. */
export function parseDayHourMinuteDuration(text: string): number | null {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return null;
  const ms = ((Number(match[1] ?? 0) * 24 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 60_000;
  return ms < 60_000 ? null : ms;
}
