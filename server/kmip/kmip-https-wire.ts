/**
 * KMIP over HTTPS (docs/kmip.md §4.1) as one more wire of the mutual-TLS
 * listener (server/tls/key-server.ts): the same handshake, certificates,
 * client records, connection caps, refusal audit, revocation and
 * certificate-expiry cut-off as the TTLV port, and the same per-client rate
 * limit. Only a peer the key server has identified reaches the HTTP parser:
 * its socket is handed to an HTTP server that never listens itself, and each
 * request goes to the connection object that holds its identity
 * (kmip-https-connection.ts). A refused peer gets a whole HTTP response (401
 * or 503) with the reason, before anything it sent is parsed.
 */
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Wire } from '../tls/key-server';
import { KmipHttpsConnection } from './kmip-https-connection';
import { kmipItemRunner } from './kmip-item-runner';
import { KmipWireOptions } from './kmip-wire';

/** Headers larger than this are refused by the HTTP parser (431): a KMIP client sends a handful. */
const MAX_HEADER_BYTES = 8192;

export function kmipHttpsWire(options: KmipWireOptions): Wire {
  const connections = new WeakMap<Socket, KmipHttpsConnection>();
  // Timeouts are the connection's own (idle and frame timers on options.timers), as on the TTLV port.
  const http = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 });
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const connection = connections.get(req.socket);
    if (connection === undefined) return void req.socket.destroy(); // never: only identified sockets are handed over
    connection.handle(req, res);
  });
  // A request the parser cannot read (bad syntax, headers too large): a plain 400 or 431, then the socket closes.
  http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !socket.destroyed) socket.end(err.code === 'HPE_HEADER_OVERFLOW' ? plainResponse(431, 'Request Header Fields Too Large', 'request headers too large') : plainResponse(400, 'Bad Request', 'not an HTTP/1.1 request'));
    else socket.destroy();
  });
  return {
    name: 'for KMIP over HTTPS ',
    settings: 'listen_address or kmip_https_port',
    open: (socket, identity) => {
      const connection = new KmipHttpsConnection(socket, identity, {
        ...options,
        runItem: kmipItemRunner({
          dispatcher: options.dispatcher,
          operations: options.operations,
          identity,
          source: { transport: 'kmip', address: socket.remoteAddress ?? null },
          // The audit trail's requestId says which KMIP listener a request came over.
          newRequestId: () => `kmip-https-${options.newId()}`,
          onInternalError: options.onInternalError,
          nowMs: () => options.clock.nowMs(),
          newId: options.newId,
        }),
      });
      connections.set(socket, connection);
      http.emit('connection', socket);
      return connection;
    },
    refusal: (code, message) =>
      code === 'UNAUTHENTICATED' ? plainResponse(401, 'Unauthorized', `UNAUTHENTICATED: ${message}`) : plainResponse(503, 'Service Unavailable', `SERVER_BUSY: ${message}`),
  };
}

/** A whole HTTP response for a socket the HTTP parser does not (or no longer) serve. */
function plainResponse(status: number, phrase: string, text: string): Buffer {
  const body = `${text}\n`;
  return Buffer.from(`HTTP/1.1 ${status} ${phrase}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
