/**
 * The live event stream's listener (docs/protocol.md §8): WebSocket over
 * mutual TLS on its own port, same CA, server certificate, TLS versions and
 * ciphers as the native protocol. Officers and auditors subscribe to audit
 * events, approval requests and rollover notices, filtered by kind, audit
 * type and namespace.
 *
 * Who may connect is decided in two steps, each before any work for the
 * peer: a certificate the TLS stack does not verify (none, another CA's,
 * expired) gets a fixed HTTP 401 right after the handshake and the socket
 * ends, without a byte it sent being parsed; a verified certificate that names no active client, or an
 * app's, gets an HTTP 401 / 403 to its upgrade request. Both are recorded as
 * auth-failure audit events. (rejectUnauthorized is false at the TLS layer
 * only so that the first kind of refusal reaches us to be recorded: Node's
 * own rejection destroys the socket without telling the server; the check
 * here is the same one Node makes, on `socket.authorized`.)
 *
 * Resources are bounded: max_event_subscribers, a handshake deadline for the
 * upgrade request, event_buffer_bytes per subscriber, ping keepalive. All
 * timers are the injected ones (unref'd); close() ends every stream within a
 * short grace.
 */
import { createServer as createHttpServer, IncomingMessage, Server as HttpServer, ServerResponse, STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';
import { Server as TlsServer, TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { Clock } from '../../common/clock';
import { Timer, Timers } from '../../common/timers';
import { StrongroomError } from '../../common/errors';
import { AuditEvent } from '../../domain/audit/audit-event';
import { EventBus, LiveEvent } from '../../domain/events/event-bus';
import { endThenDestroy } from '../tls/connection';
import { createMutualTlsServer, listenOn, secureContextOptions, TlsIdentityPem, TlsListenerOptions } from '../tls/listen';
import { closeAtCertificateExpiry, identifyPeer, PeerCheck, PeerRefusal } from '../tls/peer-identity';
import { ClientIdentity } from '../../domain/policy/identity';
import { EventFilter, filterFromQuery } from './event-filter';
import { CLOSE_CODES, encodeLiveEvent, encodeRefusalBody, EVENTS_PATH, HTTP_STATUS_OF_CODE, MAX_CLIENT_MESSAGE_BYTES } from '../../protocol/event-wire';
import { CloseCause, Subscriber } from './subscriber';
import { subscriptionEvent } from './subscription-audit';

/** How long close() lets subscribers answer the close frame before it destroys their sockets. */
export const SHUTDOWN_GRACE_MS = 500;

/** `handshakeTimeoutMs` bounds the TLS handshake and, after it, the wait for the upgrade request. */
export interface EventServerOptions extends TlsListenerOptions {
  readonly maxSubscribers: number;
  readonly maxBufferedBytes: number;
  readonly pingIntervalMs: number;
  readonly clock: Clock;
  readonly timers: Timers;
  /** Subscription ids and their audit events' ids. */
  readonly newId: () => string;
  readonly bus: EventBus;
  readonly resolveIdentity: (fingerprint256: string) => ClientIdentity | null;
  readonly onAuthFailure: (refusal: PeerRefusal) => void;
  /** Appends an audit event; resolves once durable. */
  readonly recordAudit: (event: AuditEvent) => Promise<void>;
  readonly onInternalError?: (err: unknown) => void;
}

export interface EventServerStats {
  readonly subscribers: number;
  /** Subscribers dropped because they did not read (close code 4408), since start. */
  readonly droppedSlow: number;
}

export class EventServer {
  private readonly tls: TlsServer;
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly subscribers = new Set<Subscriber>();
  private readonly sockets = new Set<Socket>();
  /** The peer check of each TLS socket, made once at the handshake and read at the upgrade. */
  private readonly peers = new WeakMap<Socket, PeerCheck>();
  /** The deadline for each handshaken socket's upgrade request. */
  private readonly deadlines = new WeakMap<Socket, Timer>();
  private readonly audits = new Set<Promise<void>>();
  private unsubscribeBus: (() => void) | null = null;
  private readonly pinger: Timer;
  private closing = false;
  /** Told when the last subscriber has gone (close() waits for it). */
  private onEmpty: (() => void) | null = null;
  private droppedSlow = 0;

  constructor(private readonly options: EventServerOptions) {
    // Certificates are checked in accept() instead, so that every refusal is recorded (see the docblock).
    this.tls = createMutualTlsServer(options, false);
    this.tls.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.tls.on('secureConnection', (socket: TLSSocket) => this.accept(socket));
    this.tls.on('tlsClientError', (err, socket) => {
      this.options.onAuthFailure({ source: socket.remoteAddress ?? null, fingerprint256: null, subject: null, reason: `TLS: ${(err as NodeJS.ErrnoException).code ?? err.message}` });
      socket.destroy();
    });
    // Never listens: it parses HTTP only on sockets accept() hands it.
    this.http = createHttpServer({ maxHeaderSize: 8192 });
    this.http.on('request', (req: IncomingMessage, res: ServerResponse) => this.answerPlainRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket as TLSSocket, head));
    this.http.on('clientError', (_err, socket: Socket) => socket.destroy());
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
    this.pinger = options.timers.every(options.pingIntervalMs, () => {
      for (const subscriber of this.subscribers) subscriber.ping();
    });
  }

  /** A renewed server certificate: new handshakes get it; open connections keep the one they began with. */
  renewCredentials(identity: TlsIdentityPem): void {
    this.tls.setSecureContext(secureContextOptions(identity));
  }

  listen(): Promise<number> {
    return listenOn(this.tls, this.options.host, this.options.port, { name: 'for the event stream ', settings: 'events_address or events_port' });
  }

  get stats(): EventServerStats {
    return { subscribers: this.subscribers.size, droppedSlow: this.droppedSlow };
  }

  /** Ends the streams of `clientName` (after its revocation). */
  disconnectClient(clientName: string): void {
    for (const subscriber of this.subscribers) {
      if (subscriber.identity.name === clientName) subscriber.close(CLOSE_CODES.UNAUTHENTICATED, 'UNAUTHENTICATED', 'the client was revoked');
    }
  }

  /** Ends the streams of clients no longer valid (revoked by another process). */
  recheckClients(): void {
    for (const subscriber of this.subscribers) {
      if (this.options.resolveIdentity(subscriber.identity.fingerprint256) === null) subscriber.close(CLOSE_CODES.UNAUTHENTICATED, 'UNAUTHENTICATED', 'the client was revoked');
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.pinger.cancel();
    const closed = new Promise<void>((resolve) => this.tls.close(() => resolve()));
    for (const subscriber of this.subscribers) subscriber.close(CLOSE_CODES.GOING_AWAY, 'SERVER_BUSY', 'the server is shutting down');
    await this.whenNoSubscribers(SHUTDOWN_GRACE_MS);
    for (const subscriber of this.subscribers) subscriber.terminate();
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.detachBus();
    // The close events of the streams just ended reach the trail before the store can be closed.
    await Promise.allSettled([...this.audits]);
  }

  /** Resolves when every subscriber has closed, or after `ms`. */
  private whenNoSubscribers(ms: number): Promise<void> {
    if (this.subscribers.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        deadline.cancel();
        this.onEmpty = null;
        resolve();
      };
      const deadline = this.options.timers.after(ms, done);
      this.onEmpty = done;
    });
  }

  private accept(socket: TLSSocket): void {
    // A reset after the handshake (a refused peer leaving) must not become an uncaught error.
    socket.on('error', () => socket.destroy());
    const check = identifyPeer(socket, this.options.resolveIdentity);
    if (!check.ok && !check.tlsVerified) {
      // Not from the appliance CA, expired, or no certificate: nothing it sends is read; it gets a fixed 401 and the socket ends.
      this.options.onAuthFailure(check.refusal);
      this.refuse(socket, 'UNAUTHENTICATED', 'no valid client certificate from the appliance CA (missing, from another CA, expired or not yet valid)');
      return;
    }
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.peers.set(socket, check);
    // The upgrade request must follow the handshake promptly.
    const deadline = this.options.timers.after(this.options.handshakeTimeoutMs, () => {
      // A peer refused at its upgrade is recorded then; one that never asks is recorded here.
      if (!check.ok) this.options.onAuthFailure(check.refusal);
      socket.destroy();
    });
    socket.once('close', () => deadline.cancel());
    this.deadlines.set(socket, deadline);
    this.http.emit('connection', socket);
  }

  private answerPlainRequest(req: IncomingMessage, res: ServerResponse): void {
    const body = encodeRefusalBody('INVALID_REQUEST', `this is the event stream: open a WebSocket to wss://host:port${EVENTS_PATH}`);
    res.writeHead(426, { 'Content-Type': 'application/json', Connection: 'close', Upgrade: 'websocket' });
    res.end(body);
    req.socket.end();
  }

  private upgrade(req: IncomingMessage, socket: TLSSocket, head: Buffer): void {
    this.deadlines.get(socket)?.cancel();
    const check = this.peers.get(socket);
    if (check === undefined) {
      socket.destroy();
      return;
    }
    if (!check.ok) {
      this.options.onAuthFailure(check.refusal);
      this.refuse(socket, 'UNAUTHENTICATED', 'this certificate is unknown to the appliance or revoked');
      return;
    }
    const { identity } = check;
    if (identity.role !== 'officer' && identity.role !== 'auditor') {
      this.options.onAuthFailure({ source: socket.remoteAddress ?? null, fingerprint256: identity.fingerprint256, subject: identity.subject, reason: `PERMISSION_DENIED: the event stream is for officers and auditors; "${identity.name}" is an app` });
      this.refuse(socket, 'PERMISSION_DENIED', `the event stream is for officers and auditors; "${identity.name}" is an app`);
      return;
    }
    const url = new URL(req.url ?? '/', 'wss://appliance');
    if (url.pathname !== EVENTS_PATH) {
      this.refuse(socket, 'INVALID_REQUEST', `no such endpoint ${url.pathname.slice(0, 64)}: the event stream is at ${EVENTS_PATH}`);
      return;
    }
    let filter: EventFilter;
    try {
      filter = filterFromQuery(url.searchParams);
    } catch (err) {
      this.refuse(socket, 'INVALID_ARGUMENT', (err as StrongroomError).message);
      return;
    }
    if (this.closing) {
      this.refuse(socket, 'SERVER_BUSY', 'the server is shutting down');
      return;
    }
    if (this.subscribers.size >= this.options.maxSubscribers) {
      this.refuse(socket, 'SERVER_BUSY', `the event stream already has ${this.subscribers.size} subscribers (max_event_subscribers); retry later`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, socket, identity, check.validTo, filter));
  }

  private open(ws: WebSocket, socket: TLSSocket, identity: ClientIdentity, validTo: string, filter: EventFilter): void {
    const subscriber = new Subscriber(ws, this.options.newId(), identity, socket.remoteAddress ?? null, filter, {
      maxBufferedBytes: this.options.maxBufferedBytes,
      timers: this.options.timers,
      onClosed: (closed, cause) => this.onSubscriberClosed(closed, cause),
    });
    this.subscribers.add(subscriber);
    this.attachBus();
    closeAtCertificateExpiry(socket, validTo, this.options, () => subscriber.close(CLOSE_CODES.UNAUTHENTICATED, 'UNAUTHENTICATED', 'the client certificate expired'));
    // Events flow only once the subscription is in the trail; if it cannot be written, no stream (fail closed).
    this.track(this.options.recordAudit(subscriptionEvent(this.options, subscriber, null))).then(
      () => subscriber.activate(),
      () => subscriber.close(CLOSE_CODES.AUDIT_UNAVAILABLE, 'AUDIT_UNAVAILABLE', 'the audit trail could not be written; no events are streamed'),
    );
  }

  private onSubscriberClosed(subscriber: Subscriber, cause: CloseCause): void {
    this.subscribers.delete(subscriber);
    if (cause.result === 'SUBSCRIBER_TOO_SLOW') this.droppedSlow++;
    if (this.subscribers.size === 0) {
      this.detachBus();
      this.onEmpty?.();
    }
    this.track(this.options.recordAudit(subscriptionEvent(this.options, subscriber, { ...cause, delivered: subscriber.delivered }))).catch((err: unknown) =>
      this.options.onInternalError?.(err),
    );
  }

  /** The bus is listened to only while someone subscribes: with no listener, durable audit records are not even parsed. */
  private attachBus(): void {
    if (this.unsubscribeBus !== null) return;
    this.unsubscribeBus = this.options.bus.subscribe((event) => this.publish(event));
  }

  private detachBus(): void {
    this.unsubscribeBus?.();
    this.unsubscribeBus = null;
  }

  private publish(event: LiveEvent): void {
    let text: string | null = null;
    const encode = (): string => (text ??= encodeLiveEvent(event));
    for (const subscriber of this.subscribers) subscriber.deliver(event, encode);
  }

  private track(pending: Promise<void>): Promise<void> {
    this.audits.add(pending);
    const forget = (): void => {
      this.audits.delete(pending);
    };
    pending.then(forget, forget);
    return pending;
  }

  private refuse(socket: Socket, code: string, message: string): void {
    const status = HTTP_STATUS_OF_CODE[code] ?? 400;
    const body = encodeRefusalBody(code, message);
    const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    endThenDestroy(socket, Buffer.from(head + body, 'utf8'), this.options.timers);
  }
}
