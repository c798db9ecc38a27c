/**
 * The one-line ciphertext form of `strongroom encrypt` (cli/ciphertext-text.ts):
 * round trips for any key name and ciphertext, the --json document accepted
 * as is, and a table of inputs that are refused (INVALID_ARGUMENT), never
 * half-read.
 */
import fc from 'fast-check';
import { formatCiphertext, parseCiphertext } from '../../cli/ciphertext-text';
import { codeOf } from '../support/error-code';

const segment = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/);

describe('the ciphertext line', () => {
  it('parses back what it formats, for any key name, AAD mark and ciphertext', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 300 }), (segments, aad, bytes) => {
        const sealed = { key: segments.join('/'), aad, ciphertext: Buffer.from(bytes) };
        const line = formatCiphertext(sealed);
        expect(parseCiphertext(`  ${line}\n`)).toEqual(sealed);
        expect(parseCiphertext(JSON.stringify({ key: sealed.key, instance: 'i', aad, ciphertext: line }, null, 2))).toEqual(sealed);
      }),
    );
  });

  it.each([
    ['empty', ''],
    ['no prefix', 'hr/payroll:AAAA'],
    ['another version', 'strongroom:v2:hr/payroll:AAAA'],
    ['no ciphertext', 'strongroom:v1:hr/payroll:'],
    ['not base64', 'strongroom:v1:hr/payroll:AA$A'],
    ['an unknown mark', 'strongroom:v1:hr/payroll:zzz:AAAA'],
    ['two lines', 'strongroom:v1:hr/payroll:AAAA\nstrongroom:v1:hr/payroll:AAAA'],
    ['JSON that does not parse', '{"ciphertext": '],
    ['JSON without a line', '{"key": "hr/payroll"}'],
    ['JSON whose line is a document', JSON.stringify({ ciphertext: JSON.stringify({ ciphertext: 'strongroom:v1:a/b:AAAA' }) })],
    ['JSON whose key disagrees with its line', JSON.stringify({ key: 'crm/other', ciphertext: 'strongroom:v1:hr/payroll:AAAA' })],
    ['too long', `strongroom:v1:hr/payroll:${'A'.repeat(3 * 1024 * 1024)}`],
  ])('refuses %s', (_what, input) => {
    expect(codeOf(() => parseCiphertext(input))).toBe('INVALID_ARGUMENT');
  });
});
