/**
 * The one error of the KMIP message layer (docs/kmip.md §2): a TTLV tree that
 * is well-formed but is not a valid Request (or Response) Message. Like
 * KmipCodecError it carries the code KMIP_INVALID_MESSAGE and a stable
 * `reason`; it adds what the transport needs to answer without parsing
 * anything again: the KMIP Result Reason, the field at fault, and the
 * protocol version to answer in. Messages name fields and rules, never
 * values: a message may hold key material.
 */
import { StrongroomError } from '../../common/errors';
import { ProtocolVersion, SUPPORTED_PROTOCOL_VERSIONS } from './kmip-message';

/** Every rule the message decoder enforces, one stable name each. */
export const KMIP_MESSAGE_REASONS = [
  'NOT_A_REQUEST', // the top-level item is not a Request Message structure
  'NOT_A_RESPONSE', // the top-level item is not a Response Message structure
  'MISSING_FIELD', // a required field is absent (header, Protocol Version, Batch Count, Operation, payload, …)
  'DUPLICATE_FIELD', // a field that may appear once appears twice
  'UNEXPECTED_FIELD', // a field that has no place in that structure
  'WRONG_TYPE', // a field of another item type than the specification's (e.g. a payload that is not a structure)
  'BAD_VALUE', // a value out of its range (negative Batch Count or Maximum Response Size, an unknown enumeration value)
  'UNKNOWN_OPERATION', // an Operation value KMIP does not define
  'NO_BATCH_ITEMS', // a message without any Batch Item
  'BATCH_COUNT_MISMATCH', // Batch Count differs from the number of Batch Items
  'MISSING_BATCH_ITEM_ID', // Batch Count above 1 and a request item without Unique Batch Item ID
  'DUPLICATE_BATCH_ITEM_ID', // two request items with the same Unique Batch Item ID: answers could not be told apart
  'UNSUPPORTED_VERSION', // a Protocol Version outside 1.0-1.4, 2.0, 2.1
  'BAD_RESULT', // a response item at odds with its status (failed without reason, pending without correlation value, success with a reason)
] as const;

export type KmipMessageReason = (typeof KMIP_MESSAGE_REASONS)[number];

/** The version an answer uses when the request's own could not be read. */
export const FALLBACK_REPLY_VERSION: ProtocolVersion = SUPPORTED_PROTOCOL_VERSIONS[0];

export class KmipMessageError extends StrongroomError {
  readonly reason: KmipMessageReason;
  /** The KMIP Result Reason the answer carries. */
  readonly resultReason: 'InvalidMessage' | 'UnsupportedProtocolVersion';
  /** The version to answer in: the request's, the negotiated one, or FALLBACK_REPLY_VERSION. */
  readonly replyVersion: ProtocolVersion;
  /** For UNSUPPORTED_VERSION, the version the request asked for. */
  readonly requestedVersion?: ProtocolVersion;

  constructor(reason: KmipMessageReason, message: string, options: { field?: string; replyVersion?: ProtocolVersion; requestedVersion?: ProtocolVersion } = {}) {
    const replyVersion = options.replyVersion ?? FALLBACK_REPLY_VERSION;
    super('KMIP_INVALID_MESSAGE', message, {
      details: { reason, ...(options.field === undefined ? {} : { field: options.field }), replyVersion: `${replyVersion.major}.${replyVersion.minor}` },
    });
    this.reason = reason;
    this.replyVersion = replyVersion;
    this.requestedVersion = options.requestedVersion;
    // 1.x has no "Unsupported Protocol Version" reason: its error table answers a version mismatch with Invalid Message.
    this.resultReason = reason === 'UNSUPPORTED_VERSION' && replyVersion.major >= 2 ? 'UnsupportedProtocolVersion' : 'InvalidMessage';
  }
}
