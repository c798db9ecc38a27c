/**
 * One HTTPS connection of the KMIP HTTPS listener (docs/kmip.md §4.1): its
 * client was identified by kmip-https-wire.ts (the key server's checks), and
 * each of its HTTP requests is a KMIP request message: POST /kmip, the body's
 * encoding named by its Content-Type (protocol/kmip/kmip-http.ts). Limits
 * come before work: a Content-Length over the encoding's limit is refused
 * 413 before a byte of the body is read, and a body without one is counted
 * as it arrives. A body is decoded and answered by answerMessage (the same
 * rate limit, batch executor and item runner as the TTLV port); a body that
 * does not decode is answered Invalid Message in its encoding, as the TTLV
 * port answers. Messages are answered in request order, one at a time, like
 * the TTLV port's; at most KMIP_MAX_QUEUED_MESSAGES wait before reading
 * pauses. Bodies and response bytes are zeroed once answered. A body left
 * half-sent frameTimeoutMs after its headers is cut off; no request, body
 * byte or answer for idleTimeoutMs closes the connection (so a request's
 * headers must be complete within that of the last answer).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import { Clock } from '../../common/clock';
import { RateLimiter } from '../../common/rate-limiter';
import { Timer, Timers } from '../../common/timers';
import { ClientIdentity } from '../../domain/policy/identity';
import { RunItem } from '../../protocol/kmip/kmip-batch-executor';
import { encodeKmipBody, decodeKmipBody, encodingOfContentType, KMIP_CONTENT_TYPES, KMIP_HTTP_PATH, KMIP_MAX_BODY_BYTES, KmipHttpEncoding } from '../../protocol/kmip/kmip-http';
import { encodeResponse } from '../../protocol/kmip/kmip-message-encoder';
import { wipeByteStrings } from '../../protocol/kmip/ttlv';
import { drainSocket } from '../tls/connection';
import { KMIP_MAX_QUEUED_MESSAGES } from './kmip-connection';
import { answerMessage } from './kmip-message-answer';

export interface KmipHttpsConnectionOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly idleTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly rateLimiter: RateLimiter;
  readonly runItem: RunItem;
  readonly onInternalError: (err: unknown) => void;
}

const ACCEPTED_TYPES = Object.values(KMIP_CONTENT_TYPES).join(', ');

export class KmipHttpsConnection {
  /**
   * Restarted when a request's headers are in, as its body arrives and when
   * an answer is sent. The HTTP parser reads the socket itself (no 'data'
   * event reaches us), so headers sent byte by byte do not restart it: they
   * must be complete within idleTimeoutMs of the last answer.
   */
  private readonly idleTimer: Timer | null;
  /** Armed when a request's headers are in, cancelled once its body is: a body left half-sent is cut off. */
  private frameTimer: Timer | null = null;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;
  private draining = false;

  constructor(private readonly socket: TLSSocket, readonly identity: ClientIdentity, private readonly options: KmipHttpsConnectionOptions) {
    this.idleTimer = options.idleTimeoutMs > 0 ? options.timers.after(options.idleTimeoutMs, () => this.destroy()) : null;
    socket.on('close', () => this.cleanup());
    socket.on('error', () => this.destroy());
  }

  destroy(): void {
    this.cleanup();
    this.socket.destroy();
  }

  /** Stops taking requests, answers those already read, then ends; resolves once the socket is closed. */
  async drain(): Promise<void> {
    this.draining = true;
    await drainSocket(this.socket, () => this.queue, { isClosed: () => this.closed, cleanup: () => this.cleanup() }, this.options.timers);
  }

  /** One HTTP request on this connection (the wire's HTTP server hands it over). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.idleTimer?.restart();
    this.frameTimer?.cancel();
    this.frameTimer = this.options.timers.after(this.options.frameTimeoutMs, () => this.destroy());
    req.on('end', () => this.bodyIn());
    if (this.closed || this.draining) return refuse(res, 503, 'the server is shutting down; retry on a new connection', true);
    const path = (req.url ?? '/').split('?')[0];
    if (path !== KMIP_HTTP_PATH) return refuse(res, 404, `not found: KMIP is served at POST ${KMIP_HTTP_PATH}`);
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return refuse(res, 405, `${KMIP_HTTP_PATH} answers POST only (a KMIP request message as the body)`);
    }
    const encoding = encodingOfContentType(req.headers['content-type']);
    if (encoding === null) return refuse(res, 415, `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '(none)')} is not a KMIP encoding served here: use one of ${ACCEPTED_TYPES}`);
    const max = KMIP_MAX_BODY_BYTES[encoding];
    const declared = req.headers['content-length'];
    // Refused before a byte of the body is read; the connection closes (the body is not read to find the next request).
    if (declared !== undefined && Number(declared) > max) return refuse(res, 413, `a ${encoding.toUpperCase()} request message is at most ${max} bytes; this one declares ${declared}`, true);
    this.readBody(req, res, encoding, max);
  }

  private readBody(req: IncomingMessage, res: ServerResponse, encoding: KmipHttpEncoding, max: number): void {
    const chunks: Buffer[] = [];
    let length = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      this.idleTimer?.restart();
      if (refused) return void chunk.fill(0);
      length += chunk.length;
      chunks.push(chunk);
      if (length > max) {
        refused = true;
        for (const held of chunks) held.fill(0);
        chunks.length = 0;
        refuse(res, 413, `a ${encoding.toUpperCase()} request message is at most ${max} bytes`, true);
      }
    });
    req.on('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (chunks.length > 1) for (const chunk of chunks) chunk.fill(0);
      this.enqueue(body, encoding, res);
    });
  }

  private bodyIn(): void {
    this.frameTimer?.cancel();
    this.frameTimer = null;
  }

  private enqueue(body: Buffer, encoding: KmipHttpEncoding, res: ServerResponse): void {
    this.queued++;
    if (this.queued >= KMIP_MAX_QUEUED_MESSAGES) this.socket.pause();
    this.queue = this.queue
      .then(() => this.answer(body, encoding, res))
      .catch((err: unknown) => {
        // A fault of ours, not the client's: logged, answered 500 without detail, and the connection closed.
        this.options.onInternalError(err);
        if (!res.headersSent && !this.closed) refuse(res, 500, 'internal error; see the server log', true);
        else this.destroy();
      })
      .finally(() => {
        body.fill(0);
        this.queued--;
        if (!this.closed && !this.draining && this.queued < KMIP_MAX_QUEUED_MESSAGES) this.socket.resume();
      });
  }

  private async answer(body: Buffer, encoding: KmipHttpEncoding, res: ServerResponse): Promise<void> {
    if (this.closed) return;
    const now = (): bigint => BigInt(Math.floor(this.options.clock.nowMs() / 1000));
    const response = await answerMessage(() => decodeKmipBody(encoding, body), { identity: this.identity, rateLimiter: this.options.rateLimiter, runItem: this.options.runItem, now });
    let bytes: Buffer;
    try {
      bytes = encodeKmipBody(encoding, encodeResponse(response));
    } finally {
      for (const item of response.batchItems) wipeByteStrings(item.responsePayload);
    }
    if (this.closed) return void bytes.fill(0);
    this.idleTimer?.restart();
    res.writeHead(200, { 'Content-Type': KMIP_CONTENT_TYPES[encoding], 'Content-Length': bytes.length, 'Cache-Control': 'no-store' });
    res.end(bytes, () => bytes.fill(0));
  }

  private cleanup(): void {
    this.closed = true;
    this.idleTimer?.cancel();
    this.frameTimer?.cancel();
    this.frameTimer = null;
  }
}

/** An HTTP refusal with a line of text saying why; `close`: the connection ends after it. */
function refuse(res: ServerResponse, status: number, text: string, close = false): void {
  if (res.headersSent) return;
  const body = `${text}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...(close ? { Connection: 'close' } : {}) });
  res.end(body);
}
