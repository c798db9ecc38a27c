/**
 * Packs a certificate, its private key and the CA certificate into a PKCS#12
 * file (docs/protocol.md §1) that node:tls loads with `{ pfx, passphrase }`,
 * for clients and tools that take one file.
 *
 * Algorithm, as verified against Node 20 / OpenSSL 3.0: forge encrypts only
 * the key bag (certificates go in clear), so OpenSSL 3's refusal of legacy
 * RC2-40 never arises; both '3des' and 'aes256' load. We use 'aes256' (PBES2,
 * PBKDF2-HMAC-SHA256); the MAC is forge's fixed HMAC-SHA1, which OpenSSL 3
 * still accepts. The passphrase is limited to printable ASCII: forge feeds
 * PBKDF2 the JS string's char codes while OpenSSL feeds it UTF-8, so any
 * other character gives a file OpenSSL cannot open ("bad decrypt").
 *
 * The private key has to become a forge key here, and forge keeps it in JS
 * big integers that cannot be zeroed; nothing keeps a reference after the call.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { ValidationError } from '../../common/errors';
import { MAX_COMMON_NAME_CHARS } from './pki-policy';

/** PBKDF2 and MAC iterations: slows passphrase guessing; forge encodes the MAC count correctly only below 65536. */
export const PKCS12_ITERATIONS = 50_000;
/** PBES2 cipher: AES-256-CBC (see the docblock for why not forge's 3DES default). */
const PKCS12_ALGORITHM = 'aes256';
/** Printable ASCII only (see the docblock); a minimum length is the caller's policy. */
const PASSPHRASE_PATTERN = /^[\x20-\x7e]+$/;
/** Longest passphrase: bounds the PBKDF2 work per iteration. */
export const MAX_PASSPHRASE_CHARS = 1024;

export interface ToPkcs12Options {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caPem: string;
  readonly passphrase: string;
  readonly friendlyName: string;
}

function invalid(field: string, message: string, cause?: unknown): ValidationError {
  return new ValidationError(message, { cause, details: { field } });
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
  if (typeof friendlyName !== 'string' || friendlyName.length < 1 || friendlyName.length > MAX_COMMON_NAME_CHARS || !PASSPHRASE_PATTERN.test(friendlyName)) {
    throw invalid('friendlyName', `friendlyName must be 1 to ${MAX_COMMON_NAME_CHARS} printable ASCII characters`);
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
