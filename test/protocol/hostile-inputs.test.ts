/**
 * Hostile request payloads (docs/protocol.md §3.3 steps 3–4, §3.4, §4), one
 * numbered row each: the code expected and, for envelope errors, the id
 * echoed (null when it could not be read). Rows with `item` decode fine and
 * fail on that Batch item alone (its entry holds the error). A marker planted in
 * values must never come back in an error.
 */
import { DEFAULT_JSON_LIMITS } from '../../protocol/json-limits';
import { decodeRequest, requestIdOf, RequestId } from '../../protocol/request';
import { NO_ERROR } from '../support/error-code';

const MARK = 'S3CRET';
const MARK_B64 = Buffer.from(`${MARK}!!`).toString('base64'); // no padding, 8 chars

interface Row {
  readonly name: string;
  readonly payload: Buffer | string | object;
  readonly code: string;
  /** The id the error must echo; undefined: not checked (the row succeeds or fails per item). */
  readonly id?: RequestId | null;
  /** Index of the Batch item expected to fail on its own. */
  readonly item?: number;
}

const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const req = (args: object, op = 'Get', extra: object = {}): object => ({ id: 'r-1', op, args, ...extra });
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const zeros = (n: number): string => `{"id":1,"op":"Query","args":{"a":[${new Array(n).fill('0').join(',')}]}}`;
const batch = (items: unknown[]): object => ({ id: 9, op: 'Batch', args: { items } });
const enc = { op: 'Encrypt', args: { name: 'crm/pii', plaintext: 'aGk=' } };

const ROWS: Row[] = [
  { name: 'h01_empty_object_missing_id', payload: '{}', code: 'INVALID_REQUEST', id: null },
  { name: 'h02_invalid_utf8_overlong_slash', payload: bytes('{"id":1,"op":"Query","meta":{"endUser":"', [0xc0, 0xaf], '"}}'), code: 'MALFORMED_REQUEST', id: null },
  { name: 'h03_invalid_utf8_surrogate_bytes', payload: bytes('{"id":1,"op":"Query","meta":{"endUser":"', [0xed, 0xa0, 0x80], '"}}'), code: 'MALFORMED_REQUEST', id: null },
  { name: 'h04_invalid_utf8_truncated_sequence', payload: bytes('{"id":1,"op":"Query","meta":{"endUser":"', [0xe2, 0x82], '"}}'), code: 'MALFORMED_REQUEST', id: null },
  { name: 'h05_invalid_utf8_lone_continuation', payload: bytes('{"id":1,', [0x80], '"op":"Query"}'), code: 'MALFORMED_REQUEST', id: null },
  { name: 'h06_byte_order_mark', payload: bytes([0xef, 0xbb, 0xbf], '{"id":1,"op":"Query"}'), code: 'MALFORMED_REQUEST', id: null },
  { name: 'h07_utf16le_payload', payload: Buffer.from('{"id":1,"op":"Query"}', 'utf16le'), code: 'MALFORMED_REQUEST', id: null },
  { name: 'h08_not_json', payload: '{"id":1,"op":', code: 'MALFORMED_REQUEST', id: null },
  { name: 'h09_open_bracket_x100000', payload: '['.repeat(100_000), code: 'MALFORMED_REQUEST', id: null },
  { name: 'h10_depth_17_rejected', payload: `{"id":1,"op":"Query","args":{"x":${nested(15)}}}`, code: 'MALFORMED_REQUEST', id: null },
  { name: 'h11_depth_16_passes_json_stage', payload: `{"id":1,"op":"Query","args":{"x":${nested(14)}}}`, code: 'INVALID_REQUEST', id: 1 },
  { name: 'h12_10001_values_rejected', payload: zeros(9996), code: 'MALFORMED_REQUEST', id: null },
  { name: 'h13_10000_values_pass_json_stage', payload: zeros(9995), code: 'INVALID_REQUEST', id: 1 },
  { name: 'h14_top_level_array', payload: '[{"id":1,"op":"Query"}]', code: 'MALFORMED_REQUEST', id: null },
  { name: 'h15_top_level_string', payload: '"Query"', code: 'MALFORMED_REQUEST', id: null },
  { name: 'h16_top_level_number', payload: '1', code: 'MALFORMED_REQUEST', id: null },
  { name: 'h17_top_level_null', payload: 'null', code: 'MALFORMED_REQUEST', id: null },
  { name: 'h18_id_null', payload: { id: null, op: 'Query' }, code: 'INVALID_REQUEST', id: null },
  { name: 'h19_id_float', payload: '{"id":1.5,"op":"Query"}', code: 'INVALID_REQUEST', id: null },
  { name: 'h20_id_negative', payload: { id: -1, op: 'Query' }, code: 'INVALID_REQUEST', id: null },
  { name: 'h21_id_above_2_pow_53_minus_1', payload: '{"id":9007199254740992,"op":"Query"}', code: 'INVALID_REQUEST', id: null },
  { name: 'h22_id_65_characters', payload: { id: 'a'.repeat(65), op: 'Query' }, code: 'INVALID_REQUEST', id: null },
  { name: 'h23_id_empty_string', payload: { id: '', op: 'Query' }, code: 'INVALID_REQUEST', id: null },
  { name: 'h24_id_non_printable', payload: { id: 'r\u0001', op: 'Query' }, code: 'INVALID_REQUEST', id: null },
  { name: 'h25_id_non_ascii', payload: { id: 'r-é', op: 'Query' }, code: 'INVALID_REQUEST', id: null },
  { name: 'h26_id_object', payload: { id: { a: 1 }, op: 'Query' }, code: 'INVALID_REQUEST', id: null },
  { name: 'h27_op_missing', payload: { id: 'r-1' }, code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h28_op_unknown', payload: { id: 'r-1', op: 'DeleteEverything' }, code: 'UNKNOWN_OPERATION', id: 'r-1' },
  { name: 'h29_op_wrong_case', payload: { id: 7, op: 'get' }, code: 'UNKNOWN_OPERATION', id: 7 },
  { name: 'h30_op_not_a_string', payload: { id: 'r-1', op: ['Get'] }, code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h31_args_array', payload: { id: 'r-1', op: 'Query', args: [] }, code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h32_args_string', payload: { id: 'r-1', op: 'Query', args: 'name=x' }, code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h33_args_null', payload: { id: 'r-1', op: 'Query', args: null }, code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h34_unknown_top_level_field', payload: { id: 'r-1', op: 'Query', debug: true }, code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h35_proto_top_level', payload: '{"id":"r-1","op":"Query","__proto__":{"admin":true}}', code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h36_proto_in_args', payload: '{"id":"r-1","op":"Get","args":{"name":"a/b","__proto__":{"admin":true}}}', code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h37_meta_not_object', payload: req({ name: 'a/b' }, 'Get', { meta: 'alice' }), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h38_meta_end_user_not_string', payload: req({ name: 'a/b' }, 'Get', { meta: { endUser: 5 } }), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h39_meta_purpose_257_chars', payload: req({ name: 'a/b' }, 'Get', { meta: { purpose: 'p'.repeat(257) } }), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h40_meta_custom_17_entries', payload: req({ name: 'a/b' }, 'Get', { meta: { custom: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) } }), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h41_meta_custom_value_number', payload: req({ name: 'a/b' }, 'Get', { meta: { custom: { ticket: 1 } } }), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h42_meta_custom_bad_name', payload: req({ name: 'a/b' }, 'Get', { meta: { custom: { 'a b': 'v' } } }), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h43_meta_unknown_field', payload: req({ name: 'a/b' }, 'Get', { meta: { role: 'officer' } }), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h44_base64_with_whitespace', payload: req({ name: 'c/p', plaintext: `${MARK_B64.slice(0, 4)} ${MARK_B64.slice(4)}` }, 'Encrypt'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h45_base64_with_newline', payload: req({ name: 'c/p', plaintext: `${MARK_B64}\n` }, 'Encrypt'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h46_base64_missing_padding', payload: req({ name: 'c/p', plaintext: 'aGk' }, 'Encrypt'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h47_base64_too_much_padding', payload: req({ name: 'c/p', plaintext: 'aG===' }, 'Encrypt'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h48_base64_padding_in_middle', payload: req({ name: 'c/p', plaintext: 'aG==aGk=' }, 'Encrypt'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h49_base64_nonzero_pad_bits', payload: req({ name: 'c/p', plaintext: 'aGl=' }, 'Encrypt'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h50_base64_url_safe_alphabet', payload: req({ name: 'c/p', plaintext: '__8-' }, 'Encrypt'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h51_base64_field_not_string', payload: req({ name: 'c/p', plaintext: [104, 105] }, 'Encrypt'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h52_string_where_integer_expected', payload: req({ limit: '10' }, 'Locate'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h53_integer_above_range', payload: req({ limit: 1001 }, 'Locate'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h54_integer_below_range', payload: req({ limit: 0 }, 'Locate'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h55_float_where_integer_expected', payload: req({ offset: 1.5 }, 'Locate'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h56_missing_required_arg', payload: req({ name: 'c/p' }, 'Encrypt'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h57_null_for_optional_arg', payload: req({ name: 'a/b', description: null }, 'Create'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h58_enum_value_unknown', payload: req({ name: 'a/b', reason: MARK }, 'Revoke'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h59_name_201_chars', payload: req({ name: 'n'.repeat(201) }, 'Get'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h60_get_without_name_or_instance', payload: req({}, 'Get'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h61_grant_to_client_and_group', payload: req({ client: 'c', group: 'g', pattern: '*', permissions: ['get'] }, 'PolicyGrant'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h62_batch_65_items', payload: batch(new Array(65).fill(enc)), code: 'INVALID_REQUEST', id: 9 },
  { name: 'h63_batch_no_items', payload: batch([]), code: 'INVALID_REQUEST', id: 9 },
  { name: 'h64_batch_items_not_array', payload: { id: 9, op: 'Batch', args: { items: enc } }, code: 'INVALID_REQUEST', id: 9 },
  { name: 'h65_batch_item_extra_field', payload: batch([enc, { ...enc, id: 3 }]), code: 'INVALID_REQUEST', id: 9 },
  { name: 'h66_batch_item_meta', payload: batch([{ ...enc, meta: { endUser: 'x' } }]), code: 'INVALID_REQUEST', id: 9 },
  { name: 'h67_nested_batch_fails_its_item', payload: batch([enc, { op: 'Batch', args: { items: [enc] } }]), code: 'INVALID_REQUEST', item: 1 },
  { name: 'h68_batch_item_unknown_op_fails_its_item', payload: batch([{ op: 'Nope', args: {} }, enc]), code: 'UNKNOWN_OPERATION', item: 0 },
  { name: 'h69_batch_item_bad_base64_fails_its_item', payload: batch([enc, { op: 'Encrypt', args: { name: 'c/p', plaintext: `${MARK_B64} ` } }]), code: 'INVALID_REQUEST', item: 1 },
  { name: 'h70_duplicate_keys_last_wins', payload: '{"id":{},"id":2,"op":"Query","op":"Nope"}', code: 'UNKNOWN_OPERATION', id: 2 },
  { name: 'h71_brackets_inside_escaped_string_not_counted', payload: `{"id":1,"op":"Get","args":{"name":"\\\\\\"${'['.repeat(40)}\\\\"}}`, code: NO_ERROR },
  { name: 'h72_one_mib_base64_value_allowed', payload: req({ name: 'c/p', plaintext: Buffer.alloc(760 * 1024, 7).toString('base64') }, 'Encrypt'), code: NO_ERROR },
  { name: 'h73_one_mib_description_refused', payload: req({ name: 'a/b', description: 'd'.repeat(1024 * 1024) }, 'Create'), code: 'INVALID_REQUEST', id: 'r-1' },
  { name: 'h74_deeply_nested_inside_args', payload: `{"id":"r-1","op":"Create","args":{"name":"a/b","attributes":{"x":${nested(100)}}}}`, code: 'MALFORMED_REQUEST', id: null },
  { name: 'h75_unterminated_string', payload: `{"id":1,"op":"Query","x":"${'['.repeat(100)}`, code: 'MALFORMED_REQUEST', id: null },
  { name: 'h76_stray_closing_bracket', payload: '}{"id":1,"op":"Query"}', code: 'MALFORMED_REQUEST', id: null },
];

function toBuffer(payload: Row['payload']): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  return Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
}

function outcome(row: Row): { code: string; id: RequestId | null; wire: string } {
  try {
    const decoded = decodeRequest(toBuffer(row.payload), DEFAULT_JSON_LIMITS);
    if (row.item !== undefined) {
      if (decoded.op !== 'Batch') throw new Error(`row ${row.name} is not a Batch`);
      const items = decoded.args.items;
      items.forEach((item, i) => {
        if (i !== row.item && 'error' in item) throw item.error;
      });
      const failed = items[row.item];
      if ('error' in failed) throw failed.error;
    }
    return { code: NO_ERROR, id: decoded.id, wire: '' };
  } catch (err) {
    const e = err as { code?: string; toJSON?: () => unknown };
    return { code: e.code ?? `UNTYPED ${String(err)}`, id: requestIdOf(err), wire: JSON.stringify(e.toJSON?.() ?? String(err)) };
  }
}

describe('hostile request payloads', () => {
  it('has unique, numbered row names', () => {
    expect(new Set(ROWS.map((r) => r.name.split('_')[0])).size).toBe(ROWS.length);
    expect(ROWS.length).toBeGreaterThanOrEqual(30);
  });

  it.each(ROWS.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const got = outcome(row);
    expect(got.code).toBe(row.code);
    if (row.id !== undefined) expect(got.id).toEqual(row.id);
    expect(got.wire).not.toContain(MARK);
    expect(got.wire).not.toContain(MARK_B64);
  });

  it('h09 aborts in the pre-scan: JSON.parse never sees 100,000 open brackets', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const got = outcome(ROWS.find((r) => r.name.startsWith('h09_'))!);
      expect(got.code).toBe('MALFORMED_REQUEST');
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it('h09 also fails fast (not RangeError) when the brackets are closed: a recursive walk of that tree would overflow', () => {
    const deep = nested(100_000);
    expect(() => JSON.stringify(JSON.parse(deep))).toThrow(RangeError);
    const got = outcome({ name: 'h09b', payload: `{"id":1,"op":"Query","args":{"x":${deep}}}`, code: 'MALFORMED_REQUEST' });
    expect(got.code).toBe('MALFORMED_REQUEST');
  });
});
