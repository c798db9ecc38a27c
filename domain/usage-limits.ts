/**
 * Usage limits: a budget its creator sets on an instance (KMIP Usage
 * Limits: a total, in bytes of data processed or in operations), spent by
 * every Encrypt, Decrypt, GenerateDataKey, DecryptDataKey, MAC and
 * MACVerify under the instance, whichever wire sent them; an operation
 * that would take the count past the total is refused whole
 * (USAGE_LIMIT_REACHED, KMIP Permission Denied) and spends nothing.
 *
 * The limit is fixed when the instance is made (Create, Register: a
 * client that could raise its own budget would have none) and kept in the
 * instance row, whose MAC covers it (domain/row-mac.ts). The count is kept
 * as the GCM invocation marks are, on the same store and under the same
 * protection (domain/trust/authenticated-invocations.ts): a row per
 * instance, raised atomically under the write lock (the check against the
 * total is made there, so two requests, in one process or two, can never
 * both pass a budget that only one fits), durable before the operation
 * runs, MAC'd (a count lowered in the file is INTEGRITY_FAILURE, not a
 * fresh budget) and journaled into the trust set-hash (a row deleted or
 * written back from an older copy is found at the next full check). Unlike
 * the GCM marks it is written exactly, one raise per operation: a budget
 * of 16 bytes cannot be spent in blocks.
 */
import { KeychainError, ValidationError } from '../common/errors';
import { USAGE_LIMIT_UNITS, UsageLimitUnit } from './vocabulary/usage-limit-units';

export interface UsageLimit {
  readonly total: number;
  /** `byte`: the bytes of data each operation takes in; `object`: one per operation. */
  readonly unit: UsageLimitUnit;
}

/** What the instance's usage looks like now (GetAttributes). */
export interface UsageState extends UsageLimit {
  readonly used: number;
  readonly remaining: number;
}

/** The counts as the budget uses them: the authenticated marks, under ids of their own. */
export interface UsageCounts {
  /** The count spent so far under `counterId` (0: none). */
  invocationsReserved(counterId: string): number;
  /** Adds `count` (≥ 1) unless the mark would pass `ceiling`, atomically and durably; returns the new mark or throws `refuse()`. */
  reserveWithin(counterId: string, count: number, ceiling: number, refuse: () => Error): number;
}

/** The create arguments as one limit, both or neither (a total without its unit means nothing). */
export function parseUsageLimit(total: number | undefined, unit: string | undefined): UsageLimit | null {
  if (total === undefined && unit === undefined) return null;
  if (total === undefined || unit === undefined) throw new ValidationError('usageLimitTotal and usageLimitUnit go together: a usage limit is a total and its unit');
  if (!Number.isSafeInteger(total) || total < 1) throw new ValidationError(`usageLimitTotal must be a whole number of at least 1, not ${total}`);
  if (!(USAGE_LIMIT_UNITS as readonly string[]).includes(unit)) throw new ValidationError(`usageLimitUnit must be one of ${USAGE_LIMIT_UNITS.join(', ')}, not ${unit}`);
  return { total, unit: unit as UsageLimitUnit };
}

/** The limit as the instance row keeps it (and its MAC covers): `byte:16`. */
export function encodeUsageLimit(limit: UsageLimit | null | undefined): string | null {
  return limit === null || limit === undefined ? null : `${limit.unit}:${limit.total}`;
}

export function decodeUsageLimit(stored: string | null | undefined): UsageLimit | null {
  if (stored === null || stored === undefined) return null;
  const [unit, total] = stored.split(':');
  // The row MAC vouched for it: a form that does not parse was written by no appliance.
  if (!(USAGE_LIMIT_UNITS as readonly string[]).includes(unit) || !/^[1-9][0-9]*$/.test(total ?? '')) {
    throw new KeychainError('INTEGRITY_FAILURE', `a stored usage limit "${stored}" is not one the appliance writes`);
  }
  return { unit: unit as UsageLimitUnit, total: Number(total) };
}

/** The counter's id on the mark store: its own space, so no instance's GCM mark can stand for it (the MAC covers the id). */
function counterId(instanceName: string): string {
  return `usage-limit/${instanceName}`;
}

export class UsageBudgets {
  constructor(private readonly counts: UsageCounts) {}

  /**
   * Spends what one operation takes (`bytes` of data; one for an `object`
   * limit) from the instance's budget, or refuses it with
   * USAGE_LIMIT_REACHED and spends nothing. Nothing happens for an instance
   * without a limit. Call it after every other check and before the work.
   */
  spend(instanceName: string, limit: UsageLimit | null | undefined, bytes: number): void {
    if (limit === null || limit === undefined) return;
    const amount = limit.unit === 'object' ? 1 : bytes;
    const id = counterId(instanceName);
    const refuse = (): Error => this.reached(instanceName, limit, amount);
    if (amount === 0) {
      // Nothing to spend (empty data under a byte limit): still refused once the budget is gone, with nothing written.
      if (this.counts.invocationsReserved(id) >= limit.total) throw refuse();
      return;
    }
    if (amount > limit.total) throw refuse();
    this.counts.reserveWithin(id, amount, limit.total, refuse);
  }

  /** The budget as it stands, for an instance with a limit. */
  state(instanceName: string, limit: UsageLimit): UsageState {
    const used = Math.min(this.counts.invocationsReserved(counterId(instanceName)), limit.total);
    return { ...limit, used, remaining: limit.total - used };
  }

  private reached(instanceName: string, limit: UsageLimit, amount: number): KeychainError {
    const what = limit.unit === 'byte' ? `${amount} bytes` : 'one more operation';
    return new KeychainError('USAGE_LIMIT_REACHED', `instance ${instanceName} has a usage limit of ${limit.total} ${limit.unit === 'byte' ? 'bytes' : 'operations'}, which ${what} would pass: it was set when the instance was made and is not raised`, {
      details: { instance: instanceName, total: limit.total, unit: limit.unit },
    });
  }
}
