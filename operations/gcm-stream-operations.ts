/**
 * The streamed form of Encrypt (docs/protocol.md §6.1; domain/gcm-streams.ts):
 * `streamInit` starts an AES-GCM encryption with its first part and answers
 * the `stream` correlation value; each later part sends `stream` and the
 * `instance`, and `streamFinal` on the last answers the tag and ends it.
 * Every part is its own request through the dispatcher, so identity, grant
 * (`encrypt` on the key, every time), sealed state and audit are checked
 * and recorded per part; the instance's state and usage limit are checked
 * again and its bytes spent at each part. The trail also gets a
 * `gcm-stream` event when a stream starts and when it ends, naming it by
 * a digest of its correlation value (streamLabel), so the parts between can
 * be read as one encryption. Only encryption streams: a streamed Decrypt
 * would hand out plaintext before the tag is checked (NIST SP 800-38D
 * §5.2.2 releases none when the tag fails).
 */
import { ValidationError } from '../common/errors';
import { streamLabel } from '../domain/gcm-streams';
import { ArgsOf } from '../protocol/op-schemas';
import { recordClientMarker } from './client-marker';
import { authorizeRef, OperationContext } from './context';

/** Whether an Encrypt asks for a stream (any of its fields given). */
export function isStreamed(args: ArgsOf<'Encrypt'>): boolean {
  return args.streamInit !== undefined || args.stream !== undefined || args.streamFinal !== undefined;
}

export interface StreamedPart {
  readonly key: string;
  readonly instance: string;
  readonly ciphertext: Buffer;
  /** The first part's: the IV, drawn when not given. */
  readonly iv?: Buffer;
  /** The first part's: what continues the stream. */
  readonly stream?: Buffer;
  /** The final part's. */
  readonly tag?: Buffer;
}

/** `requireIvRight`: the native rule that a caller-chosen IV needs `get` too (crypto-operations.ts). */
export function streamedEncrypt(args: ArgsOf<'Encrypt'>, ctx: OperationContext, requireIvRight: (key: string) => void): StreamedPart {
  if (args.mode !== undefined && args.mode !== 'AES-GCM') throw new ValidationError(`only AES-GCM encryption streams, not ${args.mode}`);
  return args.stream === undefined ? start(args, ctx, requireIvRight) : continuePart(args, args.stream, ctx);
}

function start(args: ArgsOf<'Encrypt'>, ctx: OperationContext, requireIvRight: (key: string) => void): StreamedPart {
  if (args.streamInit !== true) throw new ValidationError('streamFinal ends a stream: send it with the stream value streamInit answered');
  if (args.streamFinal === true) throw new ValidationError('a stream of one part is an ordinary Encrypt: leave streamInit and streamFinal out');
  if (args.mode !== 'AES-GCM') throw new ValidationError('a stream is an AES-GCM encryption: send mode AES-GCM with streamInit');
  const ref = authorizeRef(ctx, 'encrypt', args);
  const key = ref.fullName as string;
  if (args.iv !== undefined) requireIvRight(key);
  const { crypto, gcmStreams } = ctx.services;
  // Refused before anything is counted or opened.
  gcmStreams.admit(ctx.identity.name);
  const started = crypto.startGcmStream(ref, args.plaintext, { iv: args.iv, aad: args.aad, tagLength: args.tagLength });
  const stream = gcmStreams.add(ctx.identity.name, started.instance, started.cipher);
  recordClientMarker(ctx, 'gcm-stream', 'Encrypt', { action: 'started', stream: streamLabel(stream), key, instance: started.instance });
  return { key, instance: started.instance, ciphertext: started.ciphertext, iv: started.iv, stream };
}

function continuePart(args: ArgsOf<'Encrypt'>, stream: Buffer, ctx: OperationContext): StreamedPart {
  if (args.streamInit === true) throw new ValidationError('streamInit starts a stream: leave it out of the parts that continue one');
  const opening = (['iv', 'aad', 'tagLength', 'initialCounter'] as const).filter((field) => args[field] !== undefined);
  if (opening.length > 0) throw new ValidationError(`${opening.join(', ')} belong to a stream's first part (streamInit), not to the parts that continue it`);
  if (args.instance === undefined) throw new ValidationError('a part that continues a stream names its instance (the one streamInit answered)');
  const ref = authorizeRef(ctx, 'encrypt', args);
  const { crypto, gcmStreams } = ctx.services;
  const final = args.streamFinal === true;
  const part = gcmStreams.part(stream, ctx.identity.name, args.instance, final, (cipher) => {
    // The instance may have been revoked or run out of budget since the part before: checked, and spent, again.
    crypto.checkGcmStreamPart(args.instance as string, args.plaintext);
    const body = cipher.update(args.plaintext);
    if (!final) return { ciphertext: body };
    return { ciphertext: Buffer.concat([body, cipher.final()]), tag: cipher.getAuthTag() };
  });
  const key = ref.fullName as string;
  if (final) recordClientMarker(ctx, 'gcm-stream', 'Encrypt', { action: 'ended', stream: streamLabel(stream), key, instance: args.instance });
  return { key, instance: args.instance, ...part };
}
