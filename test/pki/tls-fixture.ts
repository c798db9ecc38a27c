/**
 * Real node:tls sockets on 127.0.0.1 for the PKI tests: a server that records
 * what it saw of each connection, and a client that reports how its side
 * ended. Every wait is bounded; `close()` destroys every socket and the server.
 */
import net from 'node:net';
import tls from 'node:tls';

/** Upper bound on any handshake or close in these tests: local handshakes take milliseconds. */
export const WAIT_MS = 5000;

export interface ServerSeen {
  /** 'secureConnection' fired: the socket passed (or, with rejectUnauthorized false, skipped) client verification. */
  secure: Array<{ authorized: boolean; authorizationError: string | null; peerRaw: Buffer | null; peerCn: string | null; protocol: string | null }>;
  /** 'tlsClientError' fired: OpenSSL aborted the handshake. */
  clientErrors: Array<{ code: string | null; message: string }>;
}

export interface TestServer {
  readonly port: number;
  readonly seen: ServerSeen;
  close(): Promise<void>;
}

export function withTimeout<T>(work: Promise<T>, label: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Starts a TLS server on 127.0.0.1:0 that greets every secure connection with "ok". */
export async function startServer(options: tls.TlsOptions): Promise<TestServer> {
  const seen: ServerSeen = { secure: [], clientErrors: [] };
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(options, (socket) => {
    const peer = socket.getPeerCertificate();
    const hasPeer = peer !== null && Object.keys(peer).length > 0;
    seen.secure.push({
      authorized: socket.authorized,
      authorizationError: socket.authorizationError === undefined ? null : String(socket.authorizationError),
      peerRaw: hasPeer ? peer.raw : null,
      peerCn: hasPeer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : null,
      protocol: socket.getProtocol(),
    });
    socket.on('error', () => undefined);
    socket.end('ok');
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (err: Error & { code?: string }) => {
    seen.clientErrors.push({ code: err.code ?? null, message: err.message });
  });
  await withTimeout(new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  }), 'listen');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    seen,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 'server close');
    },
  };
}

export interface ClientResult {
  /** The client finished its handshake (in TLS 1.3 this happens before the server has checked the client). */
  secureConnect: boolean;
  /** What the server sent before the connection ended: "ok" only when the server accepted us. */
  received: string;
  protocol: string | null;
  errorCode: string | null;
}

/** Connects to 127.0.0.1:port and waits (bounded) until the connection has fully closed. */
export function connectClient(port: number, options: tls.ConnectionOptions): Promise<ClientResult> {
  const result: ClientResult = { secureConnect: false, received: '', protocol: null, errorCode: null };
  const socket = tls.connect({ host: '127.0.0.1', port, ...options });
  const done = new Promise<ClientResult>((resolve) => {
    socket.on('secureConnect', () => {
      result.secureConnect = true;
      result.protocol = socket.getProtocol();
    });
    socket.on('data', (chunk: Buffer) => {
      result.received += chunk.toString('utf8');
    });
    socket.on('error', (err: Error & { code?: string }) => {
      result.errorCode ??= err.code ?? err.message;
    });
    socket.on('close', () => resolve(result));
  });
  return withTimeout(done, 'client connection').finally(() => socket.destroy());
}
