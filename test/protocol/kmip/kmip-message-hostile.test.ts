/**
 * Hostile request messages, one numbered row per rule of the message layer
 * (docs/kmip.md §2.2): a well-formed TTLV tree that is not a valid Request
 * Message, the reason expected, and the Result Reason and version the answer
 * carries. Rows start from a valid two-item request and change one thing.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { tagNumber } from '../../../protocol/kmip/dictionary';
import { ProtocolVersion, RequestMessage } from '../../../protocol/kmip/kmip-message';
import { decodeRequest, decodeResponse } from '../../../protocol/kmip/kmip-message-decoder';
import { encodeRequest, encodeResponse, invalidMessageResponse } from '../../../protocol/kmip/kmip-message-encoder';
import { KMIP_MESSAGE_REASONS, KmipMessageError, KmipMessageReason } from '../../../protocol/kmip/kmip-message-error';
import { KmipCodecError } from '../../../protocol/kmip/kmip-codec-error';
import { TtlvNode } from '../../../protocol/kmip/ttlv';

const tag = (name: string): number => tagNumber(name)!;
const payload = (id: string): TtlvNode => ({ tag: tag('RequestPayload'), type: 'Structure', value: [{ tag: tag('UniqueIdentifier'), type: 'TextString', value: id }] });

const VALID: RequestMessage = {
  header: { protocolVersion: { major: 1, minor: 4 }, batchErrorContinuationOption: 'Continue', batchCount: 2 },
  batchItems: [
    { operation: 'Get', uniqueBatchItemId: new Uint8Array([1]), requestPayload: payload('a') },
    { operation: 'Destroy', uniqueBatchItemId: new Uint8Array([2]), requestPayload: payload('b') },
  ],
};
const valid = (): TtlvNode => encodeRequest(VALID);

type Structure = Extract<TtlvNode, { type: 'Structure' }>;
const children = (node: TtlvNode): readonly TtlvNode[] => (node as Structure).value;
const withChildren = (node: TtlvNode, value: readonly TtlvNode[]): TtlvNode => ({ ...(node as Structure), value });
/** The request with the header's children passed through `change`. */
const header = (change: (fields: readonly TtlvNode[]) => readonly TtlvNode[]): TtlvNode => {
  const [h, ...items] = children(valid());
  return withChildren(valid(), [withChildren(h, change(children(h))), ...items]);
};
/** The request with the first batch item's children passed through `change`. */
const firstItem = (change: (fields: readonly TtlvNode[]) => readonly TtlvNode[]): TtlvNode => {
  const [h, first, ...rest] = children(valid());
  return withChildren(valid(), [h, withChildren(first, change(children(first))), ...rest]);
};
const without = (name: string) => (fields: readonly TtlvNode[]) => fields.filter((f) => f.tag !== tag(name));
const replacing = (name: string, node: TtlvNode) => (fields: readonly TtlvNode[]) => fields.map((f) => (f.tag === tag(name) ? node : f));
const doubling = (name: string) => (fields: readonly TtlvNode[]) => fields.flatMap((f) => (f.tag === tag(name) ? [f, f] : [f]));
const version = (major: number, minor: number): TtlvNode => ({
  tag: tag('ProtocolVersion'),
  type: 'Structure',
  value: [{ tag: tag('ProtocolVersionMajor'), type: 'Integer', value: major }, { tag: tag('ProtocolVersionMinor'), type: 'Integer', value: minor }],
});
const batchCount = (n: number): TtlvNode => ({ tag: tag('BatchCount'), type: 'Integer', value: n });
const V14 = { major: 1, minor: 4 };
const credentialType = (value: number): TtlvNode => ({ tag: tag('CredentialType'), type: 'Enumeration', value });
const credentialValue: TtlvNode = { tag: tag('CredentialValue'), type: 'Structure', value: [{ tag: tag('Username'), type: 'TextString', value: 'u' }] };
const authentication = (credential: TtlvNode[]): TtlvNode => ({ tag: tag('Authentication'), type: 'Structure', value: [{ tag: tag('Credential'), type: 'Structure', value: credential }] });
const responseOf = (item: TtlvNode[]): TtlvNode => ({
  tag: tag('ResponseMessage'),
  type: 'Structure',
  value: [
    { tag: tag('ResponseHeader'), type: 'Structure', value: [version(2, 1), { tag: tag('TimeStamp'), type: 'DateTime', value: 0n }, batchCount(1)] },
    { tag: tag('BatchItem'), type: 'Structure', value: item },
  ],
});
const status = (value: number): TtlvNode => ({ tag: tag('ResultStatus'), type: 'Enumeration', value });

interface Row {
  readonly name: string;
  readonly tree: TtlvNode;
  readonly reason: KmipMessageReason;
  readonly resultReason?: 'InvalidMessage' | 'UnsupportedProtocolVersion';
  readonly replyVersion?: ProtocolVersion;
}

const ROWS: Row[] = [
  { name: 'm01_response_sent_as_request', tree: { tag: tag('ResponseMessage'), type: 'Structure', value: [] }, reason: 'NOT_A_REQUEST', replyVersion: { major: 1, minor: 0 } },
  { name: 'm02_request_message_not_a_structure', tree: { tag: tag('RequestMessage'), type: 'Integer', value: 1 }, reason: 'NOT_A_REQUEST' },
  { name: 'm03_missing_header', tree: withChildren(valid(), children(valid()).slice(1)), reason: 'MISSING_FIELD', replyVersion: { major: 1, minor: 0 } },
  { name: 'm04_header_twice', tree: withChildren(valid(), [children(valid())[0], ...children(valid())]), reason: 'DUPLICATE_FIELD', replyVersion: V14 },
  { name: 'm05_missing_protocol_version', tree: header(without('ProtocolVersion')), reason: 'MISSING_FIELD', replyVersion: { major: 1, minor: 0 } },
  { name: 'm06_missing_minor_version', tree: header(replacing('ProtocolVersion', withChildren(version(1, 4), children(version(1, 4)).slice(0, 1)))), reason: 'MISSING_FIELD' },
  { name: 'm07_version_3_0_answers_in_2_1', tree: header(replacing('ProtocolVersion', version(3, 0))), reason: 'UNSUPPORTED_VERSION', resultReason: 'UnsupportedProtocolVersion', replyVersion: { major: 2, minor: 1 } },
  { name: 'm08_version_1_5_answers_in_1_4', tree: header(replacing('ProtocolVersion', version(1, 5))), reason: 'UNSUPPORTED_VERSION', resultReason: 'InvalidMessage', replyVersion: V14 },
  { name: 'm09_version_2_2_answers_in_2_1', tree: header(replacing('ProtocolVersion', version(2, 2))), reason: 'UNSUPPORTED_VERSION', resultReason: 'UnsupportedProtocolVersion', replyVersion: { major: 2, minor: 1 } },
  { name: 'm10_version_0_9_answers_in_1_0', tree: header(replacing('ProtocolVersion', version(0, 9))), reason: 'UNSUPPORTED_VERSION', resultReason: 'InvalidMessage', replyVersion: { major: 1, minor: 0 } },
  { name: 'm11_missing_batch_count', tree: header(without('BatchCount')), reason: 'MISSING_FIELD', replyVersion: V14 },
  { name: 'm12_batch_count_3_for_2_items', tree: header(replacing('BatchCount', batchCount(3))), reason: 'BATCH_COUNT_MISMATCH', replyVersion: V14 },
  { name: 'm13_batch_count_1_for_2_items', tree: header(replacing('BatchCount', batchCount(1))), reason: 'BATCH_COUNT_MISMATCH' },
  { name: 'm14_batch_count_negative', tree: header(replacing('BatchCount', batchCount(-1))), reason: 'BAD_VALUE' },
  { name: 'm15_no_batch_items', tree: withChildren(header(replacing('BatchCount', batchCount(0))), [children(valid())[0]]), reason: 'NO_BATCH_ITEMS' },
  { name: 'm16_batch_count_twice', tree: header(doubling('BatchCount')), reason: 'DUPLICATE_FIELD' },
  { name: 'm17_batch_count_as_long_integer', tree: header(replacing('BatchCount', { tag: tag('BatchCount'), type: 'LongInteger', value: 2n })), reason: 'WRONG_TYPE' },
  { name: 'm18_unknown_field_in_header', tree: header((f) => [...f, { tag: tag('UniqueIdentifier'), type: 'TextString', value: 'x' }]), reason: 'UNEXPECTED_FIELD' },
  { name: 'm19_extension_tag_in_header', tree: header((f) => [...f, { tag: 0x540001, type: 'Integer', value: 1 }]), reason: 'UNEXPECTED_FIELD' },
  { name: 'm20_continuation_option_undefined_value', tree: header(replacing('BatchErrorContinuationOption', { tag: tag('BatchErrorContinuationOption'), type: 'Enumeration', value: 9 })), reason: 'BAD_VALUE' },
  { name: 'm21_maximum_response_size_negative', tree: header((f) => [f[0], { tag: tag('MaximumResponseSize'), type: 'Integer', value: -8 }, ...f.slice(1)]), reason: 'BAD_VALUE' },
  { name: 'm22_authentication_not_a_structure', tree: header((f) => [f[0], { tag: tag('Authentication'), type: 'TextString', value: 'x' }, ...f.slice(1)]), reason: 'WRONG_TYPE' },
  { name: 'm23_unknown_operation_0', tree: firstItem(replacing('Operation', { tag: tag('Operation'), type: 'Enumeration', value: 0 })), reason: 'UNKNOWN_OPERATION' },
  { name: 'm24_unknown_operation_extension', tree: firstItem(replacing('Operation', { tag: tag('Operation'), type: 'Enumeration', value: 0x80000001 })), reason: 'UNKNOWN_OPERATION' },
  { name: 'm25_missing_operation', tree: firstItem(without('Operation')), reason: 'MISSING_FIELD' },
  { name: 'm26_operation_twice', tree: firstItem(doubling('Operation')), reason: 'DUPLICATE_FIELD' },
  { name: 'm27_operation_as_text', tree: firstItem(replacing('Operation', { tag: tag('Operation'), type: 'TextString', value: 'Get' })), reason: 'WRONG_TYPE' },
  { name: 'm28_missing_payload', tree: firstItem(without('RequestPayload')), reason: 'MISSING_FIELD' },
  { name: 'm29_payload_twice', tree: firstItem(doubling('RequestPayload')), reason: 'DUPLICATE_FIELD' },
  { name: 'm30_payload_of_wrong_type', tree: firstItem(replacing('RequestPayload', { tag: tag('RequestPayload'), type: 'ByteString', value: new Uint8Array(8) })), reason: 'WRONG_TYPE' },
  { name: 'm31_batch_item_id_as_text', tree: firstItem(replacing('UniqueBatchItemID', { tag: tag('UniqueBatchItemID'), type: 'TextString', value: '1' })), reason: 'WRONG_TYPE' },
  { name: 'm32_batch_of_two_without_item_id', tree: firstItem(without('UniqueBatchItemID')), reason: 'MISSING_BATCH_ITEM_ID' },
  { name: 'm33_batch_of_two_with_same_item_id', tree: firstItem(replacing('UniqueBatchItemID', { tag: tag('UniqueBatchItemID'), type: 'ByteString', value: new Uint8Array([2]) })), reason: 'DUPLICATE_BATCH_ITEM_ID' },
  { name: 'm34_batch_item_not_a_structure', tree: withChildren(valid(), [...children(valid()), { tag: tag('BatchItem'), type: 'Integer', value: 0 }]), reason: 'WRONG_TYPE' },
  { name: 'm35_unknown_field_in_message', tree: withChildren(valid(), [...children(valid()), { tag: tag('TimeStamp'), type: 'DateTime', value: 0n }]), reason: 'UNEXPECTED_FIELD' },
  { name: 'm36_unknown_field_in_batch_item', tree: firstItem((f) => [...f, { tag: tag('ResultStatus'), type: 'Enumeration', value: 0 }]), reason: 'UNEXPECTED_FIELD' },
  { name: 'm37_authentication_without_credential', tree: header((f) => [f[0], { tag: tag('Authentication'), type: 'Structure', value: [] }, ...f.slice(1)]), reason: 'MISSING_FIELD' },
  { name: 'm38_credential_without_value', tree: header((f) => [f[0], authentication([credentialType(1)]), ...f.slice(1)]), reason: 'MISSING_FIELD' },
  { name: 'm39_credential_type_undefined', tree: header((f) => [f[0], authentication([credentialType(99), credentialValue]), ...f.slice(1)]), reason: 'BAD_VALUE' },
];

describe('hostile KMIP request messages', () => {
  it('starts from a request that decodes', () => {
    expect(decodeRequest(valid())).toEqual(VALID);
  });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    let caught: unknown;
    try {
      decodeRequest(row.tree);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KmipMessageError);
    const error = caught as KmipMessageError;
    expect(error.code).toBe('KMIP_INVALID_MESSAGE');
    expect(error.reason).toBe(row.reason);
    expect(error.details.reason).toBe(row.reason);
    expect(error.resultReason).toBe(row.resultReason ?? 'InvalidMessage');
    if (row.replyVersion) expect(error.replyVersion).toEqual(row.replyVersion);
  });

  it('keeps an Authentication of the right shape, unused', () => {
    const tree = header((f) => [f[0], authentication([credentialType(1), credentialValue]), ...f.slice(1)]);
    expect(decodeRequest(tree).header.authentication).toEqual(authentication([credentialType(1), credentialValue]));
    expect(encodeRequest(decodeRequest(tree))).toEqual(tree);
  });

  it.each([
    ['r01_request_sent_as_response', valid(), 'NOT_A_RESPONSE'],
    ['r02_failed_without_reason', responseOf([status(1)]), 'BAD_RESULT'],
    ['r03_pending_without_correlation_value', responseOf([status(2)]), 'BAD_RESULT'],
    ['r04_success_with_reason', responseOf([status(0), { tag: tag('ResultReason'), type: 'Enumeration', value: 1 }]), 'BAD_RESULT'],
    ['r05_missing_result_status', responseOf([]), 'MISSING_FIELD'],
    ['r06_result_status_undefined', responseOf([status(7)]), 'BAD_VALUE'],
  ] as const)('%s', (_name, tree, reason) => {
    expect(() => decodeResponse(tree)).toThrow(expect.objectContaining({ reason }));
  });

  it('documents every reason in docs/kmip.md §2.2', () => {
    const docs = readFileSync(resolve(__dirname, '../../../docs/kmip.md'), 'utf8');
    for (const reason of KMIP_MESSAGE_REASONS) expect([reason, docs.includes(`\`${reason}\``)]).toEqual([reason, true]);
  });

  it('names the unsupported version it was asked for', () => {
    const error = (() => {
      try {
        decodeRequest(header(replacing('ProtocolVersion', version(3, 0))));
      } catch (e) {
        return e as KmipMessageError;
      }
      throw new Error('decoded');
    })();
    expect(error.requestedVersion).toEqual({ major: 3, minor: 0 });
    expect(error.details).toEqual({ reason: 'UNSUPPORTED_VERSION', field: 'RequestHeader/ProtocolVersion', replyVersion: '2.1' });
  });

  it('accepts every supported version: 1.0 to 1.4, 2.0, 2.1', () => {
    for (const [major, minor] of [[1, 0], [1, 1], [1, 2], [1, 3], [1, 4], [2, 0], [2, 1]]) {
      expect(decodeRequest(header(replacing('ProtocolVersion', version(major, minor)))).header.protocolVersion).toEqual({ major, minor });
    }
  });

  it('accepts the Asynchronous Indicator as the Boolean of 1.x and the enumeration of 2.x', () => {
    const boolean = header((f) => [f[0], { tag: tag('AsynchronousIndicator'), type: 'Boolean', value: true }, ...f.slice(1)]);
    expect(decodeRequest(boolean).header.asynchronousIndicator).toBe(true);
    const enumerated = header((f) => [f[0], { tag: tag('AsynchronousIndicator'), type: 'Enumeration', value: 2 }, ...f.slice(1)]);
    expect(decodeRequest(enumerated).header.asynchronousIndicator).toBe('Optional');
    expect(encodeRequest(decodeRequest(enumerated))).toEqual(enumerated);
  });

  it('answers an undecodable message with one Batch Item without Operation, in the version the error names', () => {
    const error = new KmipMessageError('UNSUPPORTED_VERSION', 'KMIP 3.0 is not supported', { replyVersion: { major: 2, minor: 1 } });
    const answer = decodeResponse(encodeResponse(invalidMessageResponse(error, 1_796_083_200n)));
    expect(answer.header).toEqual({ protocolVersion: { major: 2, minor: 1 }, timeStamp: 1_796_083_200n, batchCount: 1 });
    expect(answer.batchItems).toEqual([{ resultStatus: 'OperationFailed', resultReason: 'UnsupportedProtocolVersion', resultMessage: 'KMIP 3.0 is not supported' }]);
    const codec = invalidMessageResponse(new KmipCodecError('BAD_PADDING', 'Padding at offset 12 is not zero', 12), 5n);
    expect(codec.header.protocolVersion).toEqual({ major: 1, minor: 0 });
    expect(codec.batchItems[0]).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidMessage' });
  });

  it('refuses a response item whose status lacks what it requires', () => {
    const response = { header: { protocolVersion: V14, timeStamp: 0n, batchCount: 1 } };
    expect(() => encodeResponse({ ...response, batchItems: [{ operation: 'Get', resultStatus: 'OperationFailed' }] })).toThrow('Result Reason');
    expect(() => encodeResponse({ ...response, batchItems: [{ operation: 'Get', resultStatus: 'OperationPending' }] })).toThrow('Asynchronous Correlation Value');
  });
});
