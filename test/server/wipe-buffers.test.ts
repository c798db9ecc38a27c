/**
 * wipeBuffers (server/tls/connection.ts), what zeroes an answer's key
 * material and plaintexts once encoded: every Buffer is zeroed, beside and
 * inside frozen values too; only a view whose JSON the encoder keeps (data
 * only) is passed over.
 */
import { deepFreeze } from '../../common/deep-freeze';
import { encodeResult } from '../../protocol/response';
import { wipeBuffers } from '../../server/tls/connection';

const zeroed = (b: Buffer): boolean => b.every((byte) => byte === 0);

describe('wipeBuffers', () => {
  it('zeroes the material beside encoded views, and bytes inside a frozen value', () => {
    const key = deepFreeze({ fullName: 'app/data', usage: ['encrypt'] });
    const material = Buffer.from('0123456789abcdef');
    const held = deepFreeze({ inner: { digest: Buffer.from('digest-bytes') }, list: [Buffer.from('x')] });
    const result = { key, material, held };
    encodeResult(1, result);
    wipeBuffers(result);
    expect(zeroed(material)).toBe(true);
    expect(zeroed(held.inner.digest)).toBe(true);
    expect(zeroed(held.list[0])).toBe(true);
  });
});
