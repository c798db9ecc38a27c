/**
 * Typed KMIP messages → TTLV trees (docs/kmip.md §2.3): encodeResponse is
 * what the server sends; encodeRequest serves clients and the conformance
 * runner. Fields are written in the order of the specification's tables, so
 * a message decoded from a conforming tree re-encodes to the same tree.
 * invalidMessageResponse builds the answer to a message that could not be
 * decoded. Pure: the time stamp comes from the caller.
 */
import { enumeration } from './dictionary';
import { ProtocolVersion, RequestMessage, ResponseBatchItem, ResponseMessage, resultProblem } from './kmip-message';
import { KmipCodecError } from './kmip-codec-error';
import { FALLBACK_REPLY_VERSION, KmipMessageError } from './kmip-message-error';
import { tagNumberOf } from './kmip-message-fields';
import { presentFields, TtlvNode } from './ttlv';

type Field = TtlvNode | undefined | readonly TtlvNode[];

const node = (name: string, type: TtlvNode['type'], value: unknown): TtlvNode => ({ tag: tagNumberOf(name), type, value }) as TtlvNode;
const structure = (name: string, fields: readonly Field[]): TtlvNode => node(name, 'Structure', presentFields(fields));
const optional = <V>(name: string, type: TtlvNode['type'], value: V | undefined): TtlvNode | undefined => (value === undefined ? undefined : node(name, type, value));

/** An enumeration name → its item; a name KMIP does not define is a programming error, not input. */
function enumerationItem(name: string, enumerationName: string, label: string | undefined): TtlvNode | undefined {
  if (label === undefined) return undefined;
  const value = enumeration(enumerationName)?.byName.get(label);
  if (value === undefined) throw new Error(`${label} is not a KMIP ${enumerationName}`);
  return node(name, 'Enumeration', value);
}

function protocolVersion(version: ProtocolVersion): TtlvNode {
  return structure('ProtocolVersion', [node('ProtocolVersionMajor', 'Integer', version.major), node('ProtocolVersionMinor', 'Integer', version.minor)]);
}

export function encodeRequest(request: RequestMessage): TtlvNode {
  const h = request.header;
  const header = structure('RequestHeader', [
    protocolVersion(h.protocolVersion),
    optional('MaximumResponseSize', 'Integer', h.maximumResponseSize),
    optional('ClientCorrelationValue', 'TextString', h.clientCorrelationValue),
    optional('ServerCorrelationValue', 'TextString', h.serverCorrelationValue),
    typeof h.asynchronousIndicator === 'boolean'
      ? node('AsynchronousIndicator', 'Boolean', h.asynchronousIndicator)
      : enumerationItem('AsynchronousIndicator', 'AsynchronousIndicator', h.asynchronousIndicator),
    optional('AttestationCapableIndicator', 'Boolean', h.attestationCapableIndicator),
    (h.attestationTypes ?? []).map((type) => enumerationItem('AttestationType', 'AttestationType', type)!),
    h.authentication,
    enumerationItem('BatchErrorContinuationOption', 'BatchErrorContinuationOption', h.batchErrorContinuationOption),
    optional('BatchOrderOption', 'Boolean', h.batchOrderOption),
    optional('TimeStamp', 'DateTime', h.timeStamp),
    node('BatchCount', 'Integer', h.batchCount),
  ]);
  const items = request.batchItems.map((item) =>
    structure('BatchItem', [
      enumerationItem('Operation', 'Operation', item.operation),
      optional('Ephemeral', 'Boolean', item.ephemeral),
      optional('UniqueBatchItemID', 'ByteString', item.uniqueBatchItemId),
      item.requestPayload,
      item.messageExtensions ?? [],
    ]),
  );
  return structure('RequestMessage', [header, items]);
}

export function encodeResponseItem(item: ResponseBatchItem): TtlvNode {
  const problem = resultProblem(item);
  if (problem !== undefined) throw new Error(problem);
  return structure('BatchItem', [
    enumerationItem('Operation', 'Operation', item.operation),
    optional('UniqueBatchItemID', 'ByteString', item.uniqueBatchItemId),
    enumerationItem('ResultStatus', 'ResultStatus', item.resultStatus),
    enumerationItem('ResultReason', 'ResultReason', item.resultReason),
    optional('ResultMessage', 'TextString', item.resultMessage),
    optional('AsynchronousCorrelationValue', 'ByteString', item.asynchronousCorrelationValue),
    item.responsePayload,
    item.messageExtensions ?? [],
  ]);
}

export function encodeResponseHeader(response: ResponseMessage): TtlvNode {
  const h = response.header;
  return structure('ResponseHeader', [
    protocolVersion(h.protocolVersion),
    node('TimeStamp', 'DateTime', h.timeStamp),
    h.nonce,
    optional('ServerHashedPassword', 'ByteString', h.serverHashedPassword),
    (h.attestationTypes ?? []).map((type) => enumerationItem('AttestationType', 'AttestationType', type)!),
    optional('ClientCorrelationValue', 'TextString', h.clientCorrelationValue),
    optional('ServerCorrelationValue', 'TextString', h.serverCorrelationValue),
    node('BatchCount', 'Integer', h.batchCount),
  ]);
}

export function encodeResponse(response: ResponseMessage): TtlvNode {
  return structure('ResponseMessage', [encodeResponseHeader(response), response.batchItems.map(encodeResponseItem)]);
}

/**
 * The answer to a message that could not be decoded (KMIP 1.4 §11.1: "a
 * header and a Batch Item without Operation, with Result Status Operation
 * Failed"), in the version the error names. The Result Message is the
 * error's, which names the rule and never a value.
 */
export function invalidMessageResponse(error: KmipMessageError | KmipCodecError, timeStamp: bigint): ResponseMessage {
  const messageError = error instanceof KmipMessageError ? error : undefined;
  return {
    header: { protocolVersion: messageError?.replyVersion ?? FALLBACK_REPLY_VERSION, timeStamp, batchCount: 1 },
    batchItems: [{ resultStatus: 'OperationFailed', resultReason: messageError?.resultReason ?? 'InvalidMessage', resultMessage: error.message }],
  };
}
