/**
 * The bytes of KMIP in the socket benchmark (scripts/bench-socket-kmip.ts),
 * apart from the load generator so that the echo child
 * (scripts/bench-socket-servers.ts) can use them: cutting a TTLV stream
 * into messages, reading a reply's Result Status without decoding it, the
 * pre-encoded requests, and the reply the echo ceiling sends.
 */
import { enumeration, tagNumber } from '../protocol/kmip/dictionary';
import { ProtocolVersion } from '../protocol/kmip/kmip-message';
import { encodeRequest, encodeResponse } from '../protocol/kmip/kmip-message-encoder';
import { bytesItem, enumItem, responsePayload, structureItem, textItem } from '../protocol/kmip/operations/payload';
import { encodeTtlv } from '../protocol/kmip/ttlv-encoder';
import { ttlvMessageLength } from '../protocol/kmip/ttlv-framing';
import { TTLV_HEADER_BYTES, TtlvNode } from '../protocol/kmip/ttlv';

const KMIP_VERSION: ProtocolVersion = { major: 2, minor: 1 };
/** Replies larger than this are a broken server, not a benchmark answer. */
const MAX_REPLY_BYTES = 16 * 1024 * 1024;
const RESULT_STATUS_TAG = tagNumber('ResultStatus') as number;
export const KMIP_SUCCESS = enumeration('ResultStatus')?.byName.get('Success') as number;

/** Cuts a TTLV byte stream into messages by the length in each message's header. */
export class TtlvStreamSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    let bytes = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    while (bytes.length >= TTLV_HEADER_BYTES) {
      const length = ttlvMessageLength(bytes, MAX_REPLY_BYTES);
      if (bytes.length < length) break;
      messages.push(bytes.subarray(0, length));
      bytes = bytes.subarray(length);
    }
    this.pending = bytes;
    return messages;
  }
}

/** Offset just past the item at `at` (a TTLV item: 8 header bytes, then its value padded to 8). */
function skipItem(message: Buffer, at: number): number {
  return at + TTLV_HEADER_BYTES + Math.ceil(message.readUInt32BE(at + 4) / 8) * 8;
}

/**
 * The Result Status of a Response Message's first Batch Item, read by
 * walking item headers (Response Header, then the Batch Item's children);
 * null when the message does not have that shape.
 */
export function firstResultStatus(message: Buffer): number | null {
  if (message.length < 2 * TTLV_HEADER_BYTES) return null;
  const item = skipItem(message, TTLV_HEADER_BYTES); // past the Response Header
  if (item + TTLV_HEADER_BYTES > message.length) return null;
  const end = Math.min(message.length, skipItem(message, item));
  for (let at = item + TTLV_HEADER_BYTES; at + 2 * TTLV_HEADER_BYTES <= end; at = skipItem(message, at)) {
    if (message.readUIntBE(at, 3) === RESULT_STATUS_TAG) return message.readInt32BE(at + TTLV_HEADER_BYTES);
  }
  return null;
}

/** One operation in a one-item batch, encoded. */
function requestBytes(operation: string, payload: TtlvNode): Buffer {
  return encodeTtlv(encodeRequest({ header: { protocolVersion: KMIP_VERSION, batchCount: 1 }, batchItems: [{ operation, requestPayload: payload }] }));
}

/** One Get per instance (Unique Identifier = instance name, Key Format Type Raw), each encoded once. */
export function kmipGetRequests(instances: readonly string[]): Buffer[] {
  return instances.map((instance) => requestBytes('Get', structureItem('RequestPayload', [textItem('UniqueIdentifier', instance), enumItem('KeyFormatType', 'Raw')])));
}

export function kmipDiscoverVersionsRequest(): Buffer {
  return requestBytes('DiscoverVersions', structureItem('RequestPayload', []));
}

/**
 * A Response Message of exactly `bytes` bytes (a multiple of 8, as every
 * TTLV message is) with one successful Batch Item whose payload is a Byte
 * String of zeros: what the echo ceiling answers each KMIP request with.
 */
export function kmipEchoTemplate(bytes: number): Buffer {
  const reply = (padding: number): Buffer =>
    encodeTtlv(
      encodeResponse({
        header: { protocolVersion: KMIP_VERSION, timeStamp: 0n, batchCount: 1 },
        batchItems: [{ operation: 'Get', resultStatus: 'Success', responsePayload: responsePayload([bytesItem('KeyMaterial', Buffer.alloc(padding))]) }],
      }),
    );
  const fixedPart = reply(0).length;
  if (bytes % 8 !== 0 || bytes < fixedPart) throw new RangeError(`a KMIP reply of ${bytes} bytes cannot be imitated (at least ${fixedPart}, a multiple of 8)`);
  return reply(bytes - fixedPart);
}
