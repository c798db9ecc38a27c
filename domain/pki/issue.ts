/**
 * Issues the appliance's leaf certificates from its CA (docs/protocol.md §1,
 * §5): the TLS server certificate (key made here) and client certificates
 * (key made on the client; only its public key comes in). A client
 * certificate's subject is CN = client name, OU = role, for humans only: the
 * server never trusts role or groups from the certificate, it looks the client
 * record up by the certificate's SHA-256 fingerprint.
 */
import { createPublicKey } from 'node:crypto';
import forge from 'node-forge';
import { Clock } from '../../common/clock';
import { ValidationError } from '../../common/errors';
import { describeCertificate } from './certificate-info';
import {
  assertCommonName,
  assertGroups,
  assertName,
  assertRole,
  assertValidityDays,
  LEAF_KEY_BITS,
  MAX_CLIENT_RSA_BITS,
  MAX_LEAF_VALIDITY_DAYS,
  MIN_CLIENT_RSA_BITS,
} from './pki-policy';
import { ClientRole } from '../vocabulary/client-roles';
import { SubjectAltName, toForgeAltNames } from './san';
import { CaMaterial, generateRsaKeyPair, newCertificate, openCa, OpenedCa, signCertificate, validityWindow } from './x509-builder';

/** A client public key PEM longer than this is refused before parsing: bounds work on hostile input. */
export const MAX_PUBLIC_KEY_PEM_CHARS = 16 * 1024;
const PUBLIC_KEY_PEM_LABEL = '-----BEGIN PUBLIC KEY-----';

export interface IssueServerOptions {
  readonly ca: CaMaterial;
  readonly commonName: string;
  readonly sans: ReadonlyArray<SubjectAltName>;
  readonly validityDays: number;
  readonly clock: Clock;
}

export interface IssueClientOptions {
  readonly ca: CaMaterial;
  readonly name: string;
  readonly role: ClientRole;
  /** Validated here, stored by the lead in the client record; not written into the certificate. */
  readonly groups: readonly string[];
  readonly publicKeyPem: string;
  readonly validityDays: number;
  readonly clock: Clock;
}

export interface IssuedServerCertificate {
  readonly certificatePem: string;
  /** PKCS#8 PEM; the lead seals it before storing. */
  readonly privateKeyPem: string;
}

export interface IssuedClientCertificate {
  readonly certificatePem: string;
  /** Lower-case hex. */
  readonly serialNumber: string;
  /** SHA-256 of the DER, lower-case hex, no colons: the client record's key. */
  readonly fingerprint256: string;
  /** ISO 8601, whole seconds (what the certificate says). */
  readonly notBefore: string;
  readonly notAfter: string;
}

/** Parses a client's SPKI PEM; refuses private keys, non-RSA keys and sizes outside the policy. */
function clientPublicKeySpkiPem(publicKeyPem: unknown): string {
  const invalid = (message: string, cause?: unknown) => new ValidationError(message, { cause, details: { field: 'publicKeyPem' } });
  if (typeof publicKeyPem !== 'string' || publicKeyPem.length > MAX_PUBLIC_KEY_PEM_CHARS) {
    throw invalid('publicKeyPem must be a PEM string');
  }
  // createPublicKey would also derive a public key from a private one: refuse, so a private key is never sent by mistake.
  if (!publicKeyPem.trimStart().startsWith(PUBLIC_KEY_PEM_LABEL)) throw invalid('publicKeyPem must be an SPKI "PUBLIC KEY" PEM');
  let key;
  try {
    key = createPublicKey({ key: publicKeyPem, format: 'pem' });
  } catch (err) {
    throw invalid('publicKeyPem does not parse', err);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MIN_CLIENT_RSA_BITS || bits > MAX_CLIENT_RSA_BITS) {
    throw invalid(`publicKeyPem must be an RSA key of ${MIN_CLIENT_RSA_BITS} to ${MAX_CLIENT_RSA_BITS} bits`);
  }
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** Builds and signs a leaf under `ca` with the extensions every leaf has plus `extensions`. */
function signLeaf(
  ca: OpenedCa,
  subject: forge.pki.CertificateField[],
  publicKeyPem: string,
  validityDays: number,
  clock: Clock,
  extensions: object[],
): string {
  const cert = newCertificate({ subject, publicKeyPem, ...validityWindow(clock, validityDays, ca.notAfterMs) });
  cert.setIssuer(ca.subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    ...extensions,
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.keyIdentifier },
  ]);
  return signCertificate(cert, ca.privateKey);
}

/**
 * The TLS server certificate: serverAuth, checked by clients against its SANs.
 * @example
 *   issueServerCertificate({ ca, commonName: 'vault.lan', sans: [{ type: 'dns', value: 'vault.lan' }], validityDays: 397, clock });
 */
export function issueServerCertificate(options: IssueServerOptions): IssuedServerCertificate {
  assertCommonName(options.commonName);
  const altNames = toForgeAltNames(options.sans);
  assertValidityDays(options.validityDays, MAX_LEAF_VALIDITY_DAYS);
  const ca = openCa(options.ca, options.clock);
  const keys = generateRsaKeyPair(LEAF_KEY_BITS);
  const certificatePem = signLeaf(ca, [{ name: 'commonName', value: options.commonName }], keys.publicKeyPem, options.validityDays, options.clock, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  return { certificatePem, privateKeyPem: keys.privateKeyPem };
}

/**
 * A client certificate for a key the client made: clientAuth, CN = name, OU = role.
 * @example
 *   const { publicKeyPem } = generateClientKeyPair(); // client/credentials.ts, on the client's side
 *   const issued = issueClientCertificate({ ca, name: 'billing', role: 'app', groups: [], publicKeyPem, validityDays: 365, clock });
 */
export function issueClientCertificate(options: IssueClientOptions): IssuedClientCertificate {
  assertName(options.name, 'name');
  assertRole(options.role);
  assertGroups(options.groups);
  assertValidityDays(options.validityDays, MAX_LEAF_VALIDITY_DAYS);
  const spkiPem = clientPublicKeySpkiPem(options.publicKeyPem);
  const ca = openCa(options.ca, options.clock);
  const subject: forge.pki.CertificateField[] = [
    { name: 'commonName', value: options.name },
    { name: 'organizationalUnitName', value: options.role },
  ];
  const certificatePem = signLeaf(ca, subject, spkiPem, options.validityDays, options.clock, [
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  // Read back through node:crypto, the same parser the server fingerprints peers with.
  const info = describeCertificate(certificatePem);
  return {
    certificatePem,
    serialNumber: info.serialNumber,
    fingerprint256: info.fingerprint256,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
  };
}
