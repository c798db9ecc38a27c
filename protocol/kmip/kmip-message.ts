/**
 * The typed KMIP messages (docs/kmip.md §2): Request Message and Response
 * Message with their headers and batch items (KMIP 2.1 §8, 1.4 §7), and the
 * protocol versions this server speaks. Payloads stay TTLV trees: the
 * operation layer reads and writes them. kmip-message-decoder.ts turns a tree
 * into these types, kmip-message-encoder.ts turns them back. Pure: no I/O,
 * no clock, no logger, no module state.
 */
import { TtlvNode } from './ttlv';

export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

/** The versions this server speaks, oldest first (issue 13: 1.0 to 1.4, 2.0, 2.1). */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly ProtocolVersion[] = [
  { major: 1, minor: 0 },
  { major: 1, minor: 1 },
  { major: 1, minor: 2 },
  { major: 1, minor: 3 },
  { major: 1, minor: 4 },
  { major: 2, minor: 0 },
  { major: 2, minor: 1 },
];

export type BatchErrorContinuationOption = 'Continue' | 'Stop' | 'Undo';
export type ResultStatus = 'Success' | 'OperationFailed' | 'OperationPending' | 'OperationUndone';

/** Request Header (KMIP 2.1 §8.2), fields in the order the specification lists them. */
export interface RequestHeader {
  readonly protocolVersion: ProtocolVersion;
  readonly maximumResponseSize?: number;
  readonly clientCorrelationValue?: string;
  readonly serverCorrelationValue?: string;
  /** A Boolean in 1.x; an Asynchronous Indicator enumeration name in 2.x. */
  readonly asynchronousIndicator?: boolean | 'Mandatory' | 'Optional' | 'Prohibited';
  readonly attestationCapableIndicator?: boolean;
  readonly attestationTypes?: readonly string[];
  /** Parsed as a structure and kept, not used: clients are identified by their TLS certificate. */
  readonly authentication?: TtlvNode;
  readonly batchErrorContinuationOption?: BatchErrorContinuationOption;
  readonly batchOrderOption?: boolean;
  /** Seconds since 1970, as the client wrote it. */
  readonly timeStamp?: bigint;
  readonly batchCount: number;
}

/** Request Batch Item (KMIP 2.1 §8.3). */
export interface RequestBatchItem {
  /** An Operation enumeration name ('Get', 'Create', …), always one KMIP defines. */
  readonly operation: string;
  readonly ephemeral?: boolean;
  readonly uniqueBatchItemId?: Uint8Array;
  /** The Request Payload structure, for the operation layer. */
  readonly requestPayload: TtlvNode;
  readonly messageExtensions?: readonly TtlvNode[];
}

export interface RequestMessage {
  readonly header: RequestHeader;
  readonly batchItems: readonly RequestBatchItem[];
}

/** Response Header (KMIP 2.1 §8.5). */
export interface ResponseHeader {
  readonly protocolVersion: ProtocolVersion;
  /** Seconds since 1970, given by the caller (nothing here reads a clock). */
  readonly timeStamp: bigint;
  readonly nonce?: TtlvNode;
  readonly serverHashedPassword?: Uint8Array;
  readonly attestationTypes?: readonly string[];
  readonly clientCorrelationValue?: string;
  readonly serverCorrelationValue?: string;
  readonly batchCount: number;
}

/** Response Batch Item (KMIP 2.1 §8.6). */
export interface ResponseBatchItem {
  /** Absent only in the answer to a message that could not be parsed. */
  readonly operation?: string;
  readonly uniqueBatchItemId?: Uint8Array;
  readonly resultStatus: ResultStatus;
  /** A Result Reason enumeration name; required when the status is Operation Failed. */
  readonly resultReason?: string;
  readonly resultMessage?: string;
  /** Required when the status is Operation Pending. */
  readonly asynchronousCorrelationValue?: Uint8Array;
  readonly responsePayload?: TtlvNode;
  readonly messageExtensions?: readonly TtlvNode[];
}

export interface ResponseMessage {
  readonly header: ResponseHeader;
  readonly batchItems: readonly ResponseBatchItem[];
}

export function isSupportedVersion(version: ProtocolVersion): boolean {
  return SUPPORTED_PROTOCOL_VERSIONS.some((v) => v.major === version.major && v.minor === version.minor);
}

/**
 * The version to answer a request in: the highest supported version not
 * above the requested one (the negotiation rule of KMIP 2.1 §9.16 and the
 * Discover Versions operation), or the oldest supported version when the
 * request asks for something older than all of them.
 */
export function negotiateVersion(requested: ProtocolVersion): ProtocolVersion {
  let chosen = SUPPORTED_PROTOCOL_VERSIONS[0];
  for (const v of SUPPORTED_PROTOCOL_VERSIONS) {
    if (v.major < requested.major || (v.major === requested.major && v.minor <= requested.minor)) chosen = v;
  }
  return chosen;
}

/** How a response item is at odds with its status (KMIP 2.1 §8.6, §9.18), or undefined: a rule of the model, shared by the decoder and the encoder. */
export function resultProblem(item: ResponseBatchItem): string | undefined {
  if (item.resultStatus === 'OperationFailed' && item.resultReason === undefined) return 'A failed Batch Item needs a Result Reason';
  if (item.resultStatus === 'OperationPending' && item.asynchronousCorrelationValue === undefined) return 'A pending Batch Item needs an Asynchronous Correlation Value';
  if (item.resultStatus === 'Success' && item.resultReason !== undefined) return 'A successful Batch Item carries no Result Reason';
  return undefined;
}
