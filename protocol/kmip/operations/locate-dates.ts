/**
 * Locate by a date attribute (KMIP 2.1 §6.1.27, 1.4 §4.9): one value of a
 * date attribute locates objects with exactly that date, two values those
 * whose date lies between them, both included. The ranges go to the native
 * Locate's `dates` (domain/instance-date-ranges.ts), which checks them on
 * each key's current instance — the object a located key answers as. Only
 * the dates that are one native field each are taken: Activation Date and
 * Deactivation Date are reported from two (an activation done or one to
 * come; a deactivation done or the process stop to come), so ranging over
 * either would need both, and they are refused by name rather than matched
 * on half. Pure.
 */
import { KmipOperationError } from './kmip-operation';

/** KMIP date attribute → the native instance date it is reported from (attribute-views.ts). */
const NATIVE_DATE_OF: Readonly<Record<string, string>> = {
  InitialDate: 'createdAt',
  ProtectStopDate: 'protectStopAt',
  ProcessStartDate: 'processStartAt',
  DestroyDate: 'destroyedAt',
  CompromiseDate: 'compromisedAt',
  CompromiseOccurrenceDate: 'compromiseOccurredAt',
};

const label = (tag: string): string => tag.replace(/([a-z])([A-Z])/g, '$1 $2');

/** The date attributes Locate takes, for messages. */
export const LOCATED_DATES = Object.keys(NATIVE_DATE_OF).map(label).join(', ');

/** The date values of one Locate, collected per attribute. */
export class LocateDates {
  private readonly values = new Map<string, bigint[]>();

  /** Whether `tag` is a date attribute Locate ranges over. */
  takes(tag: string): boolean {
    return Object.prototype.hasOwnProperty.call(NATIVE_DATE_OF, tag);
  }

  /** One value (seconds since 1970); a third of the same attribute is Invalid Field (KMIP defines one or two). */
  add(tag: string, seconds: bigint): void {
    const values = [...(this.values.get(tag) ?? []), seconds];
    if (values.length > 2) throw new KmipOperationError('InvalidField', `Locate: ${label(tag)} is given more than twice: one value is a date, two a range`);
    this.values.set(tag, values);
  }

  /** The native `dates` argument: `{ protectStopAt: "from/to" }`, or undefined when none was sent. */
  ranges(): Record<string, string> | undefined {
    if (this.values.size === 0) return undefined;
    const ranges: Record<string, string> = {};
    for (const [tag, values] of this.values) {
      // KMIP does not order the two values: the earlier is the range's start.
      const [from, to] = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(iso);
      ranges[NATIVE_DATE_OF[tag]] = to === undefined ? from : `${from}/${to}`;
    }
    return ranges;
  }
}

function iso(seconds: bigint): string {
  const ms = Number(seconds) * 1000;
  if (!(Math.abs(ms) <= 8.64e15)) throw new KmipOperationError('InvalidField', 'Locate: a date is beyond what a date here can hold (years -271821 to 275760)');
  return new Date(ms).toISOString();
}
