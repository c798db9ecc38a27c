/**
 * One KMIP client connection (docs/kmip.md §4): TTLV messages in, responses
 * out, in request order. Limits come before work: a message's length is
 * read from its first 8 bytes and checked against KMIP_MAX_MESSAGE_BYTES
 * before any byte of it is buffered; a message costs one rate-limit token
 * before it is decoded and the rest of its Batch Count once it is. A
 * message that cannot be decoded is answered Invalid Message and the
 * connection stays open (its length was sound, so the stream is still in
 * step); a length that cannot be is answered after the messages read
 * before it (answers keep their order, so a client never takes the refusal
 * for the answer to an earlier request), then the connection is closed.
 * Reading pauses while requests are queued or the socket's write
 * buffer is full, so a client that does not read cannot make the server
 * buffer without bound. A message left half-sent is cut off after
 * frameTimeoutMs; no bytes either way for idleTimeoutMs closes it.
 */
import { TLSSocket } from 'node:tls';
import { Clock } from '../../common/clock';
import { RateLimiter } from '../../common/rate-limiter';
import { Timer, Timers } from '../../common/timers';
import { ClientIdentity } from '../../domain/policy/identity';
import { RunItem } from '../../protocol/kmip/kmip-batch-executor';
import { KmipCodecError } from '../../protocol/kmip/kmip-codec-error';
import { ResponseMessage } from '../../protocol/kmip/kmip-message';
import { encodeResponse, invalidMessageResponse } from '../../protocol/kmip/kmip-message-encoder';
import { decodeTtlv } from '../../protocol/kmip/ttlv-decoder';
import { encodeTtlv } from '../../protocol/kmip/ttlv-encoder';
import { ttlvMessageLength } from '../../protocol/kmip/ttlv-framing';
import { KMIP_MAX_MESSAGE_BYTES, TTLV_HEADER_BYTES, wipeByteStrings } from '../../protocol/kmip/ttlv';
import { drainSocket, endThenDestroy } from '../tls/connection';
import { answerMessage, KMIP_MAX_RESPONSE_BYTES } from './kmip-message-answer';

/** Most messages read and not yet answered: beyond it the socket stops reading until answers leave. */
export const KMIP_MAX_QUEUED_MESSAGES = 16;
/** Largest response sent whatever the client's Maximum Response Size (moved to kmip-message-answer.ts, which both KMIP listeners use). */
export { KMIP_MAX_RESPONSE_BYTES };

export interface KmipConnectionOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly idleTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly rateLimiter: RateLimiter;
  /** The Batch Item runner for this connection's identity (kmip-item-runner.ts). */
  readonly runItem: RunItem;
  readonly onInternalError: (err: unknown) => void;
}

/** Zeroes every Byte String of a tree (moved to protocol/kmip/ttlv.ts, where the batch executor needs it too). */
export { wipeByteStrings };

export class KmipConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The length of the message being received, once its header is in. */
  private expected: number | null = null;
  private frameTimer: Timer | null = null;
  private readonly idleTimer: Timer | null;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;
  private draining = false;
  /** A header that cannot be trusted was read: nothing more is read; the queue is answered, then the refusal, then the close. */
  private refusing = false;

  constructor(private readonly socket: TLSSocket, readonly identity: ClientIdentity, private readonly options: KmipConnectionOptions) {
    this.idleTimer = options.idleTimeoutMs > 0 ? options.timers.after(options.idleTimeoutMs, () => this.destroy()) : null;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.idleTimer?.restart();
      this.resumeIfRoom();
    });
    socket.on('close', () => this.cleanup());
    socket.on('error', () => this.destroy());
  }

  destroy(): void {
    this.cleanup();
    this.socket.destroy();
  }

  async drain(): Promise<void> {
    this.draining = true;
    await drainSocket(this.socket, () => this.queue, { isClosed: () => this.closed, cleanup: () => this.cleanup() }, this.options.timers);
  }

  private onData(chunk: Buffer): void {
    if (this.draining || this.closed || this.refusing) {
      chunk.fill(0); // never read: it may still hold a payload's key bytes
      return;
    }
    this.idleTimer?.restart();
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    let completed = false;
    while (!this.closed && !this.refusing) {
      if (this.expected === null) {
        if (this.buffered < TTLV_HEADER_BYTES) break;
        try {
          this.expected = ttlvMessageLength(this.peek(TTLV_HEADER_BYTES), KMIP_MAX_MESSAGE_BYTES);
        } catch (err) {
          // The stream cannot be resynchronised: answer (after the messages before it), then close.
          this.refuse(err as KmipCodecError);
          return;
        }
      }
      if (this.buffered < this.expected) break;
      const message = this.take(this.expected);
      this.expected = null;
      completed = true;
      this.enqueue(message);
    }
    this.armFrameTimer(completed);
  }

  private peek(length: number): Buffer {
    if (this.chunks[0].length < length) this.joinChunks();
    return this.chunks[0].subarray(0, length);
  }

  /** One chunk of all the buffered bytes; the chunks it was made of are zeroed (they may hold a payload's key bytes). */
  private joinChunks(): void {
    const joined = Buffer.concat(this.chunks);
    for (const chunk of this.chunks) chunk.fill(0);
    this.chunks = [joined];
  }

  /**
   * The next message, as a view of the buffered bytes, not a copy: its
   * bytes are this connection's alone (a chunk read from the socket, or the
   * chunks joined), and enqueue() zeroes exactly them once it is answered.
   */
  private take(length: number): Buffer {
    if (this.chunks.length > 1) this.joinChunks();
    const all = this.chunks[0];
    const message = all.subarray(0, length);
    const rest = all.subarray(length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return message;
  }

  private enqueue(message: Buffer): void {
    this.queued++;
    if (this.queued >= KMIP_MAX_QUEUED_MESSAGES) this.socket.pause();
    this.queue = this.queue
      .then(() => this.answer(message))
      .catch((err: unknown) => {
        // A fault of ours, not the client's: logged, and the connection closed rather than answered with a guess.
        this.options.onInternalError(err);
        this.destroy();
      })
      .finally(() => {
        message.fill(0);
        this.queued--;
        this.resumeIfRoom();
      });
  }

  private resumeIfRoom(): void {
    if (!this.closed && !this.draining && !this.refusing && this.queued < KMIP_MAX_QUEUED_MESSAGES && !this.socket.writableNeedDrain) this.socket.resume();
  }

  private now(): bigint {
    return BigInt(Math.floor(this.options.clock.nowMs() / 1000));
  }

  private async answer(message: Buffer): Promise<void> {
    if (this.closed) return;
    this.write(await answerMessage(() => decodeTtlv(message), { identity: this.identity, rateLimiter: this.options.rateLimiter, runItem: this.options.runItem, now: () => this.now() }));
  }

  private write(response: ResponseMessage): void {
    let bytes: Buffer;
    try {
      bytes = encodeTtlv(encodeResponse(response));
    } finally {
      for (const item of response.batchItems) wipeByteStrings(item.responsePayload);
    }
    if (this.closed) {
      bytes.fill(0);
      return;
    }
    this.idleTimer?.restart();
    if (!this.socket.write(bytes, () => bytes.fill(0))) this.socket.pause();
  }

  /**
   * Answers a message whose length cannot be trusted, then closes: reading
   * stops now and what was buffered is wiped, but the refusal waits behind
   * the messages already queued, whose answers come first.
   */
  private refuse(error: KmipCodecError): void {
    if (this.closed || this.refusing) return;
    this.refusing = true;
    this.socket.pause();
    this.discardBuffered();
    this.queue = this.queue
      .then(() => {
        if (this.closed) return;
        const bytes = encodeTtlv(encodeResponse(invalidMessageResponse(error, this.now())));
        this.cleanup();
        endThenDestroy(this.socket, bytes, this.options.timers);
      })
      .catch((err: unknown) => {
        this.options.onInternalError(err);
        this.destroy();
      });
  }

  /**
   * The deadline of a half-sent message counts from the chunk that started
   * it: more bytes of the same message do not push it back. `completed`: a
   * message ended in this chunk, so any message still pending started now.
   */
  private armFrameTimer(completed: boolean): void {
    const midMessage = this.buffered > 0;
    if (this.frameTimer !== null && midMessage && !completed && !this.closed) return;
    this.frameTimer?.cancel();
    this.frameTimer = null;
    if (midMessage && !this.closed) this.frameTimer = this.options.timers.after(this.options.frameTimeoutMs, () => this.destroy());
  }

  private cleanup(): void {
    this.closed = true;
    this.idleTimer?.cancel();
    this.discardBuffered();
  }

  /** Zeroes and drops the bytes of a message not yet complete, and its deadline. */
  private discardBuffered(): void {
    this.frameTimer?.cancel();
    this.frameTimer = null;
    for (const chunk of this.chunks) chunk.fill(0);
    this.chunks = [];
    this.buffered = 0;
    this.expected = null;
  }
}
