/**
 * One client connection of the native protocol: frames in, responses out,
 * in request order. Limits come before work: the frame length before any
 * payload is buffered, one token of the client's rate before the JSON is
 * decoded (a Batch's other items once it is), the JSON limits before
 * parsing. A malformed request gets an error response and the connection
 * stays open; an oversized frame closes it (the stream cannot be
 * resynchronised). Reading pauses while the socket's write buffer is full,
 * so a client that does not read its responses cannot make the server buffer
 * without bound. A frame left half-sent is cut off after frameTimeoutMs, and
 * a connection with no bytes in either direction for idleTimeoutMs is closed
 * (both deadlines on the injected timers).
 *
 * Responses go out in request order; an error whose request id could not be
 * read (id null) answers the oldest unanswered request (docs/protocol.md §4).
 */
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { asStrongroomError, StrongroomError } from '../../common/errors';
import { Dispatcher } from '../../operations/dispatcher';
import { ServerLimits } from '../../operations/context';
import { Request, RequestSource } from '../../operations/request';
import { ClientIdentity } from '../../domain/policy/identity';
import { FrameDecoder } from '../../protocol/frame-codec';
import { ProtocolError } from '../../protocol/protocol-error';
import { DecodedRequest, decodeRequest, requestIdOf } from '../../protocol/request';
import { encodeError, encodeResult } from '../../protocol/response';
import { isKeptJsonData } from '../../protocol/frozen-json';
import { RateLimiter } from '../../common/rate-limiter';
import { Timer, Timers } from '../../common/timers';
import { Encode, ResponseQueue } from './response-queue';

/**
 * After a last error frame and our end of the stream, how long the peer gets
 * to read it and close its side before the socket is destroyed: a peer that
 * never closes (or keeps sending) cannot hold a half-closed socket.
 */
export const REFUSAL_LINGER_MS = 1000;

/** Resolves once `socket` is closed (at once if it already is): what a graceful drain waits for, whatever the wire. */
export function whenClosed(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

/** Writes `bytes` as the last thing on `socket` and ends it; destroys it if the peer has not closed within REFUSAL_LINGER_MS. */
export function endThenDestroy(socket: Socket, bytes: Buffer, timers: Timers): void {
  socket.end(bytes);
  const linger = timers.after(REFUSAL_LINGER_MS, () => socket.destroy());
  socket.once('close', () => linger.cancel());
}

/**
 * The graceful end every wire's connection shares (server shutdown): stops
 * reading, waits for `answered` (every request already read has its answer
 * written, so its audit event is durable), then ends the socket unless it
 * closed meanwhile; resolves once it is closed. The caller has stopped
 * taking requests first (its `draining` flag).
 */
export async function drainSocket(socket: Socket, answered: () => Promise<unknown>, connection: { isClosed(): boolean; cleanup(): void }, timers: Timers): Promise<void> {
  const gone = whenClosed(socket);
  socket.pause();
  await answered().catch(() => undefined);
  if (!connection.isClosed()) {
    connection.cleanup();
    // Reading again only to see the peer's end: what it sends now is dropped (the connection is closed to requests).
    socket.resume();
    // The answers written above leave before the end; a peer that does not close is cut off after the linger.
    endThenDestroy(socket, Buffer.alloc(0), timers);
  }
  await gone;
}

export interface ConnectionOptions {
  readonly limits: ServerLimits;
  readonly timers: Timers;
  /** No bytes read or written for this long closes the connection; 0: never. */
  readonly idleTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly dispatcher: Dispatcher;
  readonly rateLimiter: RateLimiter;
  /** Faults that are not the client's doing (INTERNAL_ERROR causes), for the log. */
  readonly onInternalError: (err: unknown) => void;
}

/** Largest response sent (what the client library accepts at most): bounds what one request can make the server hold. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * Rate-limit tokens a decoded request costs: 1, or a Batch's parsed item
 * count. Counted from the decoded structure, so no spelling of the JSON
 * (escapes such as "o\u0070") changes what a Batch pays, and the frame is
 * never copied into a string to count.
 */
export function requestCost(request: DecodedRequest): number {
  return request.op === 'Batch' ? Math.max(1, request.args.items.length) : 1;
}

/**
 * Zeroes every Buffer in a result tree once it has been encoded (key
 * material, plaintexts). A frozen view whose JSON the encoder keeps is data
 * only (protocol/frozen-json.ts) and is not walked: a Get's two views were
 * most of this walk.
 */
export function wipeBuffers(value: unknown, depth = 0): void {
  if (depth > 16 || value === null || typeof value !== 'object' || isKeptJsonData(value)) return;
  if (Buffer.isBuffer(value)) {
    value.fill(0);
    return;
  }
  for (const child of Object.values(value as Record<string, unknown>)) wipeBuffers(child, depth + 1);
}

export class Connection {
  private readonly decoder: FrameDecoder;
  private frameTimer: Timer | null = null;
  private readonly idleTimer: Timer | null;
  /** Responses in request order; one waiting for its audit holds back the ones after it. */
  private readonly responses: ResponseQueue;
  private closed = false;
  /** Set by drain(): no new request is read, the ones already read are answered. */
  private draining = false;

  private readonly source: RequestSource;

  constructor(private readonly socket: TLSSocket, readonly identity: ClientIdentity, private readonly options: ConnectionOptions) {
    this.source = { transport: 'tls', address: socket.remoteAddress ?? null };
    this.decoder = new FrameDecoder(options.limits.maxFrameBytes);
    this.responses = new ResponseQueue(socket, (bytes) => this.write(bytes));
    this.idleTimer = options.idleTimeoutMs > 0 ? options.timers.after(options.idleTimeoutMs, () => this.destroy()) : null;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.idleTimer?.restart(); // the peer is taking what was written: activity
      socket.resume();
    });
    socket.on('close', () => this.cleanup());
    socket.on('error', () => this.destroy());
  }

  /** Ends the connection now (revocation, shutdown, timeouts). */
  destroy(): void {
    this.cleanup();
    this.socket.destroy();
  }

  /**
   * The graceful end (server shutdown): stops reading requests, waits until
   * every request already read has its answer written (so its audit event
   * is durable), then ends the connection; resolves once the socket is
   * closed. A frame half-received is dropped.
   */
  async drain(): Promise<void> {
    this.draining = true;
    await drainSocket(this.socket, () => (this.closed ? Promise.resolve() : this.responses.idle()), { isClosed: () => this.closed, cleanup: () => this.cleanup() }, this.options.timers);
  }

  /** Sends a last error frame, then closes. */
  refuse(error: StrongroomError): void {
    if (this.closed) return;
    endThenDestroy(this.socket, encodeError(null, error), this.options.timers);
    this.cleanup();
  }

  private onData(chunk: Buffer): void {
    // Sent after shutdown began: not read, so never half-answered.
    if (this.draining) return;
    this.idleTimer?.restart();
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.refuse(asStrongroomError(err));
      return;
    }
    // The responses written in this turn leave in one TLS write (ResponseQueue corks them).
    for (const frame of frames) {
      if (this.closed) return;
      this.handle(frame);
    }
    this.armFrameTimer(frames.length > 0);
  }

  private handle(frame: Buffer): void {
    if (frame.length === 0) {
      this.respond(() => encodeError(null, new ProtocolError('FRAME_EMPTY', 'a frame must carry at least one byte of JSON')));
      return;
    }
    // Every frame pays one token before it is decoded, so parsing is rate limited too.
    const waitMs = this.options.rateLimiter.take(this.identity.name, 1);
    if (waitMs > 0) {
      this.respond(() => encodeError(null, this.rateLimited(waitMs)));
      return;
    }
    let id: string | number | null = null;
    try {
      const decoded = decodeRequest(frame, { maxDepth: this.options.limits.maxJsonDepth, maxElements: this.options.limits.maxJsonElements });
      frame.fill(0); // it may have carried plaintext or key material, now decoded
      id = decoded.id;
      // A Batch pays for the rest of its parsed items before any of them runs.
      const cost = requestCost(decoded);
      const batchWaitMs = cost > 1 ? this.options.rateLimiter.take(this.identity.name, cost, 1) : 0;
      if (batchWaitMs > 0) {
        wipeBuffers(decoded.args);
        this.respond(() => encodeError(decoded.id, this.rateLimited(batchWaitMs)));
        return;
      }
      const request: Request = { ...decoded, identity: this.identity, source: this.source };
      const audits: Array<Promise<void>> = [];
      let result: unknown;
      let failure: unknown = null;
      try {
        result = this.options.dispatcher.dispatch(request, audits);
      } catch (err) {
        failure = err;
      } finally {
        // Decoded arguments (plaintexts, material) are zeroed whatever happened, refusals included.
        if (typeof (result as { then?: unknown } | null)?.then !== 'function') wipeBuffers(request.args);
      }
      const requestId = request.id;
      const isAsync = typeof (result as { then?: unknown } | null)?.then === 'function';
      if (!isAsync && audits.length === 0) {
        this.respond(() => (failure === null ? this.encodeAndWipe(requestId, result) : this.encodeFailure(requestId, failure)));
        return;
      }
      // The response waits until the audit events of its operations are
      // durable; if they cannot be written, the client gets AUDIT_UNAVAILABLE
      // instead of the result (fail closed), and the result is zeroed unsent.
      const answer = this.responses.reserve();
      const afterAudits = (value: unknown, error: unknown): void => {
        const durable = audits.length === 1 ? audits[0] : Promise.all(audits);
        durable.then(
          () => answer(error !== null ? () => this.encodeFailure(requestId, error) : () => this.encodeAndWipe(requestId, value)),
          (auditError: unknown) => {
            wipeBuffers(value);
            answer(() => this.encodeFailure(requestId, auditError));
          },
        );
      };
      if (!isAsync) {
        afterAudits(result, failure);
        return;
      }
      (result as Promise<unknown>).then(
        (value) => {
          wipeBuffers(request.args);
          afterAudits(value, null);
        },
        (error: unknown) => {
          wipeBuffers(request.args);
          afterAudits(undefined, error);
        },
      );
      return;
    } catch (err) {
      const requestId = id ?? requestIdOf(err);
      this.respond(() => this.encodeFailure(requestId, err));
    }
  }

  private rateLimited(retryAfterMs: number): ProtocolError {
    return new ProtocolError('RATE_LIMITED', `client "${this.identity.name}" is over its request rate`, { retryAfterMs });
  }

  private encodeAndWipe(id: string | number, result: unknown): Buffer {
    try {
      const encoded = encodeResult(id, result);
      if (encoded.length > MAX_RESPONSE_BYTES) {
        encoded.fill(0);
        return encodeError(id, new ProtocolError('INVALID_REQUEST', `the response would be larger than ${MAX_RESPONSE_BYTES} bytes; ask for less (e.g. a smaller Locate limit or Batch)`));
      }
      return encoded;
    } catch (err) {
      // Encoded when its turn comes, maybe in a commit's callback: a result that cannot be encoded answers its error there.
      return this.encodeFailure(id, err);
    } finally {
      wipeBuffers(result);
    }
  }

  private encodeFailure(id: string | number | null, err: unknown): Buffer {
    const error = asStrongroomError(err);
    if (error.code === 'INTERNAL_ERROR') this.options.onInternalError(error.cause ?? error);
    return encodeError(id, error);
  }

  /** A response ready now: in request order, behind any still waiting for its audit. */
  private respond(encode: Encode): void {
    this.responses.ready(encode);
  }

  private write(bytes: Buffer): void {
    if (this.closed) {
      bytes.fill(0);
      return;
    }
    this.idleTimer?.restart(); // writing is activity too
    // Zeroed once the socket has taken it: responses carry key material and plaintexts.
    if (!this.socket.write(bytes, () => bytes.fill(0))) this.socket.pause();
  }

  /**
   * The deadline of a half-sent frame counts from the chunk that started it:
   * more bytes of the same frame do not push it back (a peer trickling one
   * byte at a time is still cut off). `frameEnded`: a frame finished in this
   * chunk, so any frame still pending started now.
   */
  private armFrameTimer(frameEnded: boolean): void {
    if (this.frameTimer && this.decoder.midFrame && !this.closed && !frameEnded) return;
    this.frameTimer?.cancel();
    this.frameTimer = null;
    if (this.decoder.midFrame && !this.closed) this.frameTimer = this.options.timers.after(this.options.frameTimeoutMs, () => this.destroy());
  }

  private cleanup(): void {
    this.closed = true;
    this.idleTimer?.cancel();
    this.frameTimer?.cancel();
    this.frameTimer = null;
  }
}
