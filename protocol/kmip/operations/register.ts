/**
 * Register (KMIP 2.1 §6.1.43, 1.4 §4.3): an object whose bytes the client
 * brings, through the native Register. Secret Data registers at once (the
 * appliance's SECRET keys: bytes it cannot generate). A Symmetric Key is
 * passed on too, with its algorithm: the native Register makes it a key
 * import (dual-control class `key-import`), so no single client plants
 * material the appliance would otherwise generate; the answer is Operation
 * Pending, and once other officers approved, Poll answers this operation's
 * payload from the stored result (`nativeResult`). Unique Identifier: the
 * new instance.
 */
import { KeyDescription } from '../../../domain/keys/key-catalogue';
import { applianceAlgorithm, readRequestedAttributes, RequestedAttributes } from './attribute-template';
import { nativeKeyArgs } from './key-args';
import { registeredFormatAttribute } from './registered-format';
import { readKeyBlock, readSecretDataType, RegisteredKeyBlock } from './key-objects';
import { isKeptObjectType, KeptObjectType, readKeptObject } from './kept-objects';
import { KmipOperation, KmipOperationContext, KmipOperationError } from './kmip-operation';
import { bufferView, PayloadReader, responsePayload, textItem } from './payload';
import { TtlvNode } from '../ttlv';

/** The payload of a registered key: its new instance (also what Poll answers for an approved import). */
function registeredPayload(result: unknown): TtlvNode {
  return responsePayload([textItem('UniqueIdentifier', (result as KeyDescription).key.currentInstance)]);
}

export const register: KmipOperation = {
  operation: 'Register',
  nativeResult: { operation: 'Register', toPayload: registeredPayload },
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const objectType = reader.enumName('ObjectType');
    if (objectType === undefined) throw new KmipOperationError('InvalidField', 'RequestPayload/ObjectType is required');
    if (isKeptObjectType(objectType)) return registerKept(objectType, reader, ctx);
    if (objectType !== 'SymmetricKey' && objectType !== 'SecretData') {
      throw new KmipOperationError('FeatureNotSupported', `${objectType} objects are not kept here: Register takes Secret Data, Opaque Objects, Certificates, Public and Private Keys (and Create makes Symmetric Keys)`);
    }
    const requested = readRequestedAttributes(reader, ctx.version);
    if (requested.certificateType !== undefined) throw new KmipOperationError('InvalidField', `Certificate Type is for Certificates, not a ${objectType}`);
    const object = reader.structure(objectType);
    if (object === undefined) throw new KmipOperationError('InvalidField', `RequestPayload/${objectType} is required`);
    if (objectType === 'SecretData') readSecretDataType(object);
    const block = readKeyBlock(object, objectType);
    object.rejectOthers();
    reader.rejectOthers();
    const algorithm = objectType === 'SecretData' ? secretAlgorithm(requested, block) : symmetricAlgorithm(requested, block);
    // A view of the request's bytes, not a copy: the transport zeroes the request's Byte Strings.
    const material = bufferView(block.material);
    const args = nativeKeyArgs(requested, ctx);
    // The format is kept so that Get answers it as registered (registered-format.ts).
    const format = registeredFormatAttribute(objectType, block.format);
    const attributes = Object.keys(format).length === 0 ? args.attributes : { ...args.attributes, ...format };
    // Wrapped material (Key Wrapping Data) is the native wrapped import: always a key import, Operation Pending.
    const unwrap = block.unwrapInstance === undefined ? {} : { unwrapInstance: block.unwrapInstance };
    return registeredPayload(await ctx.call('Register', { ...args, attributes, algorithm, material, ...unwrap }));
  },
};

/**
 * An object the appliance keeps and never uses (kept-objects.ts): a SECRET
 * key's rule applies (one client may register its own; no dual control),
 * since no material the appliance would generate is planted.
 */
async function registerKept(objectType: KeptObjectType, reader: PayloadReader, ctx: KmipOperationContext): Promise<TtlvNode> {
  const requested = readRequestedAttributes(reader, ctx.version);
  const object = reader.structure(objectType);
  if (object === undefined) throw new KmipOperationError('InvalidField', `RequestPayload/${objectType} is required`);
  if (requested.certificateType !== undefined && objectType !== 'Certificate') throw new KmipOperationError('InvalidField', `Certificate Type is for Certificates, not a ${objectType}`);
  if ((objectType === 'OpaqueObject' || objectType === 'Certificate') && (requested.algorithm !== undefined || requested.lengthBits !== undefined)) {
    throw new KmipOperationError('InvalidField', `${objectType === 'Certificate' ? 'a Certificate\'s key algorithm and length are read from it' : 'an Opaque Object has no Cryptographic Algorithm or Length'}: leave them out`);
  }
  const kept = readKeptObject(objectType, object, requested.algorithm, requested.lengthBits, requested.certificateType);
  try {
    reader.rejectOthers();
    const registered = (await ctx.call('Register', { ...nativeKeyArgs(requested, ctx), algorithm: kept.algorithm, material: kept.material, opaqueType: kept.opaqueType })) as KeyDescription;
    return responsePayload([textItem('UniqueIdentifier', registered.key.currentInstance)]);
  } finally {
    // The native call zeroes what it was given; a refusal before it must not leave a converted key (Transparent RSA → PKCS#1) behind.
    kept.material.fill(0);
  }
}

function secretAlgorithm(requested: RequestedAttributes, block: RegisteredKeyBlock): string {
  if (requested.algorithm !== undefined || block.algorithm !== undefined || requested.lengthBits !== undefined || block.lengthBits !== undefined) {
    throw new KmipOperationError('InvalidField', 'Secret Data has no Cryptographic Algorithm or Cryptographic Length: leave them out');
  }
  return 'SECRET';
}

/** The Key Block's algorithm and length, which the attributes, if they give them too, must agree with. */
function symmetricAlgorithm(requested: RequestedAttributes, block: RegisteredKeyBlock): string {
  for (const [field, fromBlock, fromAttributes] of [
    ['Cryptographic Algorithm', block.algorithm, requested.algorithm],
    ['Cryptographic Length', block.lengthBits, requested.lengthBits],
  ] as const) {
    if (fromBlock !== undefined && fromAttributes !== undefined && fromBlock !== fromAttributes) {
      throw new KmipOperationError('InvalidField', `${field} of the Key Block and of the attributes differ`);
    }
  }
  // Wrapped bytes are longer than the key: its length must be said.
  const length = block.lengthBits ?? requested.lengthBits ?? (block.unwrapInstance === undefined ? block.material.byteLength * 8 : undefined);
  if (length === undefined) throw new KmipOperationError('InvalidField', 'Cryptographic Length is required with Key Wrapping Data: the wrapped bytes are longer than the key');
  return applianceAlgorithm(block.algorithm ?? requested.algorithm, length);
}
