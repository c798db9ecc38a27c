/**
 * KMIP's Transparent DSA Public and Private Key formats (2.1 §2.1.7.6–7:
 * Key Material {P, Q, G, Y} and {P, Q, G, X}, Big Integers) ↔ the DER the
 * appliance keeps a DSA key in (X.509 SubjectPublicKeyInfo, PKCS#8:
 * domain/keys/dsa-der.ts). Register writes the DER from the components and
 * leaves every check of them to the native Register (node:crypto must read
 * the DER back identically, and domain/keys/dsa-key-check.ts checks the
 * numbers), so both wires keep a DSA key under the same rules; Get reads
 * them back out. A DSA key is kept, never used: nothing here signs. Pure.
 */
import { dsaPrivateKeyDer, dsaPublicKeyDer, readDsaPrivateKey, readDsaPublicKey } from '../../../domain/keys/dsa-der';
import { TtlvNode } from '../ttlv';
import { KmipOperationError } from './kmip-operation';
import { item, PayloadReader, structureItem } from './payload';

type KeyPart = 'PublicKey' | 'PrivateKey';

/** The Key Material's members, in the order KMIP lists them: the domain parameters, then the key. */
const MEMBERS: Readonly<Record<KeyPart, readonly ['P', 'Q', 'G', 'Y' | 'X']>> = { PublicKey: ['P', 'Q', 'G', 'Y'], PrivateKey: ['P', 'Q', 'G', 'X'] };

/** A Transparent DSA Key Material → the DER kept (a private key's: the caller zeroes it). */
export function transparentDsa(value: PayloadReader, objectType: KeyPart): Buffer {
  const structure = value.structure('KeyMaterial');
  if (structure === undefined) throw new KmipOperationError('InvalidField', `${value.path}/KeyMaterial is required`);
  const components: Record<string, bigint> = {};
  for (const tag of MEMBERS[objectType]) {
    const node = structure.required(tag);
    if (node.type !== 'BigInteger') throw new KmipOperationError('InvalidField', `${structure.path}/${tag} must be a Big Integer`);
    if (node.value <= 0n) throw new KmipOperationError('InvalidField', `${structure.path}/${tag}: a DSA key component must be positive`);
    components[tag] = node.value;
  }
  structure.rejectOthers();
  const { P: p, Q: q, G: g } = components;
  return objectType === 'PublicKey' ? dsaPublicKeyDer({ p, q, g, y: components.Y }) : dsaPrivateKeyDer({ p, q, g, x: components.X });
}

/** The kept DER of a DSA key → its Transparent Key Material. */
export function transparentDsaMaterial(material: Buffer, objectType: KeyPart): TtlvNode {
  const key = objectType === 'PublicKey' ? readDsaPublicKey(material) : readDsaPrivateKey(material);
  const values: Record<string, bigint> = { P: key.p, Q: key.q, G: key.g, ...('y' in key ? { Y: key.y } : { X: key.x }) };
  return structureItem('KeyMaterial', MEMBERS[objectType].map((tag) => item(tag, 'BigInteger', values[tag])));
}
