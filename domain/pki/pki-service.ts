/**
 * The appliance's PKI at run time: makes the CA and the server certificate at
 * init, issues and revokes client certificates, and hands the TLS listener
 * its credentials. The CA and server private keys are kept only sealed under
 * the keychain key (system secrets), and no private key sits in a file of
 * the appliance. The server's TLS identity also has a copy the HSM alone
 * opens (server/tls/tls-identity.ts), so a sealed server can listen for
 * custodians; the CA key has none: issuing needs an unsealed keychain.
 */
import { isIP } from 'node:net';
import { Clock, isoNow } from '../../common/clock';
import { KeychainError, ValidationError } from '../../common/errors';
import { Keychain } from '../keychain';
import { ClientRecord, DirectoryStore } from '../../storage/directory-store';
import { ClientRole } from '../vocabulary/client-roles';
import { createCa } from './ca';
import { issueClientCertificate, issueServerCertificate } from './issue';
import { CertificateInfo, describeCertificate } from './certificate-info';

export const CA_VALIDITY_DAYS = 3650;
export const SERVER_CERT_VALIDITY_DAYS = 825;
export const DEFAULT_CLIENT_VALIDITY_DAYS = 365;

const SECRET = {
  caKey: 'pki/ca-key',
  caCert: 'pki/ca-cert',
  serverKey: 'pki/server-key',
  serverCert: 'pki/server-cert',
} as const;

export interface Sans {
  readonly dns: readonly string[];
  readonly ip: readonly string[];
}

export interface IssuedClient {
  readonly client: ClientRecord;
  readonly certificatePem: string;
  readonly caPem: string;
}

/** Parses `localhost,127.0.0.1,kms.example.com` into DNS and IP SANs. */
export function parseSans(text: string): Sans {
  const dns: string[] = [];
  const ip: string[] = [];
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (isIP(entry)) ip.push(entry);
    else dns.push(entry);
  }
  if (dns.length + ip.length === 0) throw new ValidationError('server_sans names no host');
  return { dns, ip };
}

export class PkiService {
  constructor(private readonly keychain: Keychain, private readonly directory: DirectoryStore, private readonly clock: Clock) {}

  get initialized(): boolean {
    return this.directory.getSystemSecret(SECRET.caCert) !== null;
  }

  /** Makes the CA and the server certificate; refuses if they exist. */
  bootstrap(options: { commonName: string; sans: Sans }): { caPem: string; serverCertificatePem: string } {
    if (this.initialized) throw new KeychainError('KEYCHAIN_ALREADY_INITIALIZED', 'the appliance PKI already exists');
    const ca = createCa({ commonName: `${options.commonName} CA`, validityDays: CA_VALIDITY_DAYS, clock: this.clock });
    const server = issueServerCertificate({
      ca,
      commonName: options.commonName,
      sans: [...options.sans.dns.map((value) => ({ type: 'dns' as const, value })), ...options.sans.ip.map((value) => ({ type: 'ip' as const, value }))],
      validityDays: SERVER_CERT_VALIDITY_DAYS,
      clock: this.clock,
    });
    this.keychain.putSystemSecret(SECRET.caKey, Buffer.from(ca.privateKeyPem));
    this.keychain.putSystemSecret(SECRET.caCert, Buffer.from(ca.certificatePem));
    this.keychain.putSystemSecret(SECRET.serverKey, Buffer.from(server.privateKeyPem));
    this.keychain.putSystemSecret(SECRET.serverCert, Buffer.from(server.certificatePem));
    return { caPem: ca.certificatePem, serverCertificatePem: server.certificatePem };
  }

  caCertificate(): string {
    return this.text(SECRET.caCert);
  }

  /** The listener's certificate and key, PEM (the key only in memory, for node:tls). */
  serverCredentials(): { certificatePem: string; privateKeyPem: string; caPem: string } {
    return { certificatePem: this.text(SECRET.serverCert), privateKeyPem: this.text(SECRET.serverKey), caPem: this.caCertificate() };
  }

  /** Signs a certificate for the client's own public key and records the client. */
  issueClient(request: { name: string; role: ClientRole; groups: readonly string[]; publicKeyPem: string; validityDays?: number }): IssuedClient {
    if (this.directory.getClientByName(request.name)) {
      throw new KeychainError('CLIENT_EXISTS', `a client named "${request.name}" already exists; pick another name (revoked names are not reused)`);
    }
    const issued = this.signClient(request, request.publicKeyPem, request.validityDays);
    const client: ClientRecord = {
      name: request.name,
      role: request.role,
      groups: [...request.groups],
      serialNumber: issued.serialNumber,
      fingerprint256: issued.fingerprint256,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
      createdAt: isoNow(this.clock),
      revokedAt: null,
    };
    this.directory.putClient(client);
    return { client, certificatePem: issued.certificatePem, caPem: this.caCertificate() };
  }

  /**
   * Renews a client: a certificate for the same name, role and groups over
   * `publicKeyPem` (a new key pair, made on the client's side), which
   * replaces the old one in the client's record at once. The old
   * certificate's fingerprint then names nobody: it is refused at its next
   * handshake, and at the next request of a connection made with it
   * (domain/policy/identity-confirmation.ts; ClientRenew also closes those).
   * `previous` is what it was.
   */
  renewClient(request: { name: string; publicKeyPem: string; validityDays?: number }): IssuedClient & { previous: ClientRecord } {
    const previous = this.directory.getClientByName(request.name);
    if (!previous) throw new KeychainError('CLIENT_NOT_FOUND', `no client named "${request.name}" (strongroom client list shows them; a new client is made with client issue)`, { details: { client: request.name } });
    if (previous.revokedAt !== null) {
      throw new KeychainError('WRONG_STATE', `client "${request.name}" was revoked at ${previous.revokedAt}; a revoked client is not renewed: issue a new name`);
    }
    const issued = this.signClient(previous, request.publicKeyPem, request.validityDays);
    const { serialNumber, fingerprint256, notBefore, notAfter } = issued;
    const client = this.directory.replaceClientCertificate(previous.name, { serialNumber, fingerprint256, notBefore, notAfter });
    return { client, certificatePem: issued.certificatePem, caPem: this.caCertificate(), previous };
  }

  /**
   * A new TLS server certificate and key (same common name; `sans` as given,
   * normally server_sans), stored under the keychain key in one transaction.
   * The caller gives it to the listeners and to the HSM-sealed copy
   * (server/tls/tls-identity.ts). The private key is returned for that only.
   */
  renewServerCertificate(options: { sans: Sans; validityDays?: number }): { certificatePem: string; privateKeyPem: string; caPem: string; previous: CertificateInfo } {
    const previous = describeCertificate(this.text(SECRET.serverCert));
    const ca = { certificatePem: this.caCertificate(), privateKeyPem: this.text(SECRET.caKey) };
    const server = issueServerCertificate({
      ca,
      commonName: previous.subjectCommonName ?? 'strongroom',
      sans: [...options.sans.dns.map((value) => ({ type: 'dns' as const, value })), ...options.sans.ip.map((value) => ({ type: 'ip' as const, value }))],
      validityDays: options.validityDays ?? SERVER_CERT_VALIDITY_DAYS,
      clock: this.clock,
    });
    // One transaction: a crash must not leave the new key beside the old certificate.
    this.keychain.transaction(() => {
      this.keychain.putSystemSecret(SECRET.serverKey, Buffer.from(server.privateKeyPem));
      this.keychain.putSystemSecret(SECRET.serverCert, Buffer.from(server.certificatePem));
    });
    return { certificatePem: server.certificatePem, privateKeyPem: server.privateKeyPem, caPem: this.caCertificate(), previous };
  }

  /** The CA and server certificates as they are read (serial, fingerprint, validity), for expiry warnings. */
  applianceCertificates(): { ca: CertificateInfo; server: CertificateInfo } {
    return { ca: describeCertificate(this.caCertificate()), server: describeCertificate(this.text(SECRET.serverCert)) };
  }

  /** Revokes a client; the last active officer cannot be revoked (nobody could administer the appliance). */
  revokeClient(name: string): ClientRecord {
    const client = this.directory.getClientByName(name);
    if (!client) throw new KeychainError('CLIENT_NOT_FOUND', `no client named "${name}"`);
    if (client.role === 'officer' && client.revokedAt === null && this.directory.countActiveClients('officer') <= 1) {
      throw new KeychainError('WRONG_STATE', `"${name}" is the last officer; issue another officer certificate before revoking this one`);
    }
    return this.directory.revokeClient(name, isoNow(this.clock));
  }

  /** A client certificate signed by the appliance CA for `who` (name, role, groups) over `publicKeyPem`. */
  private signClient(who: { readonly name: string; readonly role: ClientRole; readonly groups: readonly string[] }, publicKeyPem: string, validityDays: number | undefined) {
    const ca = { certificatePem: this.caCertificate(), privateKeyPem: this.text(SECRET.caKey) };
    return issueClientCertificate({ ca, name: who.name, role: who.role, groups: [...who.groups], publicKeyPem, validityDays: validityDays ?? DEFAULT_CLIENT_VALIDITY_DAYS, clock: this.clock });
  }

  private text(name: string): string {
    const secret = this.keychain.getSystemSecret(name);
    if (!secret) throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', `the appliance PKI is missing ${name}; was this keychain made by an older strongroom init?`);
    try {
      return secret.toString('utf8');
    } finally {
      secret.fill(0);
    }
  }
}
