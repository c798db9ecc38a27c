/**
 * TTLV tree → typed KMIP messages (docs/kmip.md §2.2). decodeRequest is what
 * the server runs on every message: strict, it refuses with a
 * KmipMessageError (reason, Result Reason, version to answer in) anything the
 * specification's tables do not allow. Payloads are kept as trees for the
 * operation layer. decodeResponse reads answers the same way, for clients
 * and the conformance runner. Pure.
 */
import { tagNumber } from './dictionary';
import {
  BatchErrorContinuationOption,
  isSupportedVersion,
  negotiateVersion,
  ProtocolVersion,
  RequestBatchItem,
  RequestHeader,
  RequestMessage,
  ResponseBatchItem,
  ResponseHeader,
  ResponseMessage,
  resultProblem,
  ResultStatus,
} from './kmip-message';
import { KmipMessageError } from './kmip-message-error';
import { FieldSpec, readProtocolVersion, StructureFields, tagNumberOf } from './kmip-message-fields';
import { TtlvNode, TtlvNodeOf } from './ttlv';

const STRUCTURE = ['Structure'] as const;

// The tables are module constants: StructureFields indexes each once (kmip-message-fields.ts).
const REQUEST_MESSAGE_FIELDS: readonly FieldSpec[] = [
  { name: 'RequestHeader', types: STRUCTURE },
  { name: 'BatchItem', types: STRUCTURE, repeated: true },
];

const RESPONSE_MESSAGE_FIELDS: readonly FieldSpec[] = [
  { name: 'ResponseHeader', types: STRUCTURE },
  { name: 'BatchItem', types: STRUCTURE, repeated: true },
];

const REQUEST_HEADER_FIELDS: readonly FieldSpec[] = [
  { name: 'ProtocolVersion', types: STRUCTURE },
  { name: 'MaximumResponseSize', types: ['Integer'] },
  { name: 'ClientCorrelationValue', types: ['TextString'] },
  { name: 'ServerCorrelationValue', types: ['TextString'] },
  { name: 'AsynchronousIndicator', types: ['Boolean', 'Enumeration'] },
  { name: 'AttestationCapableIndicator', types: ['Boolean'] },
  { name: 'AttestationType', types: ['Enumeration'], repeated: true },
  { name: 'Authentication', types: STRUCTURE },
  { name: 'BatchErrorContinuationOption', types: ['Enumeration'] },
  { name: 'BatchOrderOption', types: ['Boolean'] },
  { name: 'TimeStamp', types: ['DateTime'] },
  { name: 'BatchCount', types: ['Integer'] },
];

const REQUEST_ITEM_FIELDS: readonly FieldSpec[] = [
  { name: 'Operation', types: ['Enumeration'] },
  { name: 'Ephemeral', types: ['Boolean'] },
  { name: 'UniqueBatchItemID', types: ['ByteString'] },
  { name: 'RequestPayload', types: STRUCTURE },
  { name: 'MessageExtension', types: STRUCTURE, repeated: true },
];

const RESPONSE_HEADER_FIELDS: readonly FieldSpec[] = [
  { name: 'ProtocolVersion', types: STRUCTURE },
  { name: 'TimeStamp', types: ['DateTime'] },
  { name: 'Nonce', types: STRUCTURE },
  { name: 'ServerHashedPassword', types: ['ByteString'] },
  { name: 'AttestationType', types: ['Enumeration'], repeated: true },
  { name: 'ClientCorrelationValue', types: ['TextString'] },
  { name: 'ServerCorrelationValue', types: ['TextString'] },
  { name: 'BatchCount', types: ['Integer'] },
];

const RESPONSE_ITEM_FIELDS: readonly FieldSpec[] = [
  { name: 'Operation', types: ['Enumeration'] },
  { name: 'UniqueBatchItemID', types: ['ByteString'] },
  { name: 'ResultStatus', types: ['Enumeration'] },
  { name: 'ResultReason', types: ['Enumeration'] },
  { name: 'ResultMessage', types: ['TextString'] },
  { name: 'AsynchronousCorrelationValue', types: ['ByteString'] },
  { name: 'ResponsePayload', types: STRUCTURE },
  { name: 'MessageExtension', types: STRUCTURE, repeated: true },
];

/**
 * A Request Message tree → the typed request. The Protocol Version is read
 * first, leniently, so that every later refusal answers in the right
 * version; an unsupported one is refused (UNSUPPORTED_VERSION) before
 * anything else is looked at, since the rest may follow another version's rules.
 */
export function decodeRequest(tree: TtlvNode): RequestMessage {
  const requested = peekVersion(tree, 'RequestMessage', 'RequestHeader');
  const replyVersion = requested === undefined ? undefined : isSupportedVersion(requested) ? requested : negotiateVersion(requested);
  if (requested !== undefined && !isSupportedVersion(requested)) {
    throw new KmipMessageError(
      'UNSUPPORTED_VERSION',
      `KMIP ${requested.major}.${requested.minor} is not supported: use 1.0 to 1.4, 2.0 or 2.1 (answering in ${replyVersion!.major}.${replyVersion!.minor})`,
      { field: 'RequestHeader/ProtocolVersion', replyVersion, requestedVersion: requested },
    );
  }
  if (tree.tag !== tagNumber('RequestMessage') || tree.type !== 'Structure') {
    throw new KmipMessageError('NOT_A_REQUEST', 'The message is not a Request Message structure', { replyVersion });
  }
  const message = new StructureFields('RequestMessage', tree.value, REQUEST_MESSAGE_FIELDS, replyVersion);
  const header = decodeRequestHeader(new StructureFields('RequestHeader', structureValue(message.required('RequestHeader')), REQUEST_HEADER_FIELDS, replyVersion));
  const batchItems = message.all('BatchItem').map((item) => decodeRequestItem(new StructureFields('BatchItem', structureValue(item), REQUEST_ITEM_FIELDS, replyVersion)));
  checkBatch(message, header.batchCount, batchItems.length);
  if (batchItems.length > 1) {
    const seen = new Set<string>();
    for (const item of batchItems) {
      const id = item.uniqueBatchItemId;
      if (id === undefined) return message.fail('MISSING_BATCH_ITEM_ID', 'Every Batch Item of a batch of several needs a Unique Batch Item ID', 'BatchItem/UniqueBatchItemID');
      const key = Buffer.from(id).toString('hex');
      if (seen.has(key)) message.fail('DUPLICATE_BATCH_ITEM_ID', 'Two Batch Items share a Unique Batch Item ID: give each its own', 'BatchItem/UniqueBatchItemID');
      seen.add(key);
    }
  }
  return { header, batchItems };
}

function decodeRequestHeader(fields: StructureFields): RequestHeader {
  const asynchronous = fields.optional('AsynchronousIndicator');
  const attestationTypes = fields.all('AttestationType').map((node) => fields.enumerationName('AttestationType', 'AttestationType', node)!);
  return withoutUndefined({
    protocolVersion: readProtocolVersion(fields),
    maximumResponseSize: fields.nonNegative('MaximumResponseSize', fields.value('MaximumResponseSize', 'Integer')),
    clientCorrelationValue: fields.value('ClientCorrelationValue', 'TextString'),
    serverCorrelationValue: fields.value('ServerCorrelationValue', 'TextString'),
    asynchronousIndicator:
      asynchronous === undefined ? undefined : asynchronous.type === 'Boolean' ? asynchronous.value : (fields.enumerationName('AsynchronousIndicator', 'AsynchronousIndicator') as RequestHeader['asynchronousIndicator']),
    attestationCapableIndicator: fields.value('AttestationCapableIndicator', 'Boolean'),
    attestationTypes: attestationTypes.length > 0 ? attestationTypes : undefined,
    authentication: checkedAuthentication(fields),
    batchErrorContinuationOption: fields.enumerationName('BatchErrorContinuationOption', 'BatchErrorContinuationOption') as BatchErrorContinuationOption | undefined,
    batchOrderOption: fields.value('BatchOrderOption', 'Boolean'),
    timeStamp: fields.value('TimeStamp', 'DateTime'),
    batchCount: fields.nonNegative('BatchCount', fields.requiredValue('BatchCount', 'Integer'))!,
  });
}

const ANY_TYPE = ['Structure', 'Integer', 'LongInteger', 'BigInteger', 'Enumeration', 'Boolean', 'TextString', 'ByteString', 'DateTime', 'Interval', 'DateTimeExtended'] as const;

const AUTHENTICATION_FIELDS: readonly FieldSpec[] = [{ name: 'Credential', types: STRUCTURE, repeated: true }];
const CREDENTIAL_FIELDS: readonly FieldSpec[] = [
  { name: 'CredentialType', types: ['Enumeration'] },
  { name: 'CredentialValue', types: ANY_TYPE },
];

/**
 * The Authentication structure, checked for shape only (one or more
 * Credentials, each a known Credential Type and a Credential Value) and kept:
 * clients are identified by their TLS certificate, so its contents are never used.
 */
function checkedAuthentication(header: StructureFields): TtlvNode | undefined {
  const node = header.optional('Authentication');
  if (node === undefined) return undefined;
  const authentication = new StructureFields('Authentication', structureValue(node), AUTHENTICATION_FIELDS, header.replyVersion);
  authentication.required('Credential');
  for (const credential of authentication.all('Credential')) {
    const fields = new StructureFields('Credential', structureValue(credential), CREDENTIAL_FIELDS, header.replyVersion);
    fields.enumerationName('CredentialType', 'CredentialType', fields.required('CredentialType'));
    fields.required('CredentialValue');
  }
  return node;
}

function decodeRequestItem(fields: StructureFields): RequestBatchItem {
  const extensions = fields.all('MessageExtension');
  return withoutUndefined({
    operation: fields.enumerationName('Operation', 'Operation', fields.required('Operation'))!,
    ephemeral: fields.value('Ephemeral', 'Boolean'),
    uniqueBatchItemId: fields.value('UniqueBatchItemID', 'ByteString'),
    requestPayload: fields.required('RequestPayload'),
    messageExtensions: extensions.length > 0 ? extensions : undefined,
  });
}

/** A Response Message tree → the typed response, as strictly as a request. */
export function decodeResponse(tree: TtlvNode): ResponseMessage {
  if (tree.tag !== tagNumber('ResponseMessage') || tree.type !== 'Structure') {
    throw new KmipMessageError('NOT_A_RESPONSE', 'The message is not a Response Message structure');
  }
  const message = new StructureFields('ResponseMessage', tree.value, RESPONSE_MESSAGE_FIELDS, undefined);
  const fields = new StructureFields('ResponseHeader', structureValue(message.required('ResponseHeader')), RESPONSE_HEADER_FIELDS, undefined);
  const attestationTypes = fields.all('AttestationType').map((node) => fields.enumerationName('AttestationType', 'AttestationType', node)!);
  const header: ResponseHeader = withoutUndefined({
    protocolVersion: readProtocolVersion(fields),
    timeStamp: fields.requiredValue('TimeStamp', 'DateTime'),
    nonce: fields.optional('Nonce'),
    serverHashedPassword: fields.value('ServerHashedPassword', 'ByteString'),
    attestationTypes: attestationTypes.length > 0 ? attestationTypes : undefined,
    clientCorrelationValue: fields.value('ClientCorrelationValue', 'TextString'),
    serverCorrelationValue: fields.value('ServerCorrelationValue', 'TextString'),
    batchCount: fields.nonNegative('BatchCount', fields.requiredValue('BatchCount', 'Integer'))!,
  });
  const batchItems = message.all('BatchItem').map((item) => decodeResponseItem(new StructureFields('BatchItem', structureValue(item), RESPONSE_ITEM_FIELDS, undefined)));
  checkBatch(message, header.batchCount, batchItems.length);
  return { header, batchItems };
}

function decodeResponseItem(fields: StructureFields): ResponseBatchItem {
  const extensions = fields.all('MessageExtension');
  const item: ResponseBatchItem = withoutUndefined({
    operation: fields.enumerationName('Operation', 'Operation'),
    uniqueBatchItemId: fields.value('UniqueBatchItemID', 'ByteString'),
    resultStatus: fields.enumerationName('ResultStatus', 'ResultStatus', fields.required('ResultStatus')) as ResultStatus,
    resultReason: fields.enumerationName('ResultReason', 'ResultReason'),
    resultMessage: fields.value('ResultMessage', 'TextString'),
    asynchronousCorrelationValue: fields.value('AsynchronousCorrelationValue', 'ByteString'),
    responsePayload: fields.optional('ResponsePayload'),
    messageExtensions: extensions.length > 0 ? extensions : undefined,
  });
  const problem = resultProblem(item);
  if (problem !== undefined) fields.fail('BAD_RESULT', problem, 'BatchItem/ResultStatus');
  return item;
}

function checkBatch(message: StructureFields, batchCount: number, items: number): void {
  if (items === 0) message.fail('NO_BATCH_ITEMS', `A ${message.structureName} needs at least one Batch Item`, 'BatchItem');
  if (batchCount !== items) message.fail('BATCH_COUNT_MISMATCH', `Batch Count is ${batchCount} but the message holds ${items} Batch Items: make them agree`, 'BatchCount');
}

function structureValue(node: TtlvNode): readonly TtlvNode[] {
  return (node as TtlvNodeOf<'Structure'>).value;
}

/** The request's Protocol Version if it can be read at all, so that refusals answer in it. */
function peekVersion(tree: TtlvNode, messageName: string, headerName: string): ProtocolVersion | undefined {
  if (tree.type !== 'Structure' || tree.tag !== tagNumberOf(messageName)) return undefined;
  const header = tree.value.find((child) => child.tag === tagNumberOf(headerName));
  if (header?.type !== 'Structure') return undefined;
  const version = header.value.find((child) => child.tag === tagNumberOf('ProtocolVersion'));
  if (version?.type !== 'Structure') return undefined;
  const major = version.value.find((child) => child.tag === tagNumberOf('ProtocolVersionMajor'));
  const minor = version.value.find((child) => child.tag === tagNumberOf('ProtocolVersionMinor'));
  return major?.type === 'Integer' && minor?.type === 'Integer' ? { major: major.value, minor: minor.value } : undefined;
}

/** Drops absent optional fields, so that decoded models compare equal to hand-written ones. */
function withoutUndefined<T extends object>(value: T): T {
  // A loop rather than entries/filter/fromEntries: it runs for every header and item of every message.
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) out[key] = field;
  }
  return out as T;
}
