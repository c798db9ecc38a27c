/**
 * The cases of the KMIP transport fuzz test (kmip-transport-fuzz.test.ts):
 * valid requests encoded to TTLV, mutations of their bytes (the mutations
 * the codec's own fuzz test makes in process, test/protocol/kmip/ttlv-fuzz.test.ts,
 * here sent over TLS), and a model of how the server cuts the byte stream
 * into messages, so that the test knows how many answers each case must get
 * and whether the server must close the connection after them.
 */
import { KmipCodecError } from '../../../protocol/kmip/kmip-codec-error';
import { RequestMessage } from '../../../protocol/kmip/kmip-message';
import { encodeRequest } from '../../../protocol/kmip/kmip-message-encoder';
import { enumItem, integerItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { decodeTtlv } from '../../../protocol/kmip/ttlv-decoder';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { ttlvMessageLength } from '../../../protocol/kmip/ttlv-framing';
import { KMIP_MAX_MESSAGE_BYTES, paddedLength, TTLV_HEADER_BYTES, TtlvNode } from '../../../protocol/kmip/ttlv';

export interface FuzzCase {
  readonly label: string;
  readonly bytes: Buffer;
}

/** Type bytes tried in place of an item's own: every defined type, and one on each side. */
const TYPE_BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c];
const LENGTH_CHANGES = [1, -1, 8, -8, 'zero', 'max'] as const;

const version = (major: number, minor: number): TtlvNode => structureItem('ProtocolVersion', [integerItem('ProtocolVersionMajor', major), integerItem('ProtocolVersionMinor', minor)]);
const attribute = (name: string, value: TtlvNode): TtlvNode => structureItem('Attribute', [textItem('AttributeName', name), value]);

/** `maxDepth`: the encoder's own limit, raised to build a message deeper than the decoder accepts. */
function request(message: RequestMessage, maxDepth?: number): Buffer {
  return encodeTtlv(encodeRequest(message), maxDepth);
}

/** Valid requests of several shapes and versions: one item and two, text, enumerations, nested attributes. */
export function baseRequests(): FuzzCase[] {
  const v21 = { major: 2, minor: 1 };
  const v14 = { major: 1, minor: 4 };
  return [
    { label: 'DiscoverVersions 2.1', bytes: request({ header: { protocolVersion: v21, batchCount: 1 }, batchItems: [{ operation: 'DiscoverVersions', requestPayload: structureItem('RequestPayload', [version(2, 1), version(1, 4)]) }] }) },
    {
      label: 'DiscoverVersions + Query 1.4, batch of two, Continue',
      bytes: request({
        header: { protocolVersion: v14, clientCorrelationValue: 'fuzz-1', maximumResponseSize: 65536, batchErrorContinuationOption: 'Continue', batchCount: 2 },
        batchItems: [
          { operation: 'DiscoverVersions', uniqueBatchItemId: Buffer.from('a1'), requestPayload: structureItem('RequestPayload', []) },
          { operation: 'Query', uniqueBatchItemId: Buffer.from('a2'), requestPayload: structureItem('RequestPayload', [enumItem('QueryFunction', 'QueryOperations'), enumItem('QueryFunction', 'QueryObjects')]) },
        ],
      }),
    },
    { label: 'Get 2.1', bytes: request({ header: { protocolVersion: v21, batchCount: 1 }, batchItems: [{ operation: 'Get', requestPayload: structureItem('RequestPayload', [textItem('UniqueIdentifier', 'fuzz/none-1'), enumItem('KeyFormatType', 'Raw')]) }] }) },
    {
      label: 'Create 1.4 with a Template-Attribute',
      bytes: request({
        header: { protocolVersion: v14, batchCount: 1 },
        batchItems: [
          {
            operation: 'Create',
            requestPayload: structureItem('RequestPayload', [
              enumItem('ObjectType', 'SymmetricKey'),
              structureItem('TemplateAttribute', [
                attribute('Cryptographic Algorithm', enumItem('AttributeValue', 'AES', 'CryptographicAlgorithm')),
                attribute('Cryptographic Length', integerItem('AttributeValue', 256)),
                attribute('Name', structureItem('AttributeValue', [textItem('NameValue', 'fuzz/created'), enumItem('NameType', 'UninterpretedTextString')])),
              ]),
            ]),
          },
        ],
      }),
    },
  ];
}

export interface ItemHeader {
  readonly offset: number;
  readonly type: number;
  readonly length: number;
}

/** Offsets, types and lengths of every item of a valid message, in order (the message itself first). */
export function itemHeaders(bytes: Buffer): ItemHeader[] {
  const headers: ItemHeader[] = [];
  const walk = (offset: number, end: number): void => {
    while (offset < end) {
      const type = bytes[offset + 3];
      const length = bytes.readUInt32BE(offset + 4);
      headers.push({ offset, type, length });
      if (type === 0x01) walk(offset + TTLV_HEADER_BYTES, offset + TTLV_HEADER_BYTES + length);
      offset += TTLV_HEADER_BYTES + paddedLength(length);
    }
  };
  walk(0, bytes.length);
  return headers;
}

function changed(bytes: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(bytes);
  edit(copy);
  return copy;
}

/** Every item's length ±1, ±8, 0, 0xFFFFFFFF; its type byte swapped; its padding 0xFF; its tag made invalid. */
export function* itemMutations(base: FuzzCase): Generator<FuzzCase> {
  for (const { offset, type, length } of itemHeaders(base.bytes)) {
    const at = `${base.label}, item at ${offset}`;
    for (const change of LENGTH_CHANGES) {
      const mutated = change === 'zero' ? 0 : change === 'max' ? 0xffffffff : length + change;
      if (mutated !== length && mutated >= 0) yield { label: `${at} length ${mutated}`, bytes: changed(base.bytes, (b) => b.writeUInt32BE(mutated, offset + 4)) };
    }
    for (const other of TYPE_BYTES) if (other !== type) yield { label: `${at} type 0x${other.toString(16)}`, bytes: changed(base.bytes, (b) => (b[offset + 3] = other)) };
    const valueEnd = offset + TTLV_HEADER_BYTES + (type === 0x01 ? 0 : length);
    const paddedEnd = offset + TTLV_HEADER_BYTES + (type === 0x01 ? 0 : paddedLength(length));
    if (paddedEnd > valueEnd) yield { label: `${at} padding 0xFF`, bytes: changed(base.bytes, (b) => b.fill(0xff, valueEnd, paddedEnd)) };
    yield { label: `${at} tag 0x43xxxx`, bytes: changed(base.bytes, (b) => (b[offset] = 0x43)) };
  }
}

/** The message cut at every 8th byte, its declared length patched to the cut (the stream stays in step); and cut unpatched at a few places. */
export function* truncations(base: FuzzCase): Generator<FuzzCase> {
  for (let cut = TTLV_HEADER_BYTES; cut < base.bytes.length; cut += 8) {
    yield { label: `${base.label} cut at ${cut}, length patched`, bytes: changed(base.bytes.subarray(0, cut), (b) => b.writeUInt32BE(cut - TTLV_HEADER_BYTES, 4)) };
  }
  for (const cut of [3, 11, base.bytes.length - 1]) yield { label: `${base.label} cut at ${cut}`, bytes: Buffer.from(base.bytes.subarray(0, cut)) };
}

/** A structure chain `levels` deep as the request's payload: the codec's depth limit is reached inside a message that is otherwise valid. */
export function nestedPayload(levels: number): Buffer {
  let node: TtlvNode = structureItem('RequestPayload', []);
  for (let i = 1; i < levels; i++) node = structureItem('RequestPayload', [node]);
  return request({ header: { protocolVersion: { major: 2, minor: 1 }, batchCount: 1 }, batchItems: [{ operation: 'DiscoverVersions', requestPayload: node }] }, levels + 8);
}

/** The deepest payload chain the codec decodes (found with the codec, not assumed), and one level more. */
export function depthLimitCases(): { atLimit: FuzzCase; overLimit: FuzzCase } {
  let levels = 1;
  for (;;) {
    try {
      decodeTtlv(nestedPayload(levels + 1));
      levels++;
    } catch (err) {
      if (!(err instanceof KmipCodecError)) throw err;
      break;
    }
  }
  return { atLimit: { label: `payload ${levels} structures deep`, bytes: nestedPayload(levels) }, overLimit: { label: `payload ${levels + 1} structures deep`, bytes: nestedPayload(levels + 1) } };
}

/** What the server makes of a connection's byte stream: whole messages, a header it cannot trust (then it closes), bytes of an unfinished message. */
export interface StreamModel {
  readonly messages: number;
  readonly broken: boolean;
  readonly pending: number;
}

/** Cuts `bytes` as kmip-connection.ts does: ttlvMessageLength on each 8-byte header, with the server's limit. */
export function serverStream(bytes: Buffer): StreamModel {
  let at = 0;
  let messages = 0;
  while (bytes.length - at >= TTLV_HEADER_BYTES) {
    let length: number;
    try {
      length = ttlvMessageLength(bytes.subarray(at, at + TTLV_HEADER_BYTES), KMIP_MAX_MESSAGE_BYTES);
    } catch {
      return { messages, broken: true, pending: 0 };
    }
    if (bytes.length - at < length) return { messages, broken: false, pending: length - (bytes.length - at) };
    at += length;
    messages++;
  }
  return { messages, broken: false, pending: bytes.length - at === 0 ? 0 : TTLV_HEADER_BYTES - (bytes.length - at) };
}
