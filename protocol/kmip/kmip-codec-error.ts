/**
 * The one error of the KMIP codecs (docs/kmip.md §1): bytes, XML or JSON that
 * break an encoding rule. It carries the stable code KMIP_INVALID_MESSAGE and
 * a stable `reason` naming the rule, so the message layer can answer "Invalid
 * Message" (or close the connection when the stream cannot be resynchronised)
 * and tests can pin each rule. Messages name offsets and rules, never values:
 * a message may hold key material.
 */
import { StrongroomError } from '../../common/errors';

/** Every rule a KMIP codec enforces, one stable name each. */
export const KMIP_CODEC_REASONS = [
  // TTLV
  'MESSAGE_TOO_LARGE', // the declared or actual size exceeds KMIP_MAX_MESSAGE_BYTES
  'TRUNCATED', // an item's header or value runs past the end of the bytes
  'TRAILING_BYTES', // bytes after the one top-level item
  'BAD_TAG', // a tag outside 0x42xxxx (KMIP) and 0x54xxxx (extensions)
  'BAD_TYPE', // an item type byte KMIP does not define
  'NOT_A_STRUCTURE', // a message whose top-level item is not a Structure
  'BAD_LENGTH', // a fixed-size type with another length, or a Structure length not a multiple of 8
  'BAD_PADDING', // a padding byte that is not zero
  'BAD_BOOLEAN', // a Boolean other than 0 or 1
  'BAD_UTF8', // a Text String that is not well-formed UTF-8
  'BAD_BIG_INTEGER_LENGTH', // a Big Integer whose length is zero or not a multiple of 8
  'STRUCTURE_LENGTH_MISMATCH', // children's padded lengths do not add up to the structure's length
  'TOO_DEEP', // nesting beyond KMIP_MAX_DEPTH
  // XML and JSON encodings
  'TEXT_TOO_LARGE', // an XML or JSON text longer than its limit
  'XML_SYNTAX', // not well-formed XML of the subset KMIP uses
  'JSON_SYNTAX', // not JSON, or JSON beyond the depth and element limits
  'BAD_SHAPE', // a node with missing, extra or mistyped fields
  'UNKNOWN_TAG', // a tag name the dictionary does not know
  'UNKNOWN_ITEM_TYPE', // a type name KMIP does not define
  'UNKNOWN_ENUMERATION', // an enumeration or mask name not defined for that tag
  'BAD_VALUE', // a value that does not parse as its type or is out of its range
  'UNRESOLVED_PLACEHOLDER', // a test-case placeholder ($NOW) with nothing given to resolve it
] as const;

export type KmipCodecReason = (typeof KMIP_CODEC_REASONS)[number];

export class KmipCodecError extends StrongroomError {
  readonly reason: KmipCodecReason;

  constructor(reason: KmipCodecReason, message: string, offset?: number) {
    super('KMIP_INVALID_MESSAGE', message, { details: offset === undefined ? { reason } : { reason, offset } });
    this.reason = reason;
  }
}
