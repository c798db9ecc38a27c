/**
 * Which of the appliance's certificates come near their end: the CA, the
 * TLS server certificate and every client certificate not revoked, each with
 * the days it has left and whether it is within the warning period
 * (cert_expiry_warning) or past its end. Pure: `strongroom status`, Query and
 * the server's daily check (server/compose/certificate-watch.ts) all read it.
 */
import { ClientRecord } from '../../storage/directory-store';
import { CertificateInfo } from './certificate-info';

const DAY_MS = 86_400_000;

export type CertificateKind = 'ca' | 'server' | 'client';

export interface CertificateExpiry {
  readonly certificate: CertificateKind;
  /** The client's name; `ca` and `server` for the appliance's own. */
  readonly name: string;
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly notAfter: string;
  /** Whole days left (rounded down; negative once expired). */
  readonly daysLeft: number;
  /** Within the warning period, or expired. */
  readonly warning: boolean;
  readonly expired: boolean;
}

export interface CertificateSet {
  readonly ca: CertificateInfo | null;
  readonly server: CertificateInfo | null;
  readonly clients: readonly ClientRecord[];
}

function expiryOf(certificate: CertificateKind, name: string, serialNumber: string, notAfter: string, nowMs: number, warningMs: number): CertificateExpiry {
  const leftMs = Date.parse(notAfter) - nowMs;
  return { certificate, name, serialNumber, notAfter, daysLeft: Math.floor(leftMs / DAY_MS), warning: leftMs <= warningMs, expired: leftMs <= 0 };
}

/** Every certificate of the set, the appliance's own first, then clients by name; revoked clients are left out (they are refused anyway). */
export function certificateExpiries(set: CertificateSet, nowMs: number, warningMs: number): CertificateExpiry[] {
  const out: CertificateExpiry[] = [];
  if (set.ca !== null) out.push(expiryOf('ca', 'ca', set.ca.serialNumber, set.ca.notAfter, nowMs, warningMs));
  if (set.server !== null) out.push(expiryOf('server', 'server', set.server.serialNumber, set.server.notAfter, nowMs, warningMs));
  for (const client of set.clients) {
    if (client.revokedAt === null) out.push(expiryOf('client', client.name, client.serialNumber, client.notAfter, nowMs, warningMs));
  }
  return out;
}

/** One line for humans: `client billing (serial 0a1b…) expires 2027-01-05T10:00:00.000Z, in 12 days`. */
export function describeExpiry(expiry: CertificateExpiry): string {
  const what = expiry.certificate === 'client' ? `client ${expiry.name}` : expiry.certificate === 'ca' ? 'the CA' : 'the server certificate';
  const when = expiry.expired ? `expired ${expiry.notAfter}` : `expires ${expiry.notAfter}, in ${expiry.daysLeft} day${expiry.daysLeft === 1 ? '' : 's'}`;
  return `${what} (serial ${expiry.serialNumber}) ${when}`;
}

/** A renewed server certificate as an answer shows it: the new one and the one it replaced. */
export interface RenewedServerCertificate {
  readonly certificate: CertificateInfo;
  readonly previous: CertificateInfo;
}

/** What operations see of the certificate lifecycle (server/compose/server-certificates.ts). */
export interface CertificateLifecycle {
  /** cert_expiry_warning as configured (P30D). */
  readonly warningPeriod: string;
  /** Every certificate with its days left; null while sealed (the CA and server certificates are sealed under the keychain key). */
  expiries(): CertificateExpiry[] | null;
  /** Renews the TLS server certificate without a restart: new handshakes get it, open connections keep theirs. */
  renewServer(options: { validityDays?: number }): Promise<RenewedServerCertificate>;
}
