/**
 * Objects the appliance keeps but never uses for cryptography (algorithm
 * family `stored`): opaque objects, X.509 certificates, and RSA, EC and DSA
 * public and private keys. They are sealed, audited and destroyed like any key;
 * what the appliance knows of them beyond their bytes is read once, at
 * Register, from the material itself with node:crypto (createPublicKey,
 * createPrivateKey, X509Certificate; a parser of our own only for what
 * node:crypto will not give, a DSA key's numbers, below), and kept in
 * the key row as its *facts* (MACed with the row, never changed after):
 * the encoding the bytes are in, the key's length, an EC key's curve, a
 * certificate's subject, issuer, serial number and public key. Material
 * that does not parse as the algorithm says, or that is not in canonical
 * DER (the bytes node:crypto writes back differ), is refused
 * INVALID_ARGUMENT without quoting it. Private key bytes written back for
 * that comparison are zeroed. A DSA key's numbers, which node:crypto reads
 * but neither checks nor gives out, are then taken from the DER by a strict
 * reader of exactly its two shapes (keys/dsa-der.ts) and checked as far as
 * a key carries what it takes (keys/dsa-key-check.ts).
 */
import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { ValidationError } from '../common/errors';
import { Algorithm } from './algorithms';
import { readDsaPrivateKey, readDsaPublicKey } from './keys/dsa-der';
import { checkDsaPrivateKey, checkDsaPublicKey } from './keys/dsa-key-check';
import type { ObjectFacts, StoredEncoding } from './view-types';

export type { CertificateFacts, ObjectFacts, StoredEncoding } from './view-types';

/** The curves whose keys are kept, and their field sizes (the key length KMIP reports). */
const CURVE_BITS: Readonly<Record<string, number>> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 };

/** The stored algorithms that are keys of a key pair, with node:crypto's key type and the encodings tried, in order. */
const KEY_ENCODINGS: Readonly<Partial<Record<Algorithm, { readonly type: 'rsa' | 'ec' | 'dsa'; readonly part: 'public' | 'private'; readonly encodings: readonly StoredEncoding[] }>>> = {
  'RSA-PUBLIC': { type: 'rsa', part: 'public', encodings: ['spki', 'pkcs1'] },
  'RSA-PRIVATE': { type: 'rsa', part: 'private', encodings: ['pkcs8', 'pkcs1'] },
  'EC-PUBLIC': { type: 'ec', part: 'public', encodings: ['spki'] },
  'EC-PRIVATE': { type: 'ec', part: 'private', encodings: ['pkcs8', 'sec1'] },
  'DSA-PUBLIC': { type: 'dsa', part: 'public', encodings: ['spki'] },
  'DSA-PRIVATE': { type: 'dsa', part: 'private', encodings: ['pkcs8'] },
};

/** Whether an algorithm is a kept object's (facts are read for it at Register). */
export function isStoredObject(algorithm: string): boolean {
  return algorithm === 'OPAQUE' || algorithm === 'CERTIFICATE' || Object.prototype.hasOwnProperty.call(KEY_ENCODINGS, algorithm);
}

/**
 * The facts of `material` registered as `algorithm`, or null for an
 * algorithm that is not a kept object's (SECRET and the generated ones
 * have none). `opaqueType` is taken for OPAQUE only.
 */
export function readObjectFacts(algorithm: Algorithm, material: Buffer, opaqueType: number | undefined): ObjectFacts | null {
  if (opaqueType !== undefined && algorithm !== 'OPAQUE') throw new ValidationError(`opaqueType is for OPAQUE objects, not ${algorithm}`, { details: { field: 'opaqueType' } });
  if (algorithm === 'OPAQUE') {
    if (opaqueType === undefined) throw new ValidationError('an OPAQUE object needs its opaqueType', { details: { field: 'opaqueType' } });
    return { encoding: 'opaque', opaqueType };
  }
  if (algorithm === 'CERTIFICATE') return certificateFacts(material);
  const spec = KEY_ENCODINGS[algorithm];
  if (spec === undefined) return null;
  for (const encoding of spec.encodings) {
    const key = parsedKey(material, spec.part, encoding);
    if (key === null) continue;
    if (key.asymmetricKeyType !== spec.type) throw new ValidationError(`the material is a ${key.asymmetricKeyType ?? 'unknown'} key, not ${algorithm}`, { details: { field: 'material' } });
    if (spec.type === 'dsa') checkDsaNumbers(material, spec.part);
    return { encoding, ...keyLength(key, algorithm) };
  }
  throw new ValidationError(`the material is not ${algorithm} in canonical DER (${spec.encodings.join(' or ')})`, { details: { field: 'material' } });
}

/** The key in `encoding`, when the bytes are exactly that encoding's DER; null when they are not. */
function parsedKey(material: Buffer, part: 'public' | 'private', encoding: StoredEncoding): KeyObject | null {
  const type = encoding as 'spki' | 'pkcs1' | 'pkcs8' | 'sec1';
  let key: KeyObject;
  try {
    key = part === 'public' ? createPublicKey({ key: material, format: 'der', type: type as 'spki' | 'pkcs1' }) : createPrivateKey({ key: material, format: 'der', type: type as 'pkcs8' | 'pkcs1' | 'sec1' });
  } catch {
    return null;
  }
  // node:crypto may accept what it would not write (trailing bytes, another encoding of the same key): keep only the canonical form.
  const written = key.export({ format: 'der', type } as never) as Buffer;
  try {
    return written.equals(material) ? key : null;
  } finally {
    if (part === 'private') written.fill(0);
  }
}

function keyLength(key: KeyObject, algorithm: Algorithm): { lengthBits: number; curve?: string } {
  const details = key.asymmetricKeyDetails ?? {};
  if ((key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'dsa') && details.modulusLength !== undefined) return { lengthBits: details.modulusLength };
  const curve = details.namedCurve;
  if (curve !== undefined && CURVE_BITS[curve] !== undefined) return { lengthBits: CURVE_BITS[curve], curve };
  throw new ValidationError(`${algorithm} keys are kept on the curves ${Object.keys(CURVE_BITS).join(', ')} only`, { details: { field: 'material' } });
}

/** node:crypto accepted the DER; what it does not check of the numbers is checked here. */
function checkDsaNumbers(material: Buffer, part: 'public' | 'private'): void {
  if (part === 'public') checkDsaPublicKey(readDsaPublicKey(material));
  else checkDsaPrivateKey(readDsaPrivateKey(material));
}

function certificateFacts(material: Buffer): ObjectFacts {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(material);
  } catch {
    throw new ValidationError('the material is not an X.509 certificate', { details: { field: 'material' } });
  }
  // X509Certificate also reads PEM: the appliance keeps DER, the bytes KMIP carries.
  if (!certificate.raw.equals(material)) throw new ValidationError('the certificate must be DER, not PEM', { details: { field: 'material' } });
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const keyBits = details.modulusLength ?? (details.namedCurve !== undefined ? (CURVE_BITS[details.namedCurve] ?? null) : null);
  return {
    encoding: 'x509-der',
    certificateBytes: material.length,
    certificate: { subject: certificate.subject, issuer: certificate.issuer, serialNumber: certificate.serialNumber, keyType: key.asymmetricKeyType ?? 'unknown', keyBits },
  };
}

/** The facts as the text the row keeps and its MAC covers: keys in a fixed (sorted) order, so the same facts always read the same. */
export function canonicalFacts(facts: ObjectFacts): string {
  return JSON.stringify(sortKeys(facts));
}

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(record).sort().filter((k) => record[k] !== undefined).map((k) => [k, sortKeys(record[k])]));
}
