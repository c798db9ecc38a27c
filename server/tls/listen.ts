/**
 * The appliance's mutual-TLS listeners (the key server and the event
 * stream): one set of TLS settings — TLS 1.2 minimum, forward-secret AEAD
 * suites, a client certificate from the appliance CA — and a listen() that
 * turns the errors an operator can fix (the port is taken, not allowed, or
 * the address is not this machine's) into a CONFIG_INVALID naming the
 * settings to change.
 */
import { AddressInfo, Server } from 'node:net';
import { createServer, SecureContextOptions, Server as TlsServer } from 'node:tls';
import { ConfigError } from '../../common/errors';

/** ECDHE with AES-GCM or ChaCha20-Poly1305: no CBC, no RSA key exchange, no DHE. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

export interface TlsListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly certificatePem: string;
  /** Zeroed once node:tls has copied it into its secure context. */
  readonly privateKeyPem: Buffer;
  readonly caPem: string;
  readonly handshakeTimeoutMs: number;
}

/**
 * A TLS server that asks every client for a certificate from the appliance
 * CA. `verifyInHandshake` false leaves the check to the caller after the
 * handshake (socket.authorized), so that a refusal can be recorded with the
 * peer's certificate instead of as a bare reset.
 */
export function createMutualTlsServer(options: TlsListenerOptions, verifyInHandshake: boolean): TlsServer {
  const server = createServer({
    ...secureContextOptions(options),
    requestCert: true,
    rejectUnauthorized: verifyInHandshake,
    handshakeTimeout: options.handshakeTimeoutMs,
  });
  // node:tls copied the key into its secure context: our copy can go.
  options.privateKeyPem.fill(0);
  return server;
}

/** A TLS identity as PEM: the server certificate, its private key and the CA clients are checked against. */
export interface TlsIdentityPem {
  readonly certificatePem: string;
  readonly privateKeyPem: Buffer | string;
  readonly caPem: string;
}

/**
 * The secure-context half of the listeners' TLS settings: what
 * `server.setSecureContext` takes when the server certificate is renewed
 * (server/compose/server-certificates.ts), so a renewed context keeps the
 * same versions, suites and CA.
 */
export function secureContextOptions(identity: TlsIdentityPem): SecureContextOptions {
  return {
    cert: identity.certificatePem,
    key: identity.privateKeyPem,
    ca: identity.caPem,
    minVersion: 'TLSv1.2',
    // TLS 1.2: forward-secret AEAD suites only (TLS 1.3's are all AEAD).
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
  };
}

/** Listens on host:port and resolves with the port (the one chosen when port is 0). */
export async function listenOn(server: Server, host: string, port: number, what: { readonly name: string; readonly settings: string }): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
          ? new ConfigError(`cannot listen ${what.name}on ${host}:${port} (${err.code}): choose another ${what.settings}`, { cause: err })
          : err,
      ),
    );
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
