/**
 * A subscriber of the appliance's live event stream (docs/protocol.md §8):
 * a WebSocket over mutual TLS to wss://host:events_port/events with an
 * officer's or auditor's certificate. open() resolves once the server has
 * recorded the subscription and sent `subscribed`; read() then yields the
 * events in the order the server sent them.
 *
 * Memory is bounded on this side too: past MAX_QUEUED_EVENTS unread events
 * the socket is paused (TCP back-pressure), and the server, not this
 * process, decides when a subscriber that reads too slowly is dropped.
 *
 * One reader at a time: read() is not meant to be called again before the
 * previous call has settled.
 *
 * Failures are StrongroomClientErrors with the codes of common/error-codes:
 * a refused upgrade carries the server's code (UNAUTHENTICATED,
 * PERMISSION_DENIED, INVALID_ARGUMENT, SERVER_BUSY); a close the subscriber
 * did not ask for maps its close code (SUBSCRIBER_TOO_SLOW, UNAUTHENTICATED
 * after a revocation, UNAVAILABLE when the server goes away).
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { ClientOptions, WebSocket } from 'ws';
import { CLOSE_CODES, errorCodeOfClose, errorCodeOfStatus, EVENTS_PATH, FilterView, SubscribedMessage } from '../protocol/event-wire';
import { invalidArgument, socketErrorCode, StrongroomClientError, unavailable } from './client-error';
import { DEFAULT_CONNECT_TIMEOUT_MS, MAX_TIMEOUT_MS } from './options';

/** Unread events kept before the socket is paused. */
export const MAX_QUEUED_EVENTS = 10_000;
/** Largest event message accepted (an audit line is well under 64 KiB). */
export const MAX_EVENT_MESSAGE_BYTES = 1024 * 1024;
/** Largest refusal body read from a refused upgrade. */
const MAX_REFUSAL_BODY_BYTES = 4096;

export interface EventFilterOptions {
  /** Event kinds: `audit`, `approval`, `rollover-notice` (default: all). */
  readonly types?: readonly string[];
  /** Audit event types (`operation`, `auth-failure`, `events-subscribe`, …; default: all). */
  readonly auditTypes?: readonly string[];
  /** Key namespaces (default: all, and events about no key). */
  readonly namespaces?: readonly string[];
}

export interface EventStreamOptions extends EventFilterOptions {
  readonly host: string;
  /** The event stream's port (events_port, default 5701). */
  readonly port: number;
  readonly ca: string | Buffer;
  /** An officer's or auditor's certificate and key (without them the server refuses: UNAUTHENTICATED). */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly servername?: string;
  readonly connectTimeoutMs?: number;
}

/** One event as sent: `kind` is `audit`, `approval` or `rollover-notice` (a newer server may add kinds). */
export interface StreamEvent {
  readonly kind: string;
  readonly [field: string]: unknown;
}

export type StreamRead =
  | { readonly type: 'event'; readonly event: StreamEvent }
  | { readonly type: 'timeout' }
  /** The stream ended: `error` is null when this side closed it. */
  | { readonly type: 'end'; readonly error: StrongroomClientError | null };

function queryOf(filter: EventFilterOptions): string {
  const params = new URLSearchParams();
  if (filter.types !== undefined) params.set('types', filter.types.join(','));
  if (filter.auditTypes !== undefined) params.set('auditTypes', filter.auditTypes.join(','));
  if (filter.namespaces !== undefined) params.set('namespaces', filter.namespaces.join(','));
  const query = params.toString();
  return query === '' ? '' : `?${query}`;
}

function readRefusal(res: IncomingMessage): Promise<StrongroomClientError> {
  return new Promise((resolve) => {
    let body = '';
    const done = (): void => {
      let code = errorCodeOfStatus(res.statusCode ?? 0);
      let message = `the event stream refused the subscription (HTTP ${res.statusCode})`;
      try {
        const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
        if (typeof parsed.error?.code === 'string' && /^[A-Z_]{1,64}$/.test(parsed.error.code)) code = parsed.error.code;
        if (typeof parsed.error?.message === 'string') message = parsed.error.message.slice(0, 512);
      } catch {
        // not our JSON body: the status alone says it
      }
      resolve(new StrongroomClientError(code, message, { details: { httpStatus: res.statusCode ?? 0 } }));
    };
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_REFUSAL_BODY_BYTES) res.destroy();
    });
    res.on('end', done);
    res.on('close', done);
    res.on('error', done);
  });
}

export class EventStream {
  private readonly queue: StreamEvent[] = [];
  private waiter: (() => void) | null = null;
  private ended: { error: StrongroomClientError | null } | null = null;
  private closedByUs = false;
  private paused = false;
  private readonly closed: Promise<void>;
  private subscribedWaiter: { resolve: (message: SubscribedMessage) => void; reject: (err: StrongroomClientError) => void } | null = null;

  private constructor(private readonly ws: WebSocket, public subscription: SubscribedMessage) {
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => {
      const error = this.closedByUs && (code === CLOSE_CODES.NORMAL || code === 1005) ? null : new StrongroomClientError(errorCodeOfClose(code), reason.toString('utf8') || `the event stream closed (code ${code})`, { details: { closeCode: code } });
      this.end(error);
    });
    ws.on('error', () => undefined); // the close event follows with the code
  }

  /** Connects, subscribes and waits for the server's `subscribed` message. */
  static open(options: EventStreamOptions): Promise<EventStream> {
    if (typeof options.host !== 'string' || options.host.length === 0) throw invalidArgument('host must be a non-empty string', 'host');
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) throw invalidArgument('port must be an integer from 1 to 65535', 'port');
    if ((options.cert === undefined) !== (options.key === undefined)) throw invalidArgument('cert and key go together', options.cert === undefined ? 'cert' : 'key');
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) throw invalidArgument(`connectTimeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`, 'connectTimeoutMs');
    const host = isIP(options.host) === 6 ? `[${options.host}]` : options.host;
    // ws hands the TLS fields to tls.connect; its types omit servername and minVersion.
    const tlsAndWs: ClientOptions & Pick<ConnectionOptions, 'servername' | 'minVersion'> = {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      servername: options.servername ?? (isIP(options.host) === 0 ? options.host : undefined),
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      perMessageDeflate: false,
      maxPayload: MAX_EVENT_MESSAGE_BYTES,
      handshakeTimeout: timeoutMs,
    };
    const ws = new WebSocket(`wss://${host}:${options.port}${EVENTS_PATH}${queryOf(options)}`, tlsAndWs);
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: StrongroomClientError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      const timer = setTimeout(() => fail(unavailable('the event stream did not confirm the subscription in time', { errorCode: 'CONNECT_TIMEOUT', timeoutMs })), timeoutMs);
      ws.once('unexpected-response', (_req, res: IncomingMessage) => void readRefusal(res).then(fail));
      ws.once('error', (err) => fail(unavailable('could not connect to the event stream', { errorCode: socketErrorCode(err, 'SOCKET_ERROR') }, err)));
      ws.once('close', (code: number, reason: Buffer) => fail(new StrongroomClientError(errorCodeOfClose(code), reason.toString('utf8') || 'the event stream closed before the subscription was confirmed', { details: { closeCode: code } })));
      ws.once('message', (data: Buffer) => {
        let message: SubscribedMessage;
        try {
          message = JSON.parse(data.toString('utf8')) as SubscribedMessage;
        } catch {
          fail(unavailable('the event stream sent something that is not JSON', { errorCode: 'BAD_MESSAGE' }));
          return;
        }
        if (message?.kind !== 'subscribed') {
          fail(unavailable('the event stream did not start with "subscribed"', { errorCode: 'BAD_MESSAGE' }));
          return;
        }
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.removeAllListeners('close');
        ws.removeAllListeners('error');
        ws.removeAllListeners('unexpected-response');
        resolve(new EventStream(ws, message));
      });
    });
  }

  get filter(): FilterView {
    return this.subscription.filter;
  }

  /** Replaces the filter; resolves with the server's confirmation. */
  subscribe(filter: EventFilterOptions, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<SubscribedMessage> {
    if (this.ended !== null) return Promise.reject(this.ended.error ?? unavailable('the event stream is closed', { errorCode: 'CLOSED' }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.subscribedWaiter = null;
        reject(unavailable('the event stream did not confirm the new filter in time', { errorCode: 'SUBSCRIBE_TIMEOUT', timeoutMs }));
      }, timeoutMs);
      this.subscribedWaiter = {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.ws.send(JSON.stringify({ op: 'subscribe', types: filter.types ?? null, auditTypes: filter.auditTypes ?? null, namespaces: filter.namespaces ?? null }));
    });
  }

  /** The next event; `timeout` when none came within `timeoutMs`; `end` once the stream is over. */
  async read(timeoutMs: number): Promise<StreamRead> {
    if (this.queue.length === 0 && this.ended === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.waiter = null;
          resolve();
        }, Math.max(0, timeoutMs));
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        };
      });
    }
    const event = this.queue.shift();
    if (event !== undefined) {
      if (this.paused && this.queue.length < MAX_QUEUED_EVENTS / 2) {
        this.paused = false;
        this.ws.resume();
      }
      return { type: 'event', event };
    }
    if (this.ended !== null) return { type: 'end', error: this.ended.error };
    return { type: 'timeout' };
  }

  /** Ends the subscription (close code 1000). */
  async close(): Promise<void> {
    if (this.ended === null) {
      this.closedByUs = true;
      this.ws.close(CLOSE_CODES.NORMAL, 'done');
      const timer = setTimeout(() => this.ws.terminate(), 1000);
      await this.closed;
      clearTimeout(timer);
    }
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    let message: StreamEvent;
    try {
      if (isBinary) throw new Error('binary');
      message = JSON.parse(data.toString('utf8')) as StreamEvent;
      if (message === null || typeof message !== 'object' || typeof message.kind !== 'string') throw new Error('no kind');
    } catch {
      this.ws.terminate();
      this.end(unavailable('the event stream sent a message that is not a JSON event', { errorCode: 'BAD_MESSAGE' }));
      return;
    }
    if (message.kind === 'subscribed') {
      this.subscription = message as unknown as SubscribedMessage;
      this.subscribedWaiter?.resolve(this.subscription);
      this.subscribedWaiter = null;
      return;
    }
    this.queue.push(message);
    if (this.queue.length >= MAX_QUEUED_EVENTS && !this.paused) {
      this.paused = true;
      this.ws.pause();
    }
    this.waiter?.();
  }

  private end(error: StrongroomClientError | null): void {
    if (this.ended !== null) return;
    this.ended = { error };
    this.subscribedWaiter?.reject(error ?? unavailable('the event stream is closed', { errorCode: 'CLOSED' }));
    this.subscribedWaiter = null;
    this.waiter?.();
  }
}
