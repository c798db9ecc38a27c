/**
 * Locate by dates (docs/protocol.md §6 `Locate`'s `dates`): a key matches
 * when a date of its current instance lies in a range, both ends included —
 * KMIP's Locate by two values of one date attribute (KMIP 2.1 §6.1.27: "the
 * object's date lies between the two"), and one value its exact date. A
 * range is written as an ISO 8601 time interval `from/to` of two date-times
 * with a zone; a single date-time is the range of that instant. Checked on
 * the instance's view, read from its authenticated row: what the database
 * says of a date is never what decides. Pure.
 */
import { ValidationError } from '../common/errors';
import { InstanceView } from './view-types';

/** The instance dates a Locate may range over (InstanceView's fields). */
export const RANGED_INSTANCE_DATES = [
  'createdAt', 'activatedAt', 'activatesAt', 'deactivatedAt', 'destroyedAt', 'protectStopAt', 'processStopAt', 'processStartAt', 'compromisedAt', 'compromiseOccurredAt',
] as const;
export type RangedInstanceDate = (typeof RANGED_INSTANCE_DATES)[number];

export interface InstanceDateRange {
  readonly field: RangedInstanceDate;
  /** Milliseconds since 1970, both included. */
  readonly fromMs: number;
  readonly toMs: number;
}

const ISO_DATE_TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function instant(text: string, field: string): number {
  const ms = ISO_DATE_TIME_WITH_ZONE.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError(`dates.${field}: "${text}" is not an ISO 8601 date-time with a zone, or two of them as from/to`, { details: { field: `dates.${field}` } });
  }
  return ms;
}

/** Reads `{ field: "from/to" | "at" }` into ranges; an unknown field, a malformed date or a range that ends before it starts is INVALID_ARGUMENT. */
export function parseDateRanges(dates: Readonly<Record<string, string>> | undefined): InstanceDateRange[] {
  return Object.entries(dates ?? {}).map(([field, text]) => {
    if (!(RANGED_INSTANCE_DATES as readonly string[]).includes(field)) {
      throw new ValidationError(`dates: ${JSON.stringify(field)} is not a date Locate ranges over: use ${RANGED_INSTANCE_DATES.join(', ')}`, { details: { field: 'dates' } });
    }
    const parts = text.split('/');
    if (parts.length > 2) throw new ValidationError(`dates.${field}: a range is two date-times, from/to`, { details: { field: `dates.${field}` } });
    const fromMs = instant(parts[0], field);
    const toMs = parts.length === 2 ? instant(parts[1], field) : fromMs;
    if (toMs < fromMs) throw new ValidationError(`dates.${field}: the range ends before it starts`, { details: { field: `dates.${field}` } });
    return { field: field as RangedInstanceDate, fromMs, toMs };
  });
}

/** Whether every range holds a date of the instance; an instance without that date matches none. */
export function inDateRanges(instance: InstanceView, ranges: readonly InstanceDateRange[]): boolean {
  return ranges.every(({ field, fromMs, toMs }) => {
    const value = instance[field];
    if (value === undefined || value === null) return false;
    const ms = Date.parse(value);
    return ms >= fromMs && ms <= toMs;
  });
}
