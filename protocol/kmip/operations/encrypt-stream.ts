/**
 * A part of a streamed Encrypt (KMIP 2.1 §6.1.18, 1.4 §4.29: Init
 * Indicator, Correlation Value, Final Indicator) through the native
 * Encrypt's stream fields (domain/gcm-streams.ts; docs/protocol.md §6.1):
 * the first part (Init Indicator true) carries the IV, the Additional Data
 * and the Tag Length and is answered the Correlation Value; each later part
 * sends the Correlation Value back, and the one with Final Indicator true is
 * answered the Authenticated Encryption Tag. Only AES-GCM streams, from
 * KMIP 1.4 (whose reply can carry the tag). The Cryptographic Parameters a
 * later part repeats are the stream's own: its mode is checked, the rest was
 * fixed by the first part.
 */
import { TtlvNode } from '../ttlv';
import { CipherChoice, StreamingFields } from './cryptographic-parameters';
import { KmipOperationContext, KmipOperationError } from './kmip-operation';
import { bufferView, bytesItem, responsePayload, textItem } from './payload';
import { usageDateRefusal } from './usage-date-refusal';

interface StreamedAnswer {
  readonly instance: string;
  readonly ciphertext: Buffer;
  readonly iv?: Buffer;
  readonly stream?: Buffer;
  readonly tag?: Buffer;
}

export async function streamedPart(
  instance: string,
  data: Uint8Array,
  iv: Uint8Array | undefined,
  aad: Uint8Array | undefined,
  choice: CipherChoice,
  streaming: StreamingFields,
  ctx: KmipOperationContext,
): Promise<TtlvNode> {
  if (choice.mode !== 'AES-GCM') throw new KmipOperationError('FeatureNotSupported', `only AES-GCM encryption streams here, not ${choice.mode}: send all the Data in one request`);
  if (ctx.version.major === 1 && ctx.version.minor < 4) throw new KmipOperationError('FeatureNotSupported', 'a streamed AES-GCM ends with the Authenticated Encryption Tag, which KMIP 1.4 added: ask in KMIP 1.4 or later');
  const first = streaming.correlation === undefined;
  if (first && streaming.init !== true) throw new KmipOperationError('InvalidField', 'a part without a Correlation Value starts a stream: it needs Init Indicator true');
  if (!first && streaming.init === true) throw new KmipOperationError('InvalidField', 'Init Indicator starts a stream: a part with a Correlation Value continues one');
  if (!first && (iv !== undefined || aad !== undefined)) throw new KmipOperationError('InvalidField', 'the IV Counter Nonce and Additional Data belong to the first part of a stream');
  if (first && choice.randomIv === true && iv !== undefined) throw new KmipOperationError('InvalidField', 'Random IV is true and an IV Counter Nonce is given: ask for one or give one');
  const final = streaming.final === true;
  const args = first
    ? { instance, plaintext: bufferView(data), mode: 'AES-GCM' as const, iv: bufferView(iv), aad: bufferView(aad), tagLength: choice.tagLength, streamInit: true }
    : { instance, plaintext: bufferView(data), mode: 'AES-GCM' as const, stream: bufferView(streaming.correlation), ...(final ? { streamFinal: true } : {}) };
  const part = (await ctx.call('Encrypt', args).catch((err: unknown) => Promise.reject(usageDateRefusal(err, ctx.version.major)))) as StreamedAnswer;
  return responsePayload([
    textItem('UniqueIdentifier', part.instance),
    bytesItem('Data', part.ciphertext),
    // KMIP answers the IV only when the server chose it.
    first && iv === undefined && part.iv !== undefined ? bytesItem('IVCounterNonce', part.iv) : undefined,
    // What the next part sends back; the final part's answer has none (the stream is over).
    final ? undefined : bytesItem('CorrelationValue', first ? (part.stream as Buffer) : Buffer.from(streaming.correlation as Uint8Array)),
    final && part.tag !== undefined ? bytesItem('AuthenticatedEncryptionTag', part.tag) : undefined,
  ]);
}
