/**
 * The KMIP JSON encoding (protocol/kmip/kmip-json.ts): items as
 * {tag, type, value}, JSON numbers where they fit and text otherwise, and a
 * numbered table of hostile JSON, one row per rule, with the stable reason.
 */
import { formatKmipJson, parseKmipJson } from '../../../protocol/kmip/kmip-json';
import { KmipCodecError, KmipCodecReason } from '../../../protocol/kmip/kmip-codec-error';
import { KMIP_MAX_DEPTH, TtlvNode } from '../../../protocol/kmip/ttlv';
import { tagNumber } from '../../../protocol/kmip/dictionary';

function reasonOf(run: () => unknown): KmipCodecReason | null {
  try {
    run();
    return null;
  } catch (error) {
    if (!(error instanceof KmipCodecError)) throw error;
    return error.reason;
  }
}

const item = (tag: string, type: string, value: unknown): string => JSON.stringify({ tag, type, value });

describe('KMIP JSON encoding', () => {
  it('reads numbers as JSON numbers or text, and structures with or without "type"', () => {
    expect(parseKmipJson(item('BatchCount', 'Integer', 3)).value).toBe(3);
    expect(parseKmipJson(item('BatchCount', 'Integer', '0x00000003')).value).toBe(3);
    expect(parseKmipJson(item('CryptographicUsageMask', 'Integer', 'Encrypt|Decrypt')).value).toBe(12);
    expect(parseKmipJson(item('UsageLimitsTotal', 'LongInteger', 9007199254740991)).value).toBe(9007199254740991n);
    expect(parseKmipJson(item('UsageLimitsTotal', 'LongInteger', '0x7FFFFFFFFFFFFFFF')).value).toBe((1n << 63n) - 1n);
    expect(parseKmipJson(item('Modulus', 'BigInteger', '0x0000000000010001')).value).toBe(65537n);
    expect(parseKmipJson(item('ObjectType', 'Enumeration', 2)).value).toBe(2);
    expect(parseKmipJson(item('ObjectType', 'Enumeration', 'SecretData')).value).toBe(7);
    expect(parseKmipJson(item('Sensitive', 'Boolean', false)).value).toBe(false);
    expect(parseKmipJson(item('KeyMaterial', 'ByteString', '0aff')).value).toEqual(new Uint8Array([10, 255]));
    expect(parseKmipJson(item('ActivationDate', 'DateTime', '2008-03-14T11:56:40+00:00')).value).toBe(1205495800n);
    expect(parseKmipJson(item('LeaseTime', 'Interval', 3600)).value).toBe(3600);
    expect(parseKmipJson('{"tag":"RequestMessage","value":[]}')).toEqual({ tag: 0x420078, type: 'Structure', value: [] });
    expect(parseKmipJson('{"tag":"0x420078","type":"Structure","value":[]}')).toEqual({ tag: 0x420078, type: 'Structure', value: [] });
  });

  it('writes JSON numbers where they are exact, names where it knows them, hex past 2^53', () => {
    const node: TtlvNode = {
      tag: 0x420078,
      type: 'Structure',
      value: [
        { tag: 0x42000d, type: 'Integer', value: 1 },
        { tag: 0x42002c, type: 'Integer', value: 12 },
        { tag: 0x420057, type: 'Enumeration', value: 2 },
        { tag: 0x420057, type: 'Enumeration', value: 0x80000000 },
        { tag: tagNumber('UsageLimitsTotal')!, type: 'LongInteger', value: 1n << 60n },
        { tag: tagNumber('UsageLimitsTotal')!, type: 'LongInteger', value: -5n },
        { tag: 0x540001, type: 'Boolean', value: true },
      ],
    };
    const json = formatKmipJson(node);
    expect(JSON.parse(json)).toEqual({
      tag: 'RequestMessage',
      value: [
        { tag: 'BatchCount', type: 'Integer', value: 1 },
        { tag: 'CryptographicUsageMask', type: 'Integer', value: 'Encrypt|Decrypt' },
        { tag: 'ObjectType', type: 'Enumeration', value: 'SymmetricKey' },
        { tag: 'ObjectType', type: 'Enumeration', value: '0x80000000' },
        { tag: 'UsageLimitsTotal', type: 'LongInteger', value: '0x1000000000000000' },
        { tag: 'UsageLimitsTotal', type: 'LongInteger', value: -5 },
        { tag: '0x540001', type: 'Boolean', value: true },
      ],
    });
    expect(parseKmipJson(json)).toEqual(node);
  });
});

const nest = (depth: number): string => '{"tag":"Attribute","value":['.repeat(depth - 1) + item('BatchCount', 'Integer', 1) + ']}'.repeat(depth - 1);

const ROWS: Array<{ name: string; json: string; reason: KmipCodecReason | null }> = [
  { name: 'j01_not_json', json: '{"tag":', reason: 'JSON_SYNTAX' },
  { name: 'j02_top_level_array', json: '[]', reason: 'BAD_SHAPE' },
  { name: 'j03_missing_tag', json: '{"type":"Integer","value":1}', reason: 'BAD_SHAPE' },
  { name: 'j04_missing_value', json: '{"tag":"BatchCount","type":"Integer"}', reason: 'BAD_SHAPE' },
  { name: 'j05_unexpected_field', json: '{"tag":"BatchCount","type":"Integer","value":1,"x":0}', reason: 'BAD_SHAPE' },
  { name: 'j06_proto_field', json: '{"tag":"BatchCount","type":"Integer","value":1,"__proto__":{}}', reason: 'BAD_SHAPE' },
  { name: 'j07_unknown_tag_name', json: item('NoSuchTag', 'Integer', 1), reason: 'UNKNOWN_TAG' },
  { name: 'j08_hex_tag_not_42_or_54', json: item('0x430001', 'Integer', 1), reason: 'BAD_TAG' },
  { name: 'j09_tag_not_a_string', json: '{"tag":4325389,"type":"Integer","value":1}', reason: 'BAD_SHAPE' },
  { name: 'j10_unknown_type', json: item('BatchCount', 'Float', 1), reason: 'UNKNOWN_ITEM_TYPE' },
  { name: 'j11_structure_value_not_array', json: '{"tag":"RequestMessage","value":{}}', reason: 'BAD_SHAPE' },
  { name: 'j12_integer_fraction', json: item('BatchCount', 'Integer', 1.5), reason: 'BAD_VALUE' },
  { name: 'j13_integer_over_int32', json: item('BatchCount', 'Integer', 2147483648), reason: 'BAD_VALUE' },
  { name: 'j14_long_integer_past_2_pow_53_as_number', json: '{"tag":"UsageLimitsTotal","type":"LongInteger","value":9007199254740993}', reason: 'BAD_VALUE' },
  { name: 'j15_enumeration_negative', json: item('ObjectType', 'Enumeration', -1), reason: 'BAD_VALUE' },
  { name: 'j16_boolean_as_number', json: item('Sensitive', 'Boolean', 1), reason: 'BAD_VALUE' },
  { name: 'j17_text_as_number', json: item('Name', 'TextString', 1), reason: 'BAD_VALUE' },
  { name: 'j18_integer_as_boolean', json: item('BatchCount', 'Integer', true), reason: 'BAD_VALUE' },
  { name: 'j19_null_value', json: item('BatchCount', 'Integer', null), reason: 'BAD_VALUE' },
  { name: 'j20_unknown_enumeration_name', json: item('ObjectType', 'Enumeration', 'Banana'), reason: 'UNKNOWN_ENUMERATION' },
  { name: 'j21_child_not_an_object', json: '{"tag":"RequestMessage","value":[1]}', reason: 'BAD_SHAPE' },
  { name: 'j22_depth_at_limit_parses', json: nest(KMIP_MAX_DEPTH), reason: null },
  { name: 'j23_depth_limit_plus_one', json: nest(KMIP_MAX_DEPTH + 1), reason: 'JSON_SYNTAX' },
  { name: 'j24_open_brackets_x100000', json: '['.repeat(100_000), reason: 'JSON_SYNTAX' },
];

describe('hostile KMIP JSON', () => {
  it('has unique, ordered row names', () => {
    ROWS.forEach((row, i) => expect(row.name.startsWith(`j${String(i + 1).padStart(2, '0')}_`)).toBe(true));
  });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    expect(reasonOf(() => parseKmipJson(row.json))).toBe(row.reason);
  });
});
