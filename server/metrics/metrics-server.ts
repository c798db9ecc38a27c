/**
 * The metrics listener: `GET /metrics` answers the Prometheus text format on
 * its own address and port (metrics_address, default loopback, and
 * metrics_port), apart from the key server so that scraping never competes
 * with a client's connection slots and can be firewalled on its own.
 *
 * Plain HTTP by default (loopback: who can reach it is on the machine). With
 * metrics_tls = on it is HTTPS with the appliance's TLS settings
 * (createMutualTlsServer): the server certificate, and a client certificate
 * from the appliance CA naming a client that is not revoked, checked with
 * the same identifyPeer as the other listeners. A peer without one gets a
 * fixed 401 right after the handshake, before any byte it sent is parsed,
 * and is recorded like every refused connection. Any role may scrape: a
 * dedicated `app` client with no grants can do nothing else.
 */
import { createServer as createHttpServer, IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Server as TlsServer, TLSSocket } from 'node:tls';
import { Timers } from '../../common/timers';
import { ClientIdentity } from '../../domain/policy/identity';
import { endThenDestroy } from '../tls/connection';
import { createMutualTlsServer, listenOn, secureContextOptions, TlsIdentityPem } from '../tls/listen';
import { identifyPeer, PeerRefusal } from '../tls/peer-identity';
import { CONTENT_TYPE } from './prometheus-text';

export const METRICS_PATH = '/metrics';
/** Scrapers are few (a Prometheus or two, an operator's curl): beyond this many open sockets, Node drops new connections. */
const MAX_CONNECTIONS = 16;
/** A request must arrive within this, and a socket idle this long is closed (a scrape is one short GET). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface MetricsTls {
  readonly certificatePem: string;
  /** Zeroed once node:tls has it. */
  readonly privateKeyPem: Buffer;
  readonly caPem: string;
  readonly handshakeTimeoutMs: number;
  readonly resolveIdentity: (fingerprint256: string) => ClientIdentity | null;
  readonly onAuthFailure: (info: PeerRefusal) => void;
}

export interface MetricsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly timers: Timers;
  /** The page; called once per scrape. */
  readonly render: () => string;
  /** Mutual TLS, or null for plain HTTP. */
  readonly tls: MetricsTls | null;
  readonly onInternalError: (err: unknown) => void;
}

export class MetricsServer {
  private readonly http: HttpServer;
  /** The TLS server in front of `http` when mutual TLS is on (http then never listens itself). */
  private readonly tls: TlsServer | null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: MetricsServerOptions) {
    this.http = createHttpServer({ maxHeaderSize: 8192, requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS });
    this.http.on('request', (req: IncomingMessage, res: ServerResponse) => this.answer(req, res));
    this.http.on('clientError', (_err, socket: Socket) => socket.destroy());
    // Set on every socket the HTTP server handles, the ones the TLS server hands it too (its
    // request timeouts are checked only on a server that listens itself): with no 'timeout'
    // listener, Node destroys a socket idle this long.
    this.http.timeout = REQUEST_TIMEOUT_MS;
    const tls = options.tls;
    if (tls === null) {
      this.tls = null;
      this.http.maxConnections = MAX_CONNECTIONS;
      this.track(this.http);
      return;
    }
    // Certificates are checked after the handshake (identifyPeer), so that every refusal is recorded, as the event stream does.
    this.tls = createMutualTlsServer({ host: options.host, port: options.port, ...tls }, false);
    this.tls.maxConnections = MAX_CONNECTIONS;
    this.track(this.tls);
    this.tls.on('secureConnection', (socket: TLSSocket) => this.accept(socket, tls));
    this.tls.on('tlsClientError', (err, socket) => {
      tls.onAuthFailure({ source: socket.remoteAddress ?? null, fingerprint256: null, subject: null, reason: `TLS: ${(err as NodeJS.ErrnoException).code ?? err.message}` });
      socket.destroy();
    });
  }

  /** A renewed server certificate, for new scrapes over mutual TLS (plain HTTP has none). */
  renewCredentials(identity: TlsIdentityPem): void {
    this.tls?.setSecureContext(secureContextOptions(identity));
  }

  listen(): Promise<number> {
    return listenOn(this.tls ?? this.http, this.options.host, this.options.port, { name: 'for metrics ', settings: 'metrics_address or metrics_port' });
  }

  async close(): Promise<void> {
    const server = this.tls ?? this.http;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A scrape is read-only: nothing in flight needs to finish.
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private track(server: HttpServer | TlsServer): void {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  private accept(socket: TLSSocket, tls: MetricsTls): void {
    // A reset after the handshake (a refused peer leaving) must not become an uncaught error.
    socket.on('error', () => socket.destroy());
    const check = identifyPeer(socket, tls.resolveIdentity);
    if (!check.ok) {
      tls.onAuthFailure(check.refusal);
      const message = check.tlsVerified ? 'this certificate is unknown to the appliance or revoked' : 'no valid client certificate from the appliance CA (missing, from another CA, expired or not yet valid)';
      endThenDestroy(socket, plainResponse(401, `UNAUTHENTICATED: ${message}\n`), this.options.timers);
      return;
    }
    this.http.emit('connection', socket);
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH) return send(res, 404, `not found: metrics are at ${METRICS_PATH}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, `${METRICS_PATH} answers GET and HEAD\n`);
    }
    let page: string;
    try {
      page = this.options.render();
    } catch (err) {
      this.options.onInternalError(err);
      return send(res, 500, 'the metrics could not be read; see the server log\n');
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(page), 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : page);
  }
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A whole HTTP response for a socket the HTTP parser never sees (a refused peer). */
function plainResponse(status: 401, text: string): Buffer {
  return Buffer.from(`HTTP/1.1 ${status} Unauthorized\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}
