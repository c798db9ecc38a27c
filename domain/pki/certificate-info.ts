/**
 * Reads a certificate with node:crypto's X509Certificate (not forge, so the
 * server sees certificates exactly as its TLS stack does) and computes the
 * SHA-256 fingerprint that names a client record (docs/protocol.md §5): the
 * server fingerprints `tlsSocket.getPeerCertificate().raw` with
 * fingerprintOfDer and looks the client up by it.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { ValidationError } from '../../common/errors';

export interface CertificateInfo {
  readonly subjectCommonName: string | null;
  readonly issuerCommonName: string | null;
  /** Lower-case hex, as issueClientCertificate reports it. */
  readonly serialNumber: string;
  /** SHA-256 of the DER, lower-case hex, no colons. */
  readonly fingerprint256: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
}

/** SHA-256 of a certificate's DER bytes, lower-case hex without colons. */
export function fingerprintOfDer(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** The CN of an X509Certificate subject/issuer string ("CN=x\nOU=y"); null when absent. */
function commonNameOf(distinguishedName: string): string | null {
  for (const line of distinguishedName.split('\n')) {
    if (line.startsWith('CN=')) return line.slice('CN='.length);
  }
  return null;
}

function isoFromX509Time(text: string): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ValidationError('the certificate has an unreadable validity time');
  return new Date(ms).toISOString();
}

export function describeCertificate(pem: string): CertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new ValidationError('not a PEM certificate', { cause: err, details: { field: 'certificate' } });
  }
  return {
    subjectCommonName: commonNameOf(cert.subject),
    issuerCommonName: commonNameOf(cert.issuer),
    serialNumber: cert.serialNumber.toLowerCase(),
    fingerprint256: fingerprintOfDer(cert.raw),
    notBefore: isoFromX509Time(cert.validFrom),
    notAfter: isoFromX509Time(cert.validTo),
  };
}
