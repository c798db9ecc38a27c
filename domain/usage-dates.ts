/**
 * Usage dates given when a key is made (KMIP's Protect Stop Date, Process
 * Start Date and Deactivation Date; SP 800-57 Pt 1 §5.3.5 and §5.3.6): absolute dates of its first
 * instance, besides the usage periods its policy derives at activation
 * (usage-periods.ts). A protect-stop date ends originator use (encrypt, MAC)
 * as a derived one does; when both exist the earlier holds, so a policy can
 * never extend what the creator set. A process-start date is when recipient
 * use (decrypt, verify) may begin: SP 800-57 lets an originator protect data
 * a recipient must not process before a date. Both may lie in the past (a
 * key registered to only decrypt data of an earlier period is legitimate);
 * both are kept in the instance row, under its MAC (domain/row-mac.ts).
 * A process-stop date (KMIP's Deactivation Date) ends all use: from it the
 * instance is Deactivated, as at the end of a derived process period; it is
 * kept in the instance's process_stop_at, the column derived stops use (a v1
 * field of the row MAC), and the earlier of it and a derived one holds.
 */
import { ValidationError } from '../common/errors';
import { UsageStops } from './usage-periods';

/** An ISO 8601 date-time with a zone (Z or ±hh:mm), as activation dates are (instance-activation.ts). */
const ISO_DATE_TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export interface UsageDates {
  readonly protectStopAt: string | null;
  readonly processStartAt: string | null;
  /** When the first instance becomes Deactivated (KMIP's Deactivation Date). */
  readonly processStopAt: string | null;
}

export const NO_USAGE_DATES: UsageDates = { protectStopAt: null, processStartAt: null, processStopAt: null };

function parseDate(text: string | undefined, field: string): string | null {
  if (text === undefined) return null;
  const ms = ISO_DATE_TIME_WITH_ZONE.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError(`${field} "${text}" is not an ISO 8601 date-time with a zone (e.g. 2027-01-01T00:00:00Z)`, { details: { field } });
  }
  return new Date(ms).toISOString();
}

/** Validates and normalises the dates (ISO UTC); absent ones are null. A process stop not after the process start would leave a key that never processes: refused. */
export function parseUsageDates(protectStopAt: string | undefined, processStartAt: string | undefined, processStopAt?: string): UsageDates {
  const dates = { protectStopAt: parseDate(protectStopAt, 'protectStopAt'), processStartAt: parseDate(processStartAt, 'processStartAt'), processStopAt: parseDate(processStopAt, 'processStopAt') };
  if (dates.processStopAt !== null && dates.processStartAt !== null && Date.parse(dates.processStopAt) <= Date.parse(dates.processStartAt)) {
    throw new ValidationError(`processStopAt (${dates.processStopAt}) must be after processStartAt (${dates.processStartAt}): the key would never process`, { details: { field: 'processStopAt' } });
  }
  return dates;
}

/** The earlier of two optional ISO UTC dates (null: none). */
export function earliest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

/** The stops derived from the policy at activation, with each of the instance's given stop dates kept when it is earlier. */
export function withGivenStops(derived: UsageStops, given: UsageStops): UsageStops {
  return { protectStopAt: earliest(derived.protectStopAt, given.protectStopAt), processStopAt: earliest(derived.processStopAt, given.processStopAt) };
}

/** Whether an instance may process (decrypt, verify) at `nowMs`: not before its process-start date. */
export function processStarted(instance: { readonly processStartAt?: string | null }, nowMs: number): boolean {
  return instance.processStartAt === undefined || instance.processStartAt === null || nowMs >= Date.parse(instance.processStartAt);
}
