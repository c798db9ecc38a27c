/**
 * Locate's date ranges (domain/instance-date-ranges.ts): one date-time is
 * that instant, `from/to` a range with both ends included; an instance
 * without the date matches none; unknown names, dates without a zone,
 * three parts and backwards ranges are refused naming the field.
 */
import { inDateRanges, parseDateRanges } from '../../domain/instance-date-ranges';
import { InstanceView } from '../../domain/view-types';
import { codeOf } from '../support/error-code';

const instance = (dates: Partial<InstanceView>): InstanceView => ({
  name: 'i-1', version: 1, state: 'PreActive', current: true, hasMaterial: true, createdAt: '2026-01-01T00:00:00.000Z',
  activatedAt: null, activatesAt: null, deactivatedAt: null, destroyedAt: null, destroyAt: null, protectStopAt: null, processStopAt: null,
  revocationReason: null, compromisedAt: null, compromiseOccurredAt: null, ...dates,
}) as InstanceView;

describe('Locate date ranges', () => {
  const stop = instance({ protectStopAt: '2000-01-31T14:00:00.000Z' });

  it('matches a date inside a range, at either end, and not outside it', () => {
    expect(inDateRanges(stop, parseDateRanges({ protectStopAt: '2000-01-01T00:00:00+10:00/2000-02-10T00:00:00+10:00' }))).toBe(true);
    expect(inDateRanges(stop, parseDateRanges({ protectStopAt: '2000-01-31T14:00:00Z/2000-02-01T00:00:00Z' }))).toBe(true);
    expect(inDateRanges(stop, parseDateRanges({ protectStopAt: '2000-01-01T00:00:00Z/2000-01-31T14:00:00Z' }))).toBe(true);
    expect(inDateRanges(stop, parseDateRanges({ protectStopAt: '2000-01-31T14:00:00.001Z/2000-03-01T00:00:00Z' }))).toBe(false);
    expect(inDateRanges(stop, parseDateRanges({ protectStopAt: '1999-01-01T00:00:00Z/2000-01-31T13:59:59Z' }))).toBe(false);
  });

  it('takes one date-time as that instant, and needs every range to hold', () => {
    expect(inDateRanges(stop, parseDateRanges({ protectStopAt: '2000-02-01T00:00:00+10:00' }))).toBe(true);
    expect(inDateRanges(stop, parseDateRanges({ protectStopAt: '2000-02-01T00:00:01+10:00' }))).toBe(false);
    expect(inDateRanges(stop, parseDateRanges({ protectStopAt: '2000-02-01T00:00:00+10:00', createdAt: '2026-01-01T00:00:00Z/2026-01-02T00:00:00Z' }))).toBe(true);
    expect(inDateRanges(stop, parseDateRanges({ protectStopAt: '2000-02-01T00:00:00+10:00', createdAt: '2025-01-01T00:00:00Z/2025-01-02T00:00:00Z' }))).toBe(false);
  });

  it('matches no instance that lacks the date (absent processStartAt or null deactivatedAt)', () => {
    expect(inDateRanges(stop, parseDateRanges({ processStartAt: '1970-01-01T00:00:00Z/2999-01-01T00:00:00Z' }))).toBe(false);
    expect(inDateRanges(stop, parseDateRanges({ deactivatedAt: '1970-01-01T00:00:00Z/2999-01-01T00:00:00Z' }))).toBe(false);
    expect(inDateRanges(stop, parseDateRanges(undefined))).toBe(true);
  });

  it('refuses an unknown date, a date without a zone, three parts and a range that ends before it starts', () => {
    expect(codeOf(() => parseDateRanges({ updatedAt: '2000-01-01T00:00:00Z' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseDateRanges({ createdAt: '2000-01-01T00:00:00' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseDateRanges({ createdAt: '2000-01-01T00:00:00Z/2000-01-02T00:00:00Z/2000-01-03T00:00:00Z' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseDateRanges({ createdAt: '2000-01-02T00:00:00Z/2000-01-01T00:00:00Z' }))).toBe('INVALID_ARGUMENT');
  });
});
