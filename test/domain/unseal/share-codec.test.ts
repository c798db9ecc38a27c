/**
 * The custodian share text (sr1-…): round trips, typos caught by the
 * checksum, malformed input refused with INVALID_ARGUMENT and never echoed.
 */
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { decodeShare, encodeShare, SHARE_BYTES } from '../../../domain/unseal/share-codec';
import { codeOf } from '../../support/error-code';

function shareBytes(): Uint8Array {
  const bytes = new Uint8Array(randomBytes(SHARE_BYTES));
  bytes[SHARE_BYTES - 1] = 1 + (bytes[SHARE_BYTES - 1] % 255);
  return bytes;
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
}

describe('unseal share text', () => {
  it('round-trips any share and custodian number', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: SHARE_BYTES, maxLength: SHARE_BYTES }), fc.integer({ min: 1, max: 16 }), (raw, custodian) => {
        const bytes = Uint8Array.from(raw);
        bytes[SHARE_BYTES - 1] = 1 + (bytes[SHARE_BYTES - 1] % 255);
        const decoded = decodeShare(encodeShare(custodian, bytes));
        return decoded.custodian === custodian && Buffer.from(decoded.bytes).equals(Buffer.from(bytes));
      }),
    );
  });

  it('reads lower case and spaces (a share read out in groups)', () => {
    const bytes = shareBytes();
    const text = encodeShare(3, bytes);
    const spaced = text.toLowerCase().replace(/(.{5})/g, '$1 ');
    expect(Buffer.from(decodeShare(spaced).bytes).equals(Buffer.from(bytes))).toBe(true);
  });

  it('catches every single-character typo in the share part (checksum)', () => {
    const text = encodeShare(2, shareBytes());
    const start = text.indexOf('-', 4) + 1;
    for (let i = start; i < start + 20; i++) {
      const replacement = text[i] === 'A' ? 'B' : 'A';
      const typo = text.slice(0, i) + replacement + text.slice(i + 1);
      expect(codeOf(() => decodeShare(typo))).toBe('INVALID_ARGUMENT');
    }
  });

  it('catches a changed custodian number', () => {
    const text = encodeShare(2, shareBytes());
    expect(codeOf(() => decodeShare(text.replace('sr1-2-', 'sr1-3-')))).toBe('INVALID_ARGUMENT');
  });

  it.each([
    ['empty', ''],
    ['another format', 'hello world'],
    ['no checksum', 'sr1-1-GEZDGNBVGY3TQOJQ'],
    ['custodian 0', 'sr1-0-GEZDGNBVGY3TQOJQ-AAAA'],
    ['custodian 17', 'sr1-17-GEZDGNBVGY3TQOJQ-AAAA'],
    ['too short', 'sr1-1-GEZDG-AAAA'],
    ['non-base32 characters', `sr1-1-${'1'.repeat(53)}-AAAA`],
    ['far too long', `sr1-1-${'A'.repeat(300)}-AAAA`],
  ])('refuses %s (INVALID_ARGUMENT)', (_what, text) => {
    expect(codeOf(() => decodeShare(text))).toBe('INVALID_ARGUMENT');
  });

  it('never puts the share text in the error', () => {
    const text = encodeShare(4, shareBytes());
    const typo = `${text.slice(0, 10)}${text[10] === 'A' ? 'B' : 'A'}${text.slice(11)}`;
    const err = errorOf(() => decodeShare(typo));
    const body = typo.split('-')[2];
    expect(JSON.stringify({ message: err.message, ...(err as unknown as { details: object }).details })).not.toContain(body.slice(0, 12));
  });
});
