/**
 * SP 800-57 usage periods (Part 1 §5.3): the originator usage period (while
 * an instance may protect: encrypt, MAC) and the recipient usage period
 * (while it may process: decrypt, verify). A key's policy holds both as ISO
 * 8601 durations; each instance gets its protect-stop and process-stop dates
 * when it is activated, ending at local midnight like cryptoperiods do. Past
 * protect-stop an instance only decrypts; past process-stop it is
 * Deactivated. Both are enforced from the dates, without an operator.
 */
import { ValidationError } from '../common/errors';
import { ZoneCalendar } from './calendar';
import { rolloverDueAt } from './cryptoperiod';
import { parseCryptoperiod } from './rollover-policy';

export interface UsagePeriods {
  readonly protectPeriod: string | null;
  readonly processPeriod: string | null;
}

export const NO_USAGE_PERIODS: UsagePeriods = { protectPeriod: null, processPeriod: null };

/** Validates and normalises the two periods (days or ISO 8601: P1Y, P90D). */
export function parseUsagePeriods(protect: string | undefined | null, process: string | undefined | null): UsagePeriods {
  const norm = (v: string | undefined | null, what: string): string | null => {
    if (v === undefined || v === null || v === '') return null;
    try {
      return parseCryptoperiod(v);
    } catch (cause) {
      throw new ValidationError(`invalid ${what} period "${v}": give days (365) or an ISO 8601 duration (P1Y)`, { cause });
    }
  };
  return { protectPeriod: norm(protect, 'protect'), processPeriod: norm(process, 'process') };
}

export interface UsageStops {
  readonly protectStopAt: string | null;
  readonly processStopAt: string | null;
}

/** The stop dates of an instance activated at `activatedMs`. A process-stop earlier than the protect-stop is refused. */
export function usageStops(periods: UsagePeriods, activatedMs: number, calendar: ZoneCalendar): UsageStops {
  const at = (period: string | null): number | null => (period === null ? null : rolloverDueAt(activatedMs, period, calendar));
  const protect = at(periods.protectPeriod);
  const process = at(periods.processPeriod);
  if (protect !== null && process !== null && process < protect) {
    throw new ValidationError('the process period must be at least as long as the protect period (SP 800-57: recipients outlast originators)');
  }
  return {
    protectStopAt: protect === null ? null : new Date(protect).toISOString(),
    processStopAt: process === null ? null : new Date(process).toISOString(),
  };
}

/** Whether an instance may still protect (encrypt, MAC) at `nowMs`. */
export function mayProtect(stops: UsageStops, nowMs: number): boolean {
  return (stops.protectStopAt === null || nowMs < Date.parse(stops.protectStopAt)) && (stops.processStopAt === null || nowMs < Date.parse(stops.processStopAt));
}
