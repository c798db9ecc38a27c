/**
 * The TTLV codec (protocol/kmip/ttlv-*.ts): the specification's own examples
 * (KMIP 1.4 §9.1.2) byte for byte, round trips of random trees, canonical
 * Big Integers, the framing helper, and the limits as named constants.
 */
import fc from 'fast-check';
import { decodeTtlv, twosComplementToBigInt } from '../../../protocol/kmip/ttlv-decoder';
import { bigIntToTwosComplement, encodedLength, encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { ttlvMessageLength } from '../../../protocol/kmip/ttlv-framing';
import { KMIP_MAX_DEPTH, KMIP_MAX_MESSAGE_BYTES, TtlvNode } from '../../../protocol/kmip/ttlv';
import { KmipCodecError } from '../../../protocol/kmip/kmip-codec-error';
import { arbitraryMessage, arbitraryTree } from './ttlv-arbitrary';

const hex = (spaced: string): Buffer => Buffer.from(spaced.replace(/[\s|]/g, ''), 'hex');
const T = 0x420020;

/** KMIP 1.4 §9.1.2: the examples, all with tag 420020. */
const SPEC_EXAMPLES: Array<[string, TtlvNode, string]> = [
  ['Integer 8', { tag: T, type: 'Integer', value: 8 }, '42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00'],
  ['Long Integer 123456789000000000', { tag: T, type: 'LongInteger', value: 123456789000000000n }, '42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00'],
  ['Big Integer 1234567890000000000000000000', { tag: T, type: 'BigInteger', value: 1234567890000000000000000000n }, '42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00'],
  ['Enumeration 255', { tag: T, type: 'Enumeration', value: 255 }, '42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00'],
  ['Boolean true', { tag: T, type: 'Boolean', value: true }, '42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01'],
  ['Text String "Hello World"', { tag: T, type: 'TextString', value: 'Hello World' }, '42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00'],
  ['Byte String 010203', { tag: T, type: 'ByteString', value: new Uint8Array([1, 2, 3]) }, '42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00'],
  ['Date-Time 2008-03-14T11:56:40Z', { tag: T, type: 'DateTime', value: 1205495800n }, '42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8'],
  ['Interval 10 days', { tag: T, type: 'Interval', value: 864000 }, '42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00'],
  [
    'Structure of Enumeration 254 and Integer 255',
    { tag: T, type: 'Structure', value: [{ tag: 0x420004, type: 'Enumeration', value: 254 }, { tag: 0x420005, type: 'Integer', value: 255 }] },
    '42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 | 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00',
  ],
];

describe('TTLV codec', () => {
  it.each(SPEC_EXAMPLES)('encodes and decodes the specification example: %s', (_name, node, bytes) => {
    expect(encodeTtlv(node)).toEqual(hex(bytes));
    expect(decodeTtlv(hex(bytes))).toEqual(node);
  });

  it('encodes Date-Time Extended (2.x) as 8 signed bytes of microseconds', () => {
    const node: TtlvNode = { tag: T, type: 'DateTimeExtended', value: -1n };
    expect(encodeTtlv(node)).toEqual(hex('42 00 20 | 0B | 00 00 00 08 | FF FF FF FF FF FF FF FF'));
    expect(decodeTtlv(encodeTtlv(node))).toEqual(node);
  });

  it('writes Big Integers in the fewest bytes, sign-extended to a multiple of 8', () => {
    expect(bigIntToTwosComplement(0n).toString('hex')).toBe('0000000000000000');
    expect(bigIntToTwosComplement(-1n).toString('hex')).toBe('ffffffffffffffff');
    expect(bigIntToTwosComplement(0x7fffffffffffffffn).toString('hex')).toBe('7fffffffffffffff');
    expect(bigIntToTwosComplement(0x8000000000000000n).toString('hex')).toBe(`${'00'.repeat(8)}8000000000000000`);
    expect(bigIntToTwosComplement(-0x8000000000000000n).toString('hex')).toBe('8000000000000000');
    expect(bigIntToTwosComplement(-0x8000000000000001n).toString('hex')).toBe(`${'ff'.repeat(8)}7fffffffffffffff`);
  });

  it('writes every Big Integer in the fewest 8-byte groups that hold it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 1100n), max: 1n << 1100n }), (value) => {
        const bytes = bigIntToTwosComplement(value);
        expect(bytes.length % 8).toBe(0);
        expect(twosComplementToBigInt(bytes)).toBe(value);
        if (bytes.length > 8) expect(twosComplementToBigInt(bytes.subarray(8))).not.toBe(value);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads a Big Integer sign-extended further than needed (8 more bytes) as the same value', () => {
    const bytes = hex(`42 00 20 | 04 | 00 00 00 10 | ${'FF'.repeat(15)} FE`);
    expect(decodeTtlv(bytes)).toEqual({ tag: T, type: 'BigInteger', value: -2n });
    expect(encodeTtlv({ tag: T, type: 'BigInteger', value: -2n }).length).toBe(16);
  });

  it('round-trips random trees, and re-encoding what it decoded gives the same bytes', () => {
    fc.assert(
      fc.property(arbitraryTree(), (node) => {
        const bytes = encodeTtlv(node);
        expect(encodedLength(node)).toBe(bytes.length);
        const back = decodeTtlv(bytes);
        expect(back).toEqual(node);
        expect(encodeTtlv(back).equals(bytes)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a byte-order mark at the start of a Text String (it is text, not an encoding marker)', () => {
    const bytes = encodeTtlv({ tag: T, type: 'TextString', value: '\uFEFFa' });
    expect(bytes.subarray(8, 12)).toEqual(Buffer.from([0xef, 0xbb, 0xbf, 0x61]));
    expect(decodeTtlv(bytes).value).toBe('\uFEFFa');
  });

  it('copies Byte Strings out of the input, so the caller can zero its buffer', () => {
    const bytes = encodeTtlv({ tag: T, type: 'ByteString', value: new Uint8Array([9, 9, 9]) });
    const node = decodeTtlv(bytes);
    bytes.fill(0);
    expect(node.value).toEqual(new Uint8Array([9, 9, 9]));
  });

  it('refuses to encode values outside their type, lone surrogates, bad tags and trees too deep', () => {
    const refused: TtlvNode[] = [
      { tag: T, type: 'Integer', value: 2 ** 31 },
      { tag: T, type: 'Integer', value: 1.5 },
      { tag: T, type: 'Enumeration', value: -1 },
      { tag: T, type: 'Interval', value: 2 ** 32 },
      { tag: T, type: 'LongInteger', value: 1n << 63n },
      { tag: T, type: 'DateTime', value: -(1n << 63n) - 1n },
      { tag: T, type: 'TextString', value: 'a\uD800b' },
      { tag: 0x430000, type: 'Boolean', value: true },
    ];
    for (const node of refused) expect(() => encodeTtlv(node)).toThrow(KmipCodecError);
    for (const node of refused) expect(() => encodedLength(node)).toThrow(KmipCodecError);
    let deep: TtlvNode = { tag: T, type: 'Structure', value: [] };
    for (let i = 1; i < KMIP_MAX_DEPTH; i++) deep = { tag: T, type: 'Structure', value: [deep] };
    expect(decodeTtlv(encodeTtlv(deep))).toEqual(deep);
    expect(() => encodeTtlv({ tag: T, type: 'Structure', value: [deep] })).toThrow(expect.objectContaining({ reason: 'TOO_DEEP' }));
  });
});

describe('ttlvMessageLength (framing)', () => {
  it('gives the whole length of a message from its first 8 bytes', () => {
    fc.assert(
      fc.property(arbitraryMessage(), (message) => {
        const bytes = encodeTtlv(message);
        expect(ttlvMessageLength(bytes.subarray(0, 8))).toBe(bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a declared length over the maximum from the header alone', () => {
    const header = Buffer.alloc(8);
    header.writeUIntBE(0x420078, 0, 3);
    header[3] = 0x01;
    header.writeUInt32BE(KMIP_MAX_MESSAGE_BYTES - 8, 4);
    expect(ttlvMessageLength(header)).toBe(KMIP_MAX_MESSAGE_BYTES);
    header.writeUInt32BE(KMIP_MAX_MESSAGE_BYTES - 8 + 8, 4);
    expect(() => ttlvMessageLength(header)).toThrow(expect.objectContaining({ code: 'KMIP_INVALID_MESSAGE', reason: 'MESSAGE_TOO_LARGE' }));
    header.writeUInt32BE(0xfffffff8, 4);
    expect(() => ttlvMessageLength(header)).toThrow(expect.objectContaining({ reason: 'MESSAGE_TOO_LARGE' }));
  });

  it('needs 8 bytes', () => {
    expect(() => ttlvMessageLength(Buffer.from('420078', 'hex'))).toThrow(RangeError);
  });
});
