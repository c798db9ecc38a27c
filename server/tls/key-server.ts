/**
 * The native protocol's TLS listener (docs/protocol.md §1): TLS 1.2 minimum,
 * a client certificate from the appliance CA required, the certificate
 * mapped to a client record by its SHA-256 fingerprint. A certificate of
 * another CA, an expired, unknown or revoked one is refused right after the
 * handshake with UNAUTHENTICATED (and recorded with its fingerprint), before
 * any request is read; revoking a client
 * closes its open connections. Handshake, idle and half-sent-frame timeouts
 * and a connection cap keep a slow or hostile client from holding resources
 * that others need.
 */
import { Clock } from '../../common/clock';
import { Server, TLSSocket } from 'node:tls';
import { ProtocolError } from '../../protocol/protocol-error';
import { createMutualTlsServer, listenOn, secureContextOptions, TlsIdentityPem, TlsListenerOptions } from './listen';
import { encodeError } from '../../protocol/response';
import { closeAtCertificateExpiry, identifyPeer, PeerRefusal } from './peer-identity';
import { Connection, ConnectionOptions, endThenDestroy } from './connection';
import { ClientIdentity } from '../../domain/policy/identity';

/** How long close() lets in-flight requests finish before it cuts their connections off. */
export const CLOSE_GRACE_MS = 5000;

/** What the server needs of one served connection, whatever its wire. */
export interface ServedConnection {
  readonly identity: ClientIdentity;
  /** Ends it now (revocation, timeouts, the end of a shutdown's grace). */
  destroy(): void;
  /** Stops reading, answers what was read, then ends; resolves once the socket is closed. */
  drain(): Promise<void>;
}

/**
 * A wire served over the same mutual-TLS listener: how it opens a
 * connection, and what it sends a peer it refuses after the handshake. The
 * native protocol is the default; KMIP (server/kmip/) is the other.
 */
export interface Wire {
  /** A name for the listener's errors ('' for the native protocol: its settings are listen_address and listen_port). */
  readonly name: string;
  /** The settings that choose its address and port, for the error when they cannot be bound. */
  readonly settings: string;
  open(socket: TLSSocket, identity: ClientIdentity): ServedConnection;
  /** The last bytes a refused peer gets (may be empty: KMIP has no unsolicited message). */
  refusal(code: 'UNAUTHENTICATED' | 'SERVER_BUSY', message: string): Buffer;
}

export interface KeyServerOptions extends ConnectionOptions, TlsListenerOptions {
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
  readonly clock: Clock;
  /** The client a certificate fingerprint belongs to; null when unknown or revoked. */
  readonly resolveIdentity: (fingerprint256: string) => ClientIdentity | null;
  /** Told of every refused connection (the audit trail). */
  readonly onAuthFailure?: (info: PeerRefusal) => void;
  /** The wire this listener serves; default the native protocol. */
  readonly wire?: Wire;
}

export class KeyServer {
  private readonly server: Server;
  private readonly connections = new Set<ServedConnection>();
  private readonly wire: Wire;
  /** Open connections per client name: one client cannot take every slot of max_connections. */
  private readonly perClient = new Map<string, number>();
  /** Every socket, authenticated or not, so close() never waits on a half-closed refusal. */
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly options: KeyServerOptions) {
    this.wire = options.wire ?? nativeWire(options);
    // Certificates are checked in accept(), after the handshake: a peer with another
    // CA's (or an expired) certificate then gets an UNAUTHENTICATED answer and is
    // recorded with its fingerprint, where a refusal inside the handshake was only a reset.
    this.server = createMutualTlsServer(options, false);
    this.server.maxConnections = options.maxConnections;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('secureConnection', (socket) => this.accept(socket));
    // Node destroys a socket whose handshake failed, but on handshakeTimeout it
    // only emits this event: without the destroy, a peer that never speaks TLS holds its socket forever.
    this.server.on('tlsClientError', (err, socket) => {
      // No certificate, another CA's, an expired one, a handshake timeout: refused and recorded.
      this.options.onAuthFailure?.({ source: socket.remoteAddress ?? null, fingerprint256: null, subject: null, reason: `TLS: ${(err as NodeJS.ErrnoException).code ?? err.message}` });
      socket.destroy();
    });
  }

  /** A renewed server certificate: new handshakes get it; open connections keep the one they began with. */
  renewCredentials(identity: TlsIdentityPem): void {
    this.server.setSecureContext(secureContextOptions(identity));
  }

  listen(): Promise<number> {
    return listenOn(this.server, this.options.host, this.options.port, { name: this.wire.name, settings: this.wire.settings });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Closes every connection of `clientName` (after a revocation). */
  disconnectClient(clientName: string): void {
    for (const connection of this.connections) if (connection.identity.name === clientName) connection.destroy();
  }

  /** Closes connections whose client is no longer valid (revoked by another process). */
  recheckClients(): void {
    for (const connection of this.connections) {
      if (this.options.resolveIdentity(connection.identity.fingerprint256) === null) connection.destroy();
    }
  }

  /**
   * Graceful: no new connections; each open one stops reading, answers what
   * it already read (each answer after its audit event is durable) and ends.
   * What is still open after `graceMs` (a stuck operation, a peer that does
   * not read) is cut off, so a shutdown is bounded.
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    await Promise.race([Promise.all([...this.connections].map((connection) => connection.drain())), bound]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.destroy();
    // Refused or still handshaking sockets too: nothing of theirs was in flight.
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private accept(socket: TLSSocket): void {
    const check = identifyPeer(socket, this.options.resolveIdentity);
    if (!check.ok) {
      this.options.onAuthFailure?.(check.refusal);
      const message = check.tlsVerified
        ? 'this certificate is unknown to the appliance or revoked'
        : `this certificate was not issued by the appliance CA, or is not valid now (${check.refusal.reason.replace(/^UNAUTHENTICATED: /, '')}): check --cert and --key`;
      endThenDestroy(socket, this.wire.refusal('UNAUTHENTICATED', message), this.options.timers);
      return;
    }
    const identity = check.identity;
    const open = this.perClient.get(identity.name) ?? 0;
    if (open >= this.options.maxConnectionsPerClient) {
      endThenDestroy(socket, this.wire.refusal('SERVER_BUSY', `client "${identity.name}" already has ${open} connections open (max_connections_per_client)`), this.options.timers);
      return;
    }
    this.perClient.set(identity.name, open + 1);
    const connection = this.wire.open(socket, identity);
    this.connections.add(connection);
    closeAtCertificateExpiry(socket, check.validTo, this.options, () => connection.destroy());
    socket.on('close', () => {
      this.connections.delete(connection);
      const left = (this.perClient.get(identity.name) ?? 1) - 1;
      if (left <= 0) this.perClient.delete(identity.name);
      else this.perClient.set(identity.name, left);
    });
  }
}

/** The native protocol (docs/protocol.md): JSON frames, a refusal as a last error frame. */
function nativeWire(options: ConnectionOptions): Wire {
  return {
    name: '',
    settings: 'listen_address or listen_port (--port)',
    open: (socket, identity) => new Connection(socket, identity, options),
    refusal: (code, message) => encodeError(null, new ProtocolError(code, message)),
  };
}
