/**
 * ISO 8601 date-times as the KMIP XML and JSON encodings write Date-Time
 * (seconds since the epoch) and Date-Time Extended (microseconds): exactly
 * `YYYY-MM-DDThh:mm:ss[.ffffff](Z|±hh:mm)`, years 0000 to 9999, every field in
 * its range. Computed with integer calendar arithmetic (no Date, no clock, no
 * time zone database): the offset is the only zone information.
 */
import { civilFromDays, daysFromCivil, daysInMonth } from '../../common/civil-days';
import { KmipCodecError } from './kmip-codec-error';

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})$/;
const SECONDS_PER_DAY = 86_400n;
const MICROS_PER_SECOND = 1_000_000n;
/** First and last second formattable as a four-digit year (0000-01-01, 9999-12-31T23:59:59). */
const FIRST_FORMATTABLE_SECOND = -62_167_219_200n;
const LAST_FORMATTABLE_SECOND = 253_402_300_799n;

/**
 * Parses an ISO 8601 date-time to microseconds since the epoch.
 * `allowFraction` is false for Date-Time, whose resolution is the second.
 */
export function parseIsoMicros(text: string, allowFraction: boolean): bigint {
  const m = ISO_DATE_TIME.exec(text);
  if (!m) throw new KmipCodecError('BAD_VALUE', 'a date-time is not ISO 8601 (YYYY-MM-DDThh:mm:ss with Z or ±hh:mm)');
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const fraction = m[7];
  const zone = m[8];
  if (fraction !== undefined && !allowFraction) throw new KmipCodecError('BAD_VALUE', 'a Date-Time has no fraction of a second');
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new KmipCodecError('BAD_VALUE', 'a date-time field is out of range');
  }
  let offsetSeconds = 0;
  if (zone !== 'Z') {
    const zoneHours = Number(zone.slice(1, 3));
    const zoneMinutes = Number(zone.slice(4, 6));
    if (zoneHours > 23 || zoneMinutes > 59) throw new KmipCodecError('BAD_VALUE', 'a date-time offset is out of range');
    offsetSeconds = (zone[0] === '-' ? -1 : 1) * (zoneHours * 3600 + zoneMinutes * 60);
  }
  const seconds = BigInt(daysFromCivil(year, month, day)) * SECONDS_PER_DAY + BigInt(hour * 3600 + minute * 60 + second - offsetSeconds);
  const micros = fraction === undefined ? 0n : BigInt(fraction.padEnd(6, '0'));
  return seconds * MICROS_PER_SECOND + micros;
}

/** True when the instant has a four-digit-year ISO 8601 form. */
export function isFormattableSeconds(seconds: bigint): boolean {
  return seconds >= FIRST_FORMATTABLE_SECOND && seconds <= LAST_FORMATTABLE_SECOND;
}

/** Formats microseconds since the epoch as ISO 8601 in UTC (`+00:00`), with a 6-digit fraction if asked. */
export function formatIsoMicros(micros: bigint, withFraction: boolean): string {
  const seconds = micros >= 0n ? micros / MICROS_PER_SECOND : -((-micros + MICROS_PER_SECOND - 1n) / MICROS_PER_SECOND);
  const fraction = micros - seconds * MICROS_PER_SECOND;
  const days = Number(seconds >= 0n ? seconds / SECONDS_PER_DAY : -((-seconds + SECONDS_PER_DAY - 1n) / SECONDS_PER_DAY));
  const secondOfDay = Number(seconds - BigInt(days) * SECONDS_PER_DAY);
  const { year, month, day } = civilFromDays(days);
  const two = (n: number): string => String(n).padStart(2, '0');
  const time = `${two(Math.floor(secondOfDay / 3600))}:${two(Math.floor(secondOfDay / 60) % 60)}:${two(secondOfDay % 60)}`;
  const frac = withFraction ? `.${fraction.toString().padStart(6, '0')}` : '';
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${time}${frac}+00:00`;
}
