/**
 * ISO 8601 date-times as the KMIP XML and JSON encodings write Date-Time
 * (seconds since the epoch) and Date-Time Extended (microseconds): exactly
 * `YYYY-MM-DDThh:mm:ss[.ffffff](Z|±hh:mm)`, years 0000 to 9999, every field in
 * its range. Computed with integer calendar arithmetic (no Date, no clock, no
 * time zone database): the offset is the only zone information.
 */
import { KmipCodecError } from './kmip-codec-error';

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})$/;
const SECONDS_PER_DAY = 86_400n;
const MICROS_PER_SECOND = 1_000_000n;
/** First and last second formattable as a four-digit year (0000-01-01, 9999-12-31T23:59:59). */
const FIRST_FORMATTABLE_SECOND = -62_167_219_200n;
const LAST_FORMATTABLE_SECOND = 253_402_300_799n;

/** Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The date of a day count from 1970-01-01 (civil_from_days). */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function daysInMonth(year: number, month: number): number {
  return daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) - daysFromCivil(year, month, 1);
}

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
  const [year, month, day] = civilFromDays(days);
  const two = (n: number): string => String(n).padStart(2, '0');
  const time = `${two(Math.floor(secondOfDay / 3600))}:${two(Math.floor(secondOfDay / 60) % 60)}:${two(secondOfDay % 60)}`;
  const frac = withFraction ? `.${fraction.toString().padStart(6, '0')}` : '';
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${time}${frac}+00:00`;
}
