/**
 * Managed objects as KMIP carries them (KMIP 1.4 §2.2, 2.1 §3): the Symmetric
 * Key and Secret Data a Get answers, built from a native Get's result, and
 * the Key Block a Register sends, read into its bytes (or its wrapped
 * bytes and the key they are wrapped under: key-wrapping-data.ts). The appliance keeps
 * bare material; formats are only ways of writing it: Raw or Transparent
 * Symmetric Key for a symmetric key, Opaque (or Raw) for Secret Data. The
 * material is put into the tree as the Buffer the native Get returned (no
 * copy): the transport zeroes the response's Byte Strings once sent. Pure.
 */
import { TtlvNode } from '../ttlv';
import { kmipAlgorithmOf } from './attribute-template';
import { KmipOperationError } from './kmip-operation';
import { readKeyWrappingData } from './key-wrapping-data';
import { bytesItem, enumItem, integerItem, PayloadReader, structureItem } from './payload';

/** The object type of a key of `algorithm`: SECRET keys are Secret Data, the others Symmetric Keys. */
export function objectTypeOf(algorithm: string): 'SymmetricKey' | 'SecretData' {
  return algorithm === 'SECRET' ? 'SecretData' : 'SymmetricKey';
}

/** The Key Format Types each object type is served in; the first is the default (KMIP 1.4 §4.11: Raw for symmetric keys). */
export const SERVED_FORMATS: Readonly<Record<'SymmetricKey' | 'SecretData', readonly string[]>> = {
  SymmetricKey: ['Raw', 'TransparentSymmetricKey'],
  SecretData: ['Opaque', 'Raw'],
};

/** Refuses a Key Format Type this object type is not served in (before any material is fetched). */
export function checkFormat(objectType: 'SymmetricKey' | 'SecretData', format: string): void {
  if (!SERVED_FORMATS[objectType].includes(format)) {
    throw new KmipOperationError('KeyFormatTypeNotSupported', `Key Format Type ${format} is not served for a ${objectType}: ask for ${SERVED_FORMATS[objectType].join(' or ')}`);
  }
}

/**
 * The managed object (a Symmetric Key or Secret Data structure) of material
 * `material` of an appliance key of `algorithm`, in `format`. Secret Data
 * answers Secret Data Type Password: the appliance keeps it as opaque bytes,
 * and Register takes only Password (readSecretDataType).
 */
export function managedObject(algorithm: string, material: Buffer, format: string): TtlvNode {
  const objectType = objectTypeOf(algorithm);
  if (objectType === 'SecretData') {
    return structureItem('SecretData', [
      enumItem('SecretDataType', 'Password'),
      structureItem('KeyBlock', [enumItem('KeyFormatType', format), structureItem('KeyValue', [bytesItem('KeyMaterial', material)])]),
    ]);
  }
  const kmip = kmipAlgorithmOf(algorithm);
  if (kmip === null) throw new Error(`${algorithm} has no KMIP algorithm`);
  const keyMaterial = format === 'TransparentSymmetricKey' ? structureItem('KeyMaterial', [bytesItem('Key', material)]) : bytesItem('KeyMaterial', material);
  return structureItem('SymmetricKey', [
    structureItem('KeyBlock', [
      enumItem('KeyFormatType', format),
      structureItem('KeyValue', [keyMaterial]),
      enumItem('CryptographicAlgorithm', kmip.kmip),
      // The material's own length: an HMAC key may be longer than its hash.
      integerItem('CryptographicLength', material.length * 8),
    ]),
  ]);
}

/** What a Register's Key Block holds: the bytes, and the algorithm and length it declares. */
export interface RegisteredKeyBlock {
  readonly material: Uint8Array;
  /** The Key Format Type it was sent in (registered-format.ts keeps a symmetric key's). */
  readonly format: string;
  readonly algorithm?: string;
  readonly lengthBits?: number;
  /** Set when the Key Block holds Key Wrapping Data: the material is wrapped under this instance (key-wrapping-data.ts). */
  readonly unwrapInstance?: string;
}

/**
 * Reads the Key Block of a Symmetric Key or Secret Data a client registers.
 * Wrapped or compressed blocks, and formats the object type does not take,
 * are refused naming the field.
 */
export function readKeyBlock(object: PayloadReader, objectType: 'SymmetricKey' | 'SecretData'): RegisteredKeyBlock {
  const block = object.structure('KeyBlock');
  if (block === undefined) throw new KmipOperationError('InvalidField', `${object.path}/KeyBlock is required`);
  const wrapping = block.structure('KeyWrappingData');
  const wrapped = wrapping === undefined ? {} : readKeyWrappingData(wrapping);
  if (block.optional('KeyCompressionType') !== undefined) throw new KmipOperationError('KeyCompressionTypeNotSupported', `${block.path}/KeyCompressionType applies to elliptic-curve keys only`);
  const format = block.enumName('KeyFormatType');
  if (format === undefined) throw new KmipOperationError('InvalidField', `${block.path}/KeyFormatType is required`);
  const accepted = SERVED_FORMATS[objectType];
  if (!accepted.includes(format)) throw new KmipOperationError('KeyFormatTypeNotSupported', `Key Format Type ${format} is not accepted for a ${objectType}: send ${accepted.join(' or ')}`);
  const algorithm = block.enumName('CryptographicAlgorithm');
  const lengthBits = block.integer('CryptographicLength');
  const value = block.structure('KeyValue');
  if (value === undefined) throw new KmipOperationError('InvalidField', `${block.path}/KeyValue is required`);
  block.rejectOthers();
  const material = format === 'TransparentSymmetricKey' ? transparentKey(value) : value.bytes('KeyMaterial');
  if (material === undefined) throw new KmipOperationError('InvalidField', `${value.path}/KeyMaterial is required`);
  // KMIP 1.x lets a Key Value carry attributes; they would bypass the Template-Attribute checks.
  if (value.all('Attribute').length > 0) throw new KmipOperationError('FeatureNotSupported', `${value.path}/Attribute: send attributes in the request's Template-Attribute (1.x) or Attributes (2.x)`);
  value.rejectOthers();
  return { material, format, algorithm, lengthBits, ...wrapped };
}

function transparentKey(value: PayloadReader): Uint8Array {
  const structure = value.structure('KeyMaterial');
  if (structure === undefined) throw new KmipOperationError('InvalidField', `${value.path}/KeyMaterial is required`);
  const key = structure.bytes('Key');
  if (key === undefined) throw new KmipOperationError('InvalidField', `${structure.path}/Key is required`);
  structure.rejectOthers();
  return key;
}

/** Secret Data Type: only Password (the appliance keeps opaque bytes and would answer any other type as Password). */
export function readSecretDataType(object: PayloadReader): void {
  const type = object.enumName('SecretDataType');
  if (type === undefined) throw new KmipOperationError('InvalidField', `${object.path}/SecretDataType is required`);
  if (type !== 'Password') throw new KmipOperationError('FeatureNotSupported', `Secret Data Type ${type} is not kept: Secret Data is stored as opaque bytes and served as Password`);
}
