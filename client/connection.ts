/**
 * One TLS connection to the server (docs/protocol.md §1, §2, §4): frames
 * requests with the shared codec, matches pipelined responses to requests by
 * id (per-connection increasing integers), and fails as a unit: a socket
 * error, a close, an unreadable frame or a connection-ending error response
 * (FRAME_TOO_LARGE, UNAUTHENTICATED, SERVER_BUSY) rejects every request still
 * pending on it. The server answers in request order (§4), so any other
 * error whose id is null (RATE_LIMITED, FRAME_EMPTY, MALFORMED_REQUEST)
 * answers the oldest unanswered request. A response whose request was
 * abandoned (timed out) is dropped silently.
 *
 * Secrets: request frames are zeroed once the socket has taken them, response
 * payloads right after decoding. JSON text (a JS string) cannot be zeroed.
 */
import { connect, ConnectionOptions, TLSSocket } from 'node:tls';
import { encodeFrame, FrameDecoder, HARD_MAX_FRAME_BYTES } from '../protocol/frame-codec';
import { decodeResponse, DecodedResponse, WireError } from '../protocol/response';
import { ApprovalRequiredError, socketErrorCode, StrongroomClientError, unavailable } from './client-error';

/** How long a graceful end waits for the server's close before destroying the socket. */
export const END_GRACE_MS = 1_000;

export interface ResponseHandler {
  resolve(result: unknown): void;
  reject(err: StrongroomClientError): void;
}

export interface ConnectionEvents {
  /** A pending request got its response: a slot is free. */
  onSlotFree(conn: Connection): void;
  /** The first response arrived: the server is up and accepts this client. */
  onAnswered(conn: Connection): void;
  /** The connection is gone; all its pending requests have been rejected with `err`. */
  onClose(conn: Connection, err: StrongroomClientError, answered: boolean): void;
}

/** Error codes after which the server closes the connection (docs/protocol.md §7). */
const CONNECTION_ENDING: ReadonlySet<string> = new Set(['FRAME_TOO_LARGE', 'UNAUTHENTICATED', 'SERVER_BUSY']);

export function serverError(error: WireError): StrongroomClientError {
  if (error.code === 'APPROVAL_REQUIRED') return new ApprovalRequiredError(error.message, error.details ?? {});
  return new StrongroomClientError(error.code, error.message, { details: error.details });
}

/** Node's codes for a server certificate this client's CA does not vouch for (or that is not valid now). */
const UNTRUSTED_SERVER_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

/**
 * The message of a connection that failed: what to check, by cause. The code
 * stays UNAVAILABLE (details.errorCode has Node's): the server could not be
 * asked. A trust failure names the CA option, since a wrong `ca` is the
 * usual cause and "connection failed" alone sends one looking at the network.
 */
function connectionFailure(code: string, where: string): string {
  if (code === 'ECONNREFUSED') return `nothing listens at ${where}: is \`strongroom serve\` running there (check --server)?`;
  if (UNTRUSTED_SERVER_CODES.has(code)) {
    return `the server at ${where} presented a certificate the CA given here does not vouch for, or not valid now (${code}): check the CA (--ca, ca_file; the appliance's ca.pem) and that --server is the appliance`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the server at ${where} presented a certificate for another name (${code}): connect by a name or address in its server_sans`;
  return `connection to the server at ${where} failed (${code})`;
}

export class Connection {
  private readonly socket: TLSSocket;
  /** Responses may be as large as any server configuration allows; this bounds what a connection can make us buffer. */
  private readonly decoder = new FrameDecoder(HARD_MAX_FRAME_BYTES);
  private readonly pending = new Map<number, ResponseHandler>();
  /** Ids in the order sent and not yet answered, abandoned ones included: what an id-null error answers. */
  private readonly order: number[] = [];
  private nextId = 1;
  private closed = false;
  private ending = false;
  private answered = false;
  private secured = false;
  private timer: NodeJS.Timeout | null;
  private readonly closedPromise: Promise<void>;
  private markClosed!: () => void;

  constructor(tlsOptions: ConnectionOptions, connectTimeoutMs: number, private readonly events: ConnectionEvents) {
    this.closedPromise = new Promise((resolve) => (this.markClosed = resolve));
    this.timer = setTimeout(() => this.fail(unavailable('could not connect in time', { errorCode: 'CONNECT_TIMEOUT', timeoutMs: connectTimeoutMs })), connectTimeoutMs);
    this.socket = connect(tlsOptions);
    this.socket.setNoDelay(true);
    this.socket.on('secureConnect', () => {
      this.secured = true;
      this.clearTimer();
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const where = `${tlsOptions.host}:${tlsOptions.port}`;
    this.socket.on('error', (err) => {
      const code = socketErrorCode(err, 'SOCKET_ERROR');
      const message = connectionFailure(code, where);
      this.fail(unavailable(message, { errorCode: code }, err));
    });
    this.socket.on('close', () => {
      this.fail(unavailable('the server closed the connection', { errorCode: 'CONNECTION_CLOSED' }));
      this.markClosed();
    });
  }

  /** Requests sent and not yet answered, failed or abandoned. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * True once the TLS handshake finished. Until then the socket only buffers
   * what send() wrote: a connection that fails before it delivered no request
   * to the server, so the pool may send those requests elsewhere.
   */
  get reachedServer(): boolean {
    return this.secured;
  }

  /** False once the connection failed or is ending: no new requests go to it. */
  get usable(): boolean {
    return !this.closed && !this.ending;
  }

  /**
   * Sends one request; `body` is the request JSON without its id (`{"op":…}`).
   * Returns the id used. The socket buffers writes made before the handshake ends.
   */
  send(body: string, handler: ResponseHandler): number {
    const id = this.nextId++;
    const payload = Buffer.from(`{"id":${id},${body.slice(1)}`, 'utf8');
    const frame = encodeFrame(payload);
    payload.fill(0);
    this.pending.set(id, handler);
    this.order.push(id);
    this.socket.write(frame, () => frame.fill(0));
    return id;
  }

  /** Forgets a request (it timed out): its response, if it ever comes, is dropped. */
  abandon(id: number): void {
    this.pending.delete(id);
  }

  /** Graceful: half-closes now, destroys if the server has not closed within END_GRACE_MS. */
  end(): Promise<void> {
    if (!this.closed && !this.ending) {
      this.ending = true;
      this.clearTimer();
      this.timer = setTimeout(() => this.socket.destroy(), END_GRACE_MS);
      this.socket.end();
    }
    return this.closedPromise;
  }

  /** Immediately closes the socket; pending requests reject with `err`. Idempotent. */
  fail(err: StrongroomClientError): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    const handlers = [...this.pending.values()];
    this.pending.clear();
    this.socket.destroy();
    for (const handler of handlers) handler.reject(err);
    this.events.onClose(this, err, this.answered);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private onData(chunk: Buffer): void {
    let payloads: Buffer[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (err) {
      this.fail(unavailable('the server sent a frame the client cannot read', { errorCode: socketErrorCode(err, 'BAD_FRAME') }, err));
      return;
    }
    for (const payload of payloads) {
      if (this.closed) payload.fill(0);
      else this.onPayload(payload);
    }
  }

  private onPayload(payload: Buffer): void {
    let response: DecodedResponse;
    try {
      response = decodeResponse(payload);
    } catch (err) {
      this.fail(unavailable('the server sent a response the client cannot decode', { errorCode: 'MALFORMED_RESPONSE' }, err));
      return;
    } finally {
      payload.fill(0);
    }
    if (!this.answered) {
      this.answered = true;
      this.events.onAnswered(this);
    }
    if (response.id === null && response.error && !CONNECTION_ENDING.has(response.error.code)) {
      // Answers the oldest unanswered request (§4: responses come in request order).
      const oldest = this.order.shift();
      const handler = oldest === undefined ? undefined : this.pending.get(oldest);
      if (oldest === undefined || handler === undefined) return;
      this.pending.delete(oldest);
      handler.reject(serverError(response.error));
      this.events.onSlotFree(this);
      return;
    }
    if (response.id === null) {
      // A connection-ending error (§7): it concerns no one request, so all of them.
      const error = response.error ?? { code: 'MALFORMED_RESPONSE', message: 'a result without an id' };
      this.fail(response.error ? serverError(error) : unavailable(error.message, { errorCode: error.code }));
      return;
    }
    if (typeof response.id !== 'number') return;
    const at = this.order.indexOf(response.id);
    if (at >= 0) this.order.splice(0, at + 1);
    const handler = this.pending.get(response.id);
    if (handler === undefined) return;
    this.pending.delete(response.id);
    if (response.error) handler.reject(serverError(response.error));
    else handler.resolve(response.result);
    this.events.onSlotFree(this);
  }
}
