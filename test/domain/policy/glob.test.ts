import fc from 'fast-check';
import { checkGlob, globMatches } from '../../../domain/policy/glob';
import { codeOf } from '../../support/error-code';

/** The obvious (slow) definition, for comparison on small inputs. */
function reference(pattern: string, text: string): boolean {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`, 's').test(text);
}

describe('grant pattern matching', () => {
  it.each([
    ['hr/*', 'hr/payroll', true],
    ['hr/*', 'hr/eu/payroll', true],
    ['hr/*', 'hrx/payroll', false],
    ['*', 'anything/at/all', true],
    ['pay/card-data', 'pay/card-data', true],
    ['pay/card-data', 'pay/card-datax', false],
    ['*-prod/*', 'pay-prod/k', true],
    ['*-prod/*', 'pay-dev/k', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
  ])('%s matches %s: %s', (pattern, text, expected) => {
    expect(globMatches(pattern, text)).toBe(expected);
  });

  it('agrees with the regex definition on random small inputs', () => {
    const alphabet = fc.constantFrom('a', 'b', '/', '*');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 8 }).map((c) => c.join('')), fc.array(fc.constantFrom('a', 'b', '/'), { maxLength: 12 }).map((c) => c.join('')), (pattern, text) => {
        expect(globMatches(pattern, text)).toBe(reference(pattern, text));
      }),
    );
  });

  it('stays fast on a pattern and name built to make backtracking explode', () => {
    const pattern = '*/*/*/*/*.key';
    const name = `a${'/b'.repeat(99)}/c`;
    // Not a timing assertion: the regex form took about a second per check here, so 200 of them would blow the test timeout.
    for (let i = 0; i < 200; i++) expect(globMatches(pattern, name)).toBe(false);
  });

  it('refuses patterns with too many stars or odd characters', () => {
    expect(codeOf(() => checkGlob('*'.repeat(9)))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => checkGlob('hr/(.*)'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => checkGlob('hr/*'))).toBe('NO_ERROR');
  });
});
