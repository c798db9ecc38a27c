/**
 * Framing of KMIP over a stream (KMIP 2.1 §9.1: messages are sent back to
 * back, each one TTLV Structure): from the first 8 bytes of a
 * message, its whole length. The header is checked (tag, Structure type,
 * length a multiple of 8) and the length compared with the maximum BEFORE any
 * byte of the body is buffered, so a hostile peer can never make us allocate
 * what its header claims. Pure: no I/O, no clock, no logger, no module state.
 */
import { KmipCodecError } from './kmip-codec-error';
import { ITEM_TYPES, KMIP_MAX_MESSAGE_BYTES, TTLV_ALIGNMENT, TTLV_HEADER_BYTES, isValidTag } from './ttlv';

/**
 * Total bytes (header included) of the message whose first TTLV_HEADER_BYTES
 * bytes are `header`. Throws KmipCodecError (MESSAGE_TOO_LARGE, BAD_TAG,
 * NOT_A_STRUCTURE, BAD_LENGTH): the stream cannot be resynchronised after
 * any of them, so the connection must close.
 *
 * @example ttlvMessageLength(Buffer.from('4200780100000120', 'hex')) // 296
 */
export function ttlvMessageLength(header: Uint8Array, maxMessageBytes: number = KMIP_MAX_MESSAGE_BYTES): number {
  if (header.length < TTLV_HEADER_BYTES) throw new RangeError(`need the first ${TTLV_HEADER_BYTES} bytes of the message`);
  const bytes = Buffer.from(header.buffer, header.byteOffset, TTLV_HEADER_BYTES);
  const tag = bytes.readUIntBE(0, 3);
  if (!isValidTag(tag)) throw new KmipCodecError('BAD_TAG', `tag 0x${tag.toString(16).padStart(6, '0')} is neither 0x42xxxx nor 0x54xxxx`, 0);
  if (bytes[3] !== ITEM_TYPES.Structure) throw new KmipCodecError('NOT_A_STRUCTURE', 'a KMIP message is a Structure', 3);
  const length = bytes.readUInt32BE(4);
  if (length % TTLV_ALIGNMENT !== 0) throw new KmipCodecError('BAD_LENGTH', `Structure of length ${length}, not a multiple of ${TTLV_ALIGNMENT}`, 4);
  const total = TTLV_HEADER_BYTES + length;
  if (total > maxMessageBytes) {
    throw new KmipCodecError('MESSAGE_TOO_LARGE', `message of ${total} bytes exceeds the limit of ${maxMessageBytes}`, 4);
  }
  return total;
}
