/**
 * Shared steps of building an X.509 certificate for the appliance PKI
 * (docs/protocol.md §1): RSA key pairs from node:crypto, random positive
 * serials, the validity window from the injected clock, and signing.
 *
 * forge assembles the certificate, but the signature is made by node:crypto
 * over forge's DER TBSCertificate: the CA private key is only ever a node
 * KeyObject (held by OpenSSL, freed with the object) and never becomes forge
 * big integers, which live in the JS heap and cannot be zeroed. Private keys
 * cross this API as PEM strings because that is what the lead stores; strings
 * cannot be wiped either, so no structure here keeps one beyond the call.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, KeyObject, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { Clock } from '../../common/clock';
import { ValidationError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { CLOCK_SKEW_MS, MS_PER_DAY } from './pki-policy';

/** RFC 5280 §4.1.2.2 allows 20 octets; 16 random ones give 127 bits of unpredictability (CA/B asks for 64). */
export const SERIAL_BYTES = 16;
/** X.509 times have whole seconds; rounding here keeps what we report equal to what the certificate says. */
const MS_PER_SECOND = 1000;

export interface KeyPairPem {
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
}

/** A CA as created by createCa and stored by the lead. */
export interface CaMaterial {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** A CA opened for one issuing call; do not keep it beyond the call. */
export interface OpenedCa {
  readonly subject: forge.pki.CertificateField[];
  /** The CA's subjectKeyIdentifier as a forge byte string, for the leaf's authorityKeyIdentifier. */
  readonly keyIdentifier: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly privateKey: KeyObject;
}

export function generateRsaKeyPair(modulusLength: number): KeyPairPem {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** A random positive serial as lower-case hex, minimally DER-encodable (first byte 0x01..0x7f). */
export function newSerialNumber(): string {
  const bytes = randomBytes(SERIAL_BYTES);
  try {
    bytes[0] &= 0x7f; // positive: INTEGER is signed
    if (bytes[0] === 0) bytes[0] = 0x01; // a leading zero octet would be non-minimal DER, which OpenSSL may refuse
    return bytes.toString('hex');
  } finally {
    wipe(bytes);
  }
}

function floorToSecond(ms: number): number {
  return Math.floor(ms / MS_PER_SECOND) * MS_PER_SECOND;
}

/** notBefore = now − skew; notAfter = now + days, capped at `capMs` (a leaf does not outlive its CA). */
export function validityWindow(clock: Clock, validityDays: number, capMs = Number.POSITIVE_INFINITY): { notBefore: Date; notAfter: Date } {
  const now = clock.nowMs();
  return {
    notBefore: new Date(floorToSecond(now - CLOCK_SKEW_MS)),
    notAfter: new Date(floorToSecond(Math.min(now + validityDays * MS_PER_DAY, capMs))),
  };
}

/** Signs `cert` with SHA-256/RSA through node:crypto and returns its PEM. */
export function signCertificate(cert: forge.pki.Certificate, privateKey: KeyObject): string {
  if (privateKey.asymmetricKeyType !== 'rsa') throw new ValidationError('the signing key must be an RSA key');
  const algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  cert.signatureOid = algorithmOid;
  cert.siginfo.algorithmOid = algorithmOid;
  // getTBSCertificate exists in forge 1.x but is missing from @types/node-forge.
  const pki = forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 };
  const tbs = pki.getTBSCertificate(cert);
  (cert as unknown as { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate = tbs;
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  cert.signature = sign('sha256', tbsDer, privateKey).toString('binary');
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n'); // forge writes CRLF; store the usual LF
}

/** A forge certificate skeleton: version 3, serial, validity, subject and public key. */
export function newCertificate(options: {
  subject: forge.pki.CertificateField[];
  publicKeyPem: string;
  notBefore: Date;
  notAfter: Date;
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.version = 2; // X.509 v3 (the field is zero-based)
  cert.serialNumber = newSerialNumber();
  cert.validity.notBefore = options.notBefore;
  cert.validity.notAfter = options.notAfter;
  cert.setSubject(options.subject);
  cert.publicKey = forge.pki.publicKeyFromPem(options.publicKeyPem);
  return cert;
}

function invalidCa(message: string, cause?: unknown): ValidationError {
  return new ValidationError(message, { cause, details: { field: 'ca' } });
}

/**
 * Opens a CA for one issuing call: checks that it is a CA certificate, that
 * the key belongs to it, and that it is valid at the clock's now.
 */
export function openCa(ca: CaMaterial, clock: Clock): OpenedCa {
  let x509: X509Certificate;
  let forgeCert: forge.pki.Certificate;
  let privateKey: KeyObject;
  try {
    x509 = new X509Certificate(ca.certificatePem);
    forgeCert = forge.pki.certificateFromPem(ca.certificatePem);
    privateKey = createPrivateKey({ key: ca.privateKeyPem, format: 'pem' });
  } catch (err) {
    throw invalidCa('the CA certificate or key does not parse', err);
  }
  if (!x509.ca) throw invalidCa('the CA certificate is not a CA (basicConstraints cA is false)');
  const certSpki = x509.publicKey.export({ type: 'spki', format: 'der' });
  const keySpki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!certSpki.equals(keySpki)) throw invalidCa('the CA private key does not belong to the CA certificate');
  const notBeforeMs = forgeCert.validity.notBefore.getTime();
  const notAfterMs = forgeCert.validity.notAfter.getTime();
  const now = clock.nowMs();
  if (now < notBeforeMs || now > notAfterMs) throw invalidCa('the CA is not valid at this time');
  const ski = forgeCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  const keyIdentifier = ski?.subjectKeyIdentifier
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : forgeCert.generateSubjectKeyIdentifier().getBytes();
  return { subject: forgeCert.subject.attributes, keyIdentifier, notBeforeMs, notAfterMs, privateKey };
}
