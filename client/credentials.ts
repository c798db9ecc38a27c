/**
 * What a client makes on its own side to hold an appliance certificate
 * (docs/protocol.md §1): its key pair, of which only the public key goes to
 * the appliance (ClientIssue), and a PKCS#12 file packing the certificate,
 * its private key and the CA certificate, which node:tls loads with
 * `{ pfx, passphrase }`, for clients and tools that take one file.
 *
 * PKCS#12 algorithm, as verified against Node 20 / OpenSSL 3.0: forge
 * encrypts only the key bag (certificates go in clear), so OpenSSL 3's
 * refusal of legacy RC2-40 never arises; both '3des' and 'aes256' load. We
 * use 'aes256' (PBES2, PBKDF2-HMAC-SHA256); the MAC is forge's fixed
 * HMAC-SHA1, which OpenSSL 3 still accepts. The passphrase is limited to
 * printable ASCII: forge feeds PBKDF2 the JS string's char codes while
 * OpenSSL feeds it UTF-8, so any other character gives a file OpenSSL
 * cannot open ("bad decrypt").
 *
 * The private key has to become a forge key here, and forge keeps it in JS
 * big integers that cannot be zeroed; nothing keeps a reference after the call.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { StrongroomClientError } from './client-error';

/** RSA size of a client's key: the floor the appliance certifies (domain/pki/pki-policy.ts MIN_CLIENT_RSA_BITS), OpenSSL security level 2's. */
export const CLIENT_KEY_BITS = 2048;
/** Longest friendly name: it is the client's name, which its certificate carries as CN (X.520 ub-common-name). */
export const MAX_FRIENDLY_NAME_CHARS = 64;

/** PBKDF2 and MAC iterations: slows passphrase guessing; forge encodes the MAC count correctly only below 65536. */
export const PKCS12_ITERATIONS = 50_000;
/** PBES2 cipher: AES-256-CBC (see the docblock for why not forge's 3DES default). */
const PKCS12_ALGORITHM = 'aes256';
/** Printable ASCII only (see the docblock); a minimum length is the caller's policy. */
const PASSPHRASE_PATTERN = /^[\x20-\x7e]+$/;
/** Longest passphrase: bounds the PBKDF2 work per iteration. */
export const MAX_PASSPHRASE_CHARS = 1024;

export interface ClientKeyPair {
  /** SPKI PEM: what ClientIssue takes. */
  readonly publicKeyPem: string;
  /** PKCS#8 PEM: stays with the client. */
  readonly privateKeyPem: string;
}

/**
 * A client's key pair (RSA-2048), made on the client's side.
 * @example
 *   const pair = generateClientKeyPair();
 *   const issued = await officer.clientIssue({ name: 'billing', role: 'app', publicKeyPem: pair.publicKeyPem });
 */
export function generateClientKeyPair(): ClientKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: CLIENT_KEY_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

export interface ToPkcs12Options {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caPem: string;
  readonly passphrase: string;
  readonly friendlyName: string;
}

function invalid(field: string, message: string, cause?: unknown): StrongroomClientError {
  return new StrongroomClientError('INVALID_ARGUMENT', message, { cause, details: { field } });
}

/**
 * @example
 *   const pfx = toPkcs12({ certificatePem, privateKeyPem, caPem: ca.certificatePem, passphrase, friendlyName: 'billing' });
 *   tls.connect({ pfx, passphrase, ... });
 */
export function toPkcs12(options: ToPkcs12Options): Buffer {
  const { passphrase, friendlyName } = options;
  if (typeof passphrase !== 'string' || passphrase.length > MAX_PASSPHRASE_CHARS || !PASSPHRASE_PATTERN.test(passphrase)) {
    throw invalid('passphrase', `the passphrase must be 1 to ${MAX_PASSPHRASE_CHARS} printable ASCII characters`);
  }
  if (typeof friendlyName !== 'string' || friendlyName.length < 1 || friendlyName.length > MAX_FRIENDLY_NAME_CHARS || !PASSPHRASE_PATTERN.test(friendlyName)) {
    throw invalid('friendlyName', `friendlyName must be 1 to ${MAX_FRIENDLY_NAME_CHARS} printable ASCII characters`);
  }
  let certSpki: Buffer;
  let keySpki: Buffer;
  try {
    certSpki = new X509Certificate(options.certificatePem).publicKey.export({ type: 'spki', format: 'der' });
    new X509Certificate(options.caPem);
    keySpki = createPublicKey(createPrivateKey(options.privateKeyPem)).export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw invalid('certificatePem', 'the certificate, CA certificate or private key does not parse', err);
  }
  if (!certSpki.equals(keySpki)) throw invalid('privateKeyPem', 'the private key does not belong to the certificate');

  const key = forge.pki.privateKeyFromPem(options.privateKeyPem);
  const chain = [forge.pki.certificateFromPem(options.certificatePem), forge.pki.certificateFromPem(options.caPem)];
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, chain, passphrase, {
    algorithm: PKCS12_ALGORITHM,
    prfAlgorithm: 'sha256',
    count: PKCS12_ITERATIONS,
    friendlyName,
    generateLocalKeyId: true,
  } as Parameters<typeof forge.pkcs12.toPkcs12Asn1>[3]);
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
