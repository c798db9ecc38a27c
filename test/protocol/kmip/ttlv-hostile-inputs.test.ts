/**
 * Hostile TTLV inputs, one numbered row per decoding rule (docs/kmip.md §1):
 * the bytes and the stable reason expected, or null for the rows at the edge
 * of a rule that must still decode. Rows k40-k44 go through the framing
 * helper, which sees only the first 8 bytes of a message.
 */
import { decodeTtlv } from '../../../protocol/kmip/ttlv-decoder';
import { ttlvMessageLength } from '../../../protocol/kmip/ttlv-framing';
import { KmipCodecError, KmipCodecReason } from '../../../protocol/kmip/kmip-codec-error';
import { KMIP_MAX_DEPTH, KMIP_MAX_MESSAGE_BYTES } from '../../../protocol/kmip/ttlv';

interface Row {
  readonly name: string;
  readonly bytes: Buffer;
  readonly reason: KmipCodecReason | null;
  /** Only the first 8 bytes go to ttlvMessageLength. */
  readonly framing?: boolean;
}

const hex = (spaced: string): Buffer => Buffer.from(spaced.replace(/[\s|]/g, ''), 'hex');
/** An item of tag 420020 with the given type byte, declared length and value bytes (written as given: no padding added). */
const item = (type: string, length: number, value: string): Buffer => hex(`420020 ${type} ${length.toString(16).padStart(8, '0')} ${value}`);
const structure = (length: number, ...children: Buffer[]): Buffer => Buffer.concat([item('01', length, ''), ...children]);
const INT_8 = item('02', 4, '00000008 00000000');
const nested = (depth: number): Buffer => {
  let bytes = structure(0);
  for (let i = 1; i < depth; i++) bytes = structure(bytes.length, bytes);
  return bytes;
};

const ROWS: Row[] = [
  { name: 'k01_empty_input', bytes: Buffer.alloc(0), reason: 'TRUNCATED' },
  { name: 'k02_header_of_7_bytes', bytes: hex('42002002000000'), reason: 'TRUNCATED' },
  { name: 'k03_tag_prefix_00', bytes: hex('000020 02 00000004 00000008 00000000'), reason: 'BAD_TAG' },
  { name: 'k04_tag_prefix_43', bytes: hex('430020 02 00000004 00000008 00000000'), reason: 'BAD_TAG' },
  { name: 'k05_tag_prefix_ff', bytes: hex('ffffff 02 00000004 00000008 00000000'), reason: 'BAD_TAG' },
  { name: 'k06_extension_tag_54_decodes', bytes: hex('540001 02 00000004 00000008 00000000'), reason: null },
  { name: 'k07_type_00', bytes: item('00', 4, '00000008 00000000'), reason: 'BAD_TYPE' },
  { name: 'k08_type_0c_after_date_time_extended', bytes: item('0c', 4, '00000008 00000000'), reason: 'BAD_TYPE' },
  { name: 'k09_type_ff', bytes: item('ff', 4, '00000008 00000000'), reason: 'BAD_TYPE' },
  { name: 'k10_integer_length_8', bytes: item('02', 8, '00000000 00000008'), reason: 'BAD_LENGTH' },
  { name: 'k11_integer_length_0', bytes: item('02', 0, ''), reason: 'BAD_LENGTH' },
  { name: 'k12_long_integer_length_4', bytes: item('03', 4, '00000008 00000000'), reason: 'BAD_LENGTH' },
  { name: 'k13_enumeration_length_8', bytes: item('05', 8, '00000000 00000001'), reason: 'BAD_LENGTH' },
  { name: 'k14_boolean_length_4', bytes: item('06', 4, '00000001 00000000'), reason: 'BAD_LENGTH' },
  { name: 'k15_date_time_length_4', bytes: item('09', 4, '47DA67F8 00000000'), reason: 'BAD_LENGTH' },
  { name: 'k16_interval_length_8', bytes: item('0a', 8, '00000000 000D2F00'), reason: 'BAD_LENGTH' },
  { name: 'k17_date_time_extended_length_16', bytes: item('0b', 16, '00'.repeat(16)), reason: 'BAD_LENGTH' },
  { name: 'k18_integer_padding_not_zero', bytes: item('02', 4, '00000008 00000001'), reason: 'BAD_PADDING' },
  { name: 'k19_text_padding_ff', bytes: item('07', 3, '616263 ffffffffff'), reason: 'BAD_PADDING' },
  { name: 'k20_byte_string_padding_last_byte_set', bytes: item('08', 1, '01 00000000000080'), reason: 'BAD_PADDING' },
  { name: 'k21_enumeration_padding_not_zero', bytes: item('05', 4, '000000ff 00ff0000'), reason: 'BAD_PADDING' },
  { name: 'k22_boolean_2', bytes: item('06', 8, '00000000 00000002'), reason: 'BAD_BOOLEAN' },
  { name: 'k23_boolean_high_byte_set', bytes: item('06', 8, '01000000 00000001'), reason: 'BAD_BOOLEAN' },
  { name: 'k24_boolean_0_decodes', bytes: item('06', 8, '00000000 00000000'), reason: null },
  { name: 'k25_text_overlong_slash', bytes: item('07', 2, 'c0af 000000000000'), reason: 'BAD_UTF8' },
  { name: 'k26_text_surrogate_bytes', bytes: item('07', 3, 'eda080 0000000000'), reason: 'BAD_UTF8' },
  { name: 'k27_text_truncated_sequence', bytes: item('07', 2, 'e282 000000000000'), reason: 'BAD_UTF8' },
  { name: 'k28_text_lone_continuation', bytes: item('07', 1, '80 00000000000000'), reason: 'BAD_UTF8' },
  { name: 'k29_text_code_point_above_10ffff', bytes: item('07', 4, 'f4908080 00000000'), reason: 'BAD_UTF8' },
  { name: 'k30_big_integer_length_4', bytes: item('04', 4, '00000001 00000000'), reason: 'BAD_BIG_INTEGER_LENGTH' },
  { name: 'k31_big_integer_length_0', bytes: item('04', 0, ''), reason: 'BAD_BIG_INTEGER_LENGTH' },
  { name: 'k32_big_integer_length_12', bytes: item('04', 12, '00'.repeat(16)), reason: 'BAD_BIG_INTEGER_LENGTH' },
  { name: 'k33_structure_length_not_multiple_of_8', bytes: structure(12, INT_8), reason: 'BAD_LENGTH' },
  { name: 'k34_child_value_past_its_structure', bytes: Buffer.concat([structure(8, INT_8)]), reason: 'STRUCTURE_LENGTH_MISMATCH' },
  { name: 'k35_child_length_past_its_structure', bytes: structure(16, item('07', 16, '00'.repeat(16))), reason: 'STRUCTURE_LENGTH_MISMATCH' },
  { name: 'k36_second_child_past_its_structure', bytes: structure(24, INT_8, structure(8, INT_8)), reason: 'STRUCTURE_LENGTH_MISMATCH' },
  { name: 'k37_value_past_end_of_input', bytes: item('07', 11, '48656c6c6f'), reason: 'TRUNCATED' },
  { name: 'k38_length_ffffffff', bytes: item('08', 0xffffffff, '0102030405060708'), reason: 'TRUNCATED' },
  { name: 'k39_structure_length_past_end_of_input', bytes: structure(24, INT_8), reason: 'TRUNCATED' },
  { name: 'k40_trailing_bytes', bytes: Buffer.concat([INT_8, hex('00')]), reason: 'TRAILING_BYTES' },
  { name: 'k41_two_items_back_to_back', bytes: Buffer.concat([INT_8, INT_8]), reason: 'TRAILING_BYTES' },
  { name: 'k42_depth_at_limit_decodes', bytes: nested(KMIP_MAX_DEPTH), reason: null },
  { name: 'k43_depth_limit_plus_one', bytes: nested(KMIP_MAX_DEPTH + 1), reason: 'TOO_DEEP' },
  { name: 'k44_input_over_maximum', bytes: Buffer.alloc(KMIP_MAX_MESSAGE_BYTES + 8), reason: 'MESSAGE_TOO_LARGE' },
  { name: 'k45_empty_structure_decodes', bytes: structure(0), reason: null },
  { name: 'k46_empty_text_decodes', bytes: item('07', 0, ''), reason: null },
  { name: 'k47_byte_string_of_8_without_padding_decodes', bytes: item('08', 8, '0102030405060708'), reason: null },
  { name: 'k48_framing_declared_length_over_maximum', bytes: hex(`420078 01 ${(KMIP_MAX_MESSAGE_BYTES).toString(16).padStart(8, '0')}`), reason: 'MESSAGE_TOO_LARGE', framing: true },
  { name: 'k49_framing_length_ffffffff', bytes: hex('420078 01 ffffffff'), reason: 'BAD_LENGTH', framing: true },
  { name: 'k50_framing_length_fffffff8', bytes: hex('420078 01 fffffff8'), reason: 'MESSAGE_TOO_LARGE', framing: true },
  { name: 'k51_framing_not_a_structure', bytes: hex('420078 02 00000004'), reason: 'NOT_A_STRUCTURE', framing: true },
  { name: 'k52_framing_bad_tag', bytes: hex('000078 01 00000008'), reason: 'BAD_TAG', framing: true },
  { name: 'k53_framing_length_not_multiple_of_8', bytes: hex('420078 01 0000000c'), reason: 'BAD_LENGTH', framing: true },
  { name: 'k54_framing_largest_allowed', bytes: hex(`420078 01 ${(KMIP_MAX_MESSAGE_BYTES - 8).toString(16).padStart(8, '0')}`), reason: null, framing: true },
];

function reasonOf(run: () => unknown): KmipCodecReason | null {
  try {
    run();
    return null;
  } catch (error) {
    if (!(error instanceof KmipCodecError)) throw error;
    expect(error.code).toBe('KMIP_INVALID_MESSAGE');
    expect(error.details.reason).toBe(error.reason);
    return error.reason;
  }
}

describe('hostile TTLV inputs', () => {
  it('has unique, ordered row names', () => {
    const names = ROWS.map((row) => row.name);
    expect(new Set(names).size).toBe(names.length);
    names.forEach((name, i) => expect(name.startsWith(`k${String(i + 1).padStart(2, '0')}_`)).toBe(true));
  });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    const run = row.framing ? () => ttlvMessageLength(row.bytes.subarray(0, 8)) : () => decodeTtlv(row.bytes);
    expect(reasonOf(run)).toBe(row.reason);
  });
});
