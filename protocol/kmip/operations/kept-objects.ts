/**
 * The objects the appliance keeps but never uses (domain/stored-objects.ts)
 * as KMIP carries them (2.1 §2): Opaque Object {Opaque Data Type, Opaque
 * Data Value}, Certificate {Certificate Type X.509, Certificate Value (DER)},
 * and Public and Private Keys (RSA, EC, DSA) in a Key Block. Register reads
 * them into the native algorithm and bytes; Get writes them back. RSA and EC
 * key formats are written and read by node:crypto (KeyObject export and
 * import, JWK for the Transparent RSA formats): PKCS#1 and X.509
 * (SubjectPublicKeyInfo) for public keys, PKCS#1, PKCS#8 and EC Private Key
 * (SEC 1) for private keys. DSA keys are kept as X.509 and PKCS#8 DER, and
 * their Transparent formats (KMIP's own for DSA, so their default) go
 * through kept-dsa-keys.ts, since node:crypto gives DSA components to
 * nobody; a DSA key is kept and handed back, never used (FIPS 186-5 retired
 * DSA signatures). The Transparent EC formats are refused (node:crypto
 * imports no EC components, and no case sends them). Pure.
 */
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import type { KeyView } from '../../../domain/view-types';
import { TtlvNode } from '../ttlv';
import { transparentDsa, transparentDsaMaterial } from './kept-dsa-keys';
import { KmipOperationError } from './kmip-operation';
import { bufferView, bytesItem, enumItem, integerItem, item, PayloadReader, structureItem } from './payload';

export type KeptObjectType = 'OpaqueObject' | 'Certificate' | 'PublicKey' | 'PrivateKey';

const OBJECT_TYPE_OF: Readonly<Record<string, KeptObjectType>> = {
  OPAQUE: 'OpaqueObject',
  CERTIFICATE: 'Certificate',
  'RSA-PUBLIC': 'PublicKey',
  'EC-PUBLIC': 'PublicKey',
  'RSA-PRIVATE': 'PrivateKey',
  'EC-PRIVATE': 'PrivateKey',
  'DSA-PUBLIC': 'PublicKey',
  'DSA-PRIVATE': 'PrivateKey',
};

/** The KMIP object type of a kept object's algorithm, or null for the appliance's own keys and Secret Data. */
export function keptObjectTypeOf(algorithm: string): KeptObjectType | null {
  return OBJECT_TYPE_OF[algorithm] ?? null;
}

export const isKeptObjectType = (objectType: string): objectType is KeptObjectType => Object.values(OBJECT_TYPE_OF).includes(objectType as KeptObjectType);

/** KMIP Key Format Type ↔ the DER encoding node:crypto names (the native facts' `encoding`). */
const DER_OF_FORMAT: Readonly<Record<string, 'pkcs1' | 'spki' | 'pkcs8' | 'sec1'>> = { PKCS_1: 'pkcs1', X_509: 'spki', PKCS_8: 'pkcs8', ECPrivateKey: 'sec1' };
const FORMAT_OF_DER: Readonly<Record<string, string>> = { pkcs1: 'PKCS_1', spki: 'X_509', pkcs8: 'PKCS_8', sec1: 'ECPrivateKey' };

/** The Key Format Types each kept key is served in (the first is the default for DSA, the registered encoding for the others, §3.8). */
export const KEPT_KEY_FORMATS: Readonly<Record<string, readonly string[]>> = {
  'RSA-PUBLIC': ['PKCS_1', 'X_509', 'TransparentRSAPublicKey'],
  'RSA-PRIVATE': ['PKCS_1', 'PKCS_8', 'TransparentRSAPrivateKey'],
  'EC-PUBLIC': ['X_509'],
  'EC-PRIVATE': ['PKCS_8', 'ECPrivateKey'],
  'DSA-PUBLIC': ['TransparentDSAPublicKey', 'X_509'],
  'DSA-PRIVATE': ['TransparentDSAPrivateKey', 'PKCS_8'],
};

/** KMIP's Cryptographic Algorithm of a kept key's native algorithm (RSA-PUBLIC → RSA). */
const KMIP_ALGORITHM_OF: Readonly<Record<string, string>> = { RSA: 'RSA', EC: 'EC', DSA: 'DSA' };
const kmipAlgorithmOf = (native: string): string | undefined => KMIP_ALGORITHM_OF[native.split('-')[0]];

/** What a Register of a kept object sends the native Register. `material` is zeroed by the caller once sent. */
export interface KeptRegistration {
  readonly algorithm: string;
  readonly material: Buffer;
  readonly opaqueType?: number;
}

/** Reads the managed object of a kept type from a Register payload. */
export function readKeptObject(objectType: KeptObjectType, object: PayloadReader, statedAlgorithm: string | undefined, statedLength: number | undefined, certificateType: string | undefined): KeptRegistration {
  switch (objectType) {
    case 'OpaqueObject': {
      const type = object.required('OpaqueDataType');
      // KMIP 2.1 defines no Opaque Data Types: every one is an extension (0x8XXXXXXX), so the value is kept as it is.
      if (type.type !== 'Enumeration') throw new KmipOperationError('InvalidField', `${object.path}/OpaqueDataType must be an Enumeration`);
      const value = object.requiredBytes('OpaqueDataValue');
      object.rejectOthers();
      return { algorithm: 'OPAQUE', material: bufferView(value), opaqueType: type.value >>> 0 };
    }
    case 'Certificate': {
      const type = object.enumName('CertificateType');
      if (type === undefined) throw new KmipOperationError('InvalidField', `${object.path}/CertificateType is required`);
      if (type !== 'X_509') throw new KmipOperationError('FeatureNotSupported', `Certificate Type ${type}: only X.509 certificates are kept`);
      if (certificateType !== undefined && certificateType !== type) throw new KmipOperationError('InvalidField', 'Certificate Type of the attributes and of the Certificate differ');
      const value = object.requiredBytes('CertificateValue');
      object.rejectOthers();
      return { algorithm: 'CERTIFICATE', material: bufferView(value) };
    }
    default:
      return readKeyBlock(objectType, object, statedAlgorithm, statedLength);
  }
}

function readKeyBlock(objectType: 'PublicKey' | 'PrivateKey', object: PayloadReader, statedAlgorithm: string | undefined, statedLength: number | undefined): KeptRegistration {
  const block = object.structure('KeyBlock');
  if (block === undefined) throw new KmipOperationError('InvalidField', `${object.path}/KeyBlock is required`);
  object.rejectOthers();
  if (block.optional('KeyWrappingData') !== undefined) throw new KmipOperationError('FeatureNotSupported', `${block.path}/KeyWrappingData: wrapped key blocks are not accepted; register the key unwrapped over this TLS connection`);
  if (block.optional('KeyCompressionType') !== undefined) throw new KmipOperationError('KeyCompressionTypeNotSupported', `${block.path}/KeyCompressionType: keys are kept uncompressed`);
  const format = block.enumName('KeyFormatType');
  if (format === undefined) throw new KmipOperationError('InvalidField', `${block.path}/KeyFormatType is required`);
  const algorithm = agreeing('Cryptographic Algorithm', block.enumName('CryptographicAlgorithm'), statedAlgorithm);
  const lengthBits = agreeing('Cryptographic Length', block.integer('CryptographicLength'), statedLength);
  const value = block.structure('KeyValue');
  if (value === undefined) throw new KmipOperationError('InvalidField', `${block.path}/KeyValue is required`);
  block.rejectOthers();
  const family = algorithm === 'RSA' || algorithm === 'DSA' ? algorithm : algorithm === 'EC' || algorithm === 'ECDSA' ? 'EC' : undefined;
  if (family === undefined) {
    throw new KmipOperationError(algorithm === undefined ? 'InvalidField' : 'FeatureNotSupported', `${block.path}/CryptographicAlgorithm: ${algorithm ?? 'it is required'}; public and private keys are kept for RSA, EC and DSA`);
  }
  const native = `${family}-${objectType === 'PublicKey' ? 'PUBLIC' : 'PRIVATE'}`;
  if (!KEPT_KEY_FORMATS[native].includes(format)) throw new KmipOperationError('KeyFormatTypeNotSupported', `Key Format Type ${format} is not accepted for ${family} ${objectType === 'PublicKey' ? 'public' : 'private'} keys: send ${KEPT_KEY_FORMATS[native].join(' or ')}`);
  const material = !format.startsWith('Transparent') ? bufferView(value.requiredBytes('KeyMaterial')) : family === 'DSA' ? transparentDsa(value, objectType) : transparentRsa(value, objectType);
  if (value.all('Attribute').length > 0) throw new KmipOperationError('FeatureNotSupported', `${value.path}/Attribute: send attributes in the request's Attributes`);
  value.rejectOthers();
  // A Transparent RSA key became PKCS#1, a Transparent DSA key the X.509 or PKCS#8 it is kept in.
  const encoding = DER_OF_FORMAT[format] ?? (family === 'DSA' ? (objectType === 'PublicKey' ? 'spki' : 'pkcs8') : 'pkcs1');
  if (lengthBits !== undefined) checkStatedLength(material, objectType, encoding, lengthBits);
  return { algorithm: native, material };
}

/** A stated Cryptographic Length must be the key's own (node:crypto reads it); bytes that do not parse are left to the native Register to refuse. */
function checkStatedLength(material: Buffer, objectType: 'PublicKey' | 'PrivateKey', encoding: 'pkcs1' | 'spki' | 'pkcs8' | 'sec1', stated: number): void {
  let details: { modulusLength?: number; namedCurve?: string };
  try {
    const key = objectType === 'PublicKey' ? createPublicKey({ key: material, format: 'der', type: encoding as 'pkcs1' | 'spki' }) : createPrivateKey({ key: material, format: 'der', type: encoding as 'pkcs1' | 'pkcs8' | 'sec1' });
    details = key.asymmetricKeyDetails ?? {};
  } catch {
    return;
  }
  const actual = details.modulusLength ?? CURVE_BITS[details.namedCurve ?? ''];
  if (actual !== undefined && actual !== stated) throw new KmipOperationError('InvalidField', `Cryptographic Length ${stated} is not the key's (${actual} bits)`);
}

const CURVE_BITS: Readonly<Record<string, number>> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 };

function agreeing<T>(field: string, fromBlock: T | undefined, fromAttributes: T | undefined): T | undefined {
  if (fromBlock !== undefined && fromAttributes !== undefined && fromBlock !== fromAttributes) throw new KmipOperationError('InvalidField', `${field} of the Key Block and of the attributes differ`);
  return fromBlock ?? fromAttributes;
}

/** Transparent RSA Key Material → PKCS#1 DER, through node:crypto's JWK import. */
const RSA_PUBLIC_FIELDS = [['Modulus', 'n'], ['PublicExponent', 'e']] as const;
const RSA_PRIVATE_FIELDS = [...RSA_PUBLIC_FIELDS, ['PrivateExponent', 'd'], ['P', 'p'], ['Q', 'q'], ['PrimeExponentP', 'dp'], ['PrimeExponentQ', 'dq'], ['CRTCoefficient', 'qi']] as const;

function transparentRsa(value: PayloadReader, objectType: 'PublicKey' | 'PrivateKey'): Buffer {
  const structure = value.structure('KeyMaterial');
  if (structure === undefined) throw new KmipOperationError('InvalidField', `${value.path}/KeyMaterial is required`);
  const jwk: Record<string, string> = { kty: 'RSA' };
  for (const [tag, member] of objectType === 'PublicKey' ? RSA_PUBLIC_FIELDS : RSA_PRIVATE_FIELDS) {
    const node = structure.required(tag);
    if (node.type !== 'BigInteger') throw new KmipOperationError('InvalidField', `${structure.path}/${tag} must be a Big Integer`);
    jwk[member] = base64url(node.value);
  }
  structure.rejectOthers();
  let key: KeyObject;
  try {
    key = objectType === 'PublicKey' ? createPublicKey({ key: jwk, format: 'jwk' }) : createPrivateKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new KmipOperationError('InvalidField', `${structure.path}: not an RSA ${objectType === 'PublicKey' ? 'public' : 'private'} key`);
  }
  return key.export({ format: 'der', type: 'pkcs1' }) as Buffer;
}

const base64url = (value: bigint): string => {
  if (value <= 0n) throw new KmipOperationError('InvalidField', 'an RSA key component must be positive');
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex').toString('base64url');
};

const fromBase64url = (text: string | undefined): bigint => BigInt(`0x${Buffer.from(text ?? '', 'base64url').toString('hex') || '0'}`);

/** Refuses a Key Format Type a kept object is not served in (before its material is fetched). */
export function checkKeptFormat(algorithm: string, format: string | undefined): void {
  if (format === undefined) return;
  const served = KEPT_KEY_FORMATS[algorithm];
  if (served === undefined) throw new KmipOperationError('KeyFormatTypeNotSupported', `Key Format Type ${format}: a ${keptObjectTypeOf(algorithm)} is not a key block; ask without a Key Format Type`);
  if (!served.includes(format)) throw new KmipOperationError('KeyFormatTypeNotSupported', `Key Format Type ${format} is not served for this key: ask for ${served.join(' or ')}`);
}

/**
 * The managed object of a kept object's material, in `format` (a key's
 * registered encoding when absent). The material Buffer goes into the tree
 * as it is when no conversion is asked (the transport zeroes it once sent);
 * a conversion's own bytes go there instead, and the caller zeroes `material`.
 */
export function keptManagedObject(key: KeyView, material: Buffer, format: string | undefined): { object: TtlvNode; converted: boolean } {
  const facts = key.facts;
  if (key.algorithm === 'OPAQUE') {
    return { object: structureItem('OpaqueObject', [item('OpaqueDataType', 'Enumeration', facts?.opaqueType ?? 0), bytesItem('OpaqueDataValue', material)]), converted: false };
  }
  if (key.algorithm === 'CERTIFICATE') {
    return { object: structureItem('Certificate', [enumItem('CertificateType', 'X_509'), bytesItem('CertificateValue', material)]), converted: false };
  }
  checkKeptFormat(key.algorithm, format);
  const stored = facts?.encoding ?? 'pkcs1';
  const kmipAlgorithm = kmipAlgorithmOf(key.algorithm) as string;
  // KMIP's own formats for DSA are the Transparent ones, what the OASIS cases register and Get.
  const wanted = format ?? (kmipAlgorithm === 'DSA' ? KEPT_KEY_FORMATS[key.algorithm][0] : FORMAT_OF_DER[stored]);
  const objectType = keptObjectTypeOf(key.algorithm) as 'PublicKey' | 'PrivateKey';
  const keyObject = (): KeyObject =>
    objectType === 'PublicKey'
      ? createPublicKey({ key: material, format: 'der', type: stored as 'pkcs1' | 'spki' })
      : createPrivateKey({ key: material, format: 'der', type: stored as 'pkcs1' | 'pkcs8' | 'sec1' });
  let keyMaterial: TtlvNode;
  let converted = true;
  if (wanted === FORMAT_OF_DER[stored]) {
    keyMaterial = bytesItem('KeyMaterial', material);
    converted = false;
  } else if (kmipAlgorithm === 'DSA') {
    // The only conversion a DSA key has (its DER formats are the stored ones): to its components.
    keyMaterial = transparentDsaMaterial(material, objectType);
  } else if (wanted.startsWith('Transparent')) {
    const jwk = keyObject().export({ format: 'jwk' }) as Record<string, string>;
    const fields = objectType === 'PublicKey' ? RSA_PUBLIC_FIELDS : RSA_PRIVATE_FIELDS;
    keyMaterial = structureItem('KeyMaterial', fields.map(([tag, member]) => item(tag, 'BigInteger', fromBase64url(jwk[member]))));
  } else {
    keyMaterial = bytesItem('KeyMaterial', keyObject().export({ format: 'der', type: DER_OF_FORMAT[wanted] } as never) as Buffer);
  }
  const block = structureItem('KeyBlock', [
    enumItem('KeyFormatType', wanted),
    structureItem('KeyValue', [keyMaterial]),
    enumItem('CryptographicAlgorithm', kmipAlgorithm),
    facts?.lengthBits === undefined ? undefined : integerItem('CryptographicLength', facts.lengthBits),
  ]);
  return { object: structureItem(objectType, [block]), converted };
}

/** The Cryptographic Algorithm and Length KMIP reports for a kept key (a certificate: of the key it certifies). */
export function keptCryptoAttributes(key: KeyView): { algorithm: string; length: number } | undefined {
  const facts = key.facts;
  if (facts === undefined) return undefined;
  if (key.algorithm === 'CERTIFICATE') {
    const certified = facts.certificate;
    if (certified === undefined || certified.keyBits === null) return undefined;
    const algorithm = KMIP_ALGORITHM_OF[certified.keyType.toUpperCase()];
    return algorithm === undefined ? undefined : { algorithm, length: certified.keyBits };
  }
  const algorithm = kmipAlgorithmOf(key.algorithm);
  return facts.lengthBits === undefined || algorithm === undefined ? undefined : { algorithm, length: facts.lengthBits };
}

/** The certificate attributes of KMIP 2.x reported for a Certificate, by the RDN node:crypto names in a subject or issuer. */
const NAME_PARTS: ReadonlyArray<readonly [string, string]> = [['CN', 'CN'], ['O', 'O'], ['OU', 'OU'], ['Email', 'emailAddress'], ['C', 'C'], ['ST', 'ST'], ['L', 'L']];
export const CERTIFICATE_TAGS = ['CertificateType', 'CertificateLength', ...NAME_PARTS.map(([part]) => `CertificateSubject${part}`), ...NAME_PARTS.map(([part]) => `CertificateIssuer${part}`)] as const;

/**
 * A Certificate's attributes, from the facts read from it at Register:
 * Certificate Type (X.509), Certificate Length (its DER's bytes), and the
 * parts of its subject and issuer names (KMIP 2.1 §4.9–4.10). node:crypto
 * writes a name one `KEY=value` per line; a part the name lacks is absent.
 */
export function certificateAttributes(key: KeyView): Record<string, TtlvNode[]> {
  const facts = key.facts;
  if (key.algorithm !== 'CERTIFICATE' || facts?.certificate === undefined) return {};
  const attributes: Record<string, TtlvNode[]> = {
    CertificateType: [enumItem('CertificateType', 'X_509')],
    CertificateLength: facts.certificateBytes === undefined ? [] : [integerItem('CertificateLength', facts.certificateBytes)],
  };
  for (const [role, name] of [['Subject', facts.certificate.subject], ['Issuer', facts.certificate.issuer]] as const) {
    const lines = name.split('\n');
    for (const [part, rdn] of NAME_PARTS) {
      const tag = `Certificate${role}${part}`;
      attributes[tag] = lines.filter((line) => line.startsWith(`${rdn}=`)).map((line) => item(tag, 'TextString', line.slice(rdn.length + 1)));
    }
  }
  return attributes;
}
