/** canonicalName (operations/context.ts): the parsed name's canonical form, the same from its memo as parsed anew; a bad name refused every time. */
import { canonicalName } from '../../operations/context';
import { codeOf } from '../support/error-code';

describe('canonicalName', () => {
  it('answers the canonical form, the second time as the first', () => {
    for (let round = 0; round < 2; round++) {
      expect(canonicalName('payroll')).toBe('default/payroll');
      expect(canonicalName('hr/payroll')).toBe('hr/payroll');
      expect(canonicalName('eu/hr/payroll')).toBe('eu/hr/payroll');
    }
  });

  it('refuses a bad name each time it is asked (never remembered)', () => {
    expect(codeOf(() => canonicalName('bad name'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => canonicalName('bad name'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => canonicalName('/x'))).toBe('INVALID_ARGUMENT');
  });

  it('keeps answering correctly past its bound (it starts again when full)', () => {
    for (let i = 0; i < 10_050; i++) expect(canonicalName(`ns/k${i}`)).toBe(`ns/k${i}`);
    expect(canonicalName('k0')).toBe('default/k0');
  });
});
