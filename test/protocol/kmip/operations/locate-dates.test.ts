/**
 * KMIP Locate by a date attribute (protocol/kmip/operations/locate-dates.ts):
 * one value is that date, two a range in either order, both going to the
 * native Locate's `dates` under the instance field GetAttributes reports the
 * attribute from; a third value is Invalid Field; Activation and
 * Deactivation Date (two native fields each) are not taken.
 */
import { LOCATED_DATES, LocateDates } from '../../../../protocol/kmip/operations/locate-dates';
import { KmipOperationError } from '../../../../protocol/kmip/operations/kmip-operation';

const seconds = (iso: string): bigint => BigInt(Date.parse(iso) / 1000);

describe('Locate date attributes', () => {
  it('makes one value an instant and two a range, earlier first whatever the order sent', () => {
    const dates = new LocateDates();
    dates.add('ProtectStopDate', seconds('2000-02-10T00:00:00+10:00'));
    dates.add('ProtectStopDate', seconds('2000-01-01T00:00:00+10:00'));
    dates.add('InitialDate', seconds('2026-01-01T00:00:00Z'));
    expect(dates.ranges()).toEqual({ protectStopAt: '1999-12-31T14:00:00.000Z/2000-02-09T14:00:00.000Z', createdAt: '2026-01-01T00:00:00.000Z' });
  });

  it('sends nothing when no date was given', () => {
    expect(new LocateDates().ranges()).toBeUndefined();
  });

  it('refuses a third value of one date with Invalid Field', () => {
    const dates = new LocateDates();
    dates.add('DestroyDate', 1n);
    dates.add('DestroyDate', 2n);
    let refusal: unknown;
    try {
      dates.add('DestroyDate', 3n);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(KmipOperationError);
    expect((refusal as KmipOperationError).resultReason).toBe('InvalidField');
    expect((refusal as Error).message).toMatch(/Destroy Date is given more than twice/);
  });

  it('takes the dates that are one native field each, not Activation or Deactivation Date', () => {
    const dates = new LocateDates();
    expect(['InitialDate', 'ProtectStopDate', 'ProcessStartDate', 'DestroyDate', 'CompromiseDate', 'CompromiseOccurrenceDate'].every((tag) => dates.takes(tag))).toBe(true);
    expect(dates.takes('ActivationDate')).toBe(false);
    expect(dates.takes('DeactivationDate')).toBe(false);
    expect(LOCATED_DATES).toMatch(/^Initial Date, Protect Stop Date/);
  });
});
