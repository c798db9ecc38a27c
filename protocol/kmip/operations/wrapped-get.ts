/**
 * Get with a Key Wrapping Specification (KMIP 1.4 §4.11, 2.1 §6.1.22): the
 * native wrapped export (docs/protocol.md §6.5: `Export`, always a
 * dual-controlled key export), so the answer is Operation Pending and Poll
 * gives the wrapped object once officers approved. Mapped: Wrapping Method
 * Encrypt, an Encryption Key Information naming an appliance AES key's
 * instance, Block Cipher Mode AES Key Wrap Padding (RFC 5649), no encoding.
 * The answer's Key Block holds the wrapped bytes as its Key Value (a Byte
 * String) and the Key Wrapping Data that says how (KMIP 1.4 §2.1.5).
 * Anything else (RFC 3394 NISTKeyWrap, MAC/Sign, an attribute name list, a
 * format other than the default) is refused naming the field, before any
 * request is stored.
 */
import { TtlvNode } from '../ttlv';
import { kmipAlgorithmOf } from './attribute-template';
import { objectTypeOf, SERVED_FORMATS } from './key-objects';
import { keptObjectTypeOf } from './kept-objects';
import { KmipOperationContext, KmipOperationError, NativeResultMapping } from './kmip-operation';
import { bytesItem, enumItem, integerItem, PayloadReader, responsePayload, structureItem, textItem } from './payload';

const WRAP_MODE = 'AESKeyWrapPadding';

function unsupported(path: string, what: string): KmipOperationError {
  return new KmipOperationError('FeatureNotSupported', `${path}: ${what}; a wrapped Get takes Wrapping Method Encrypt with Block Cipher Mode ${WRAP_MODE} (RFC 5649) under an AES key held here`);
}

/** The AES key instance to wrap under, from a Key Wrapping Specification. */
export function readKeyWrappingSpecification(spec: PayloadReader): { wrapInstance: string } {
  const method = spec.enumName('WrappingMethod');
  if (method === undefined) throw new KmipOperationError('InvalidField', `${spec.path}/WrappingMethod is required`);
  if (method !== 'Encrypt') throw unsupported(`${spec.path}/WrappingMethod`, `${method} is not offered`);
  if (spec.optional('MACSignatureKeyInformation') !== undefined) throw unsupported(`${spec.path}/MACSignatureKeyInformation`, 'MAC or signature wrapping is not offered');
  if (spec.all('AttributeName').length > 0) throw unsupported(`${spec.path}/AttributeName`, 'wrapping attributes with the key is not offered');
  const encoding = spec.enumName('EncodingOption');
  if (encoding !== undefined && encoding !== 'NoEncoding') throw unsupported(`${spec.path}/EncodingOption`, `${encoding} is not offered`);
  const info = spec.structure('EncryptionKeyInformation');
  if (info === undefined) throw new KmipOperationError('InvalidField', `${spec.path}/EncryptionKeyInformation is required`);
  spec.rejectOthers();
  const wrapInstance = info.text('UniqueIdentifier');
  if (wrapInstance === undefined) throw new KmipOperationError('InvalidField', `${info.path}/UniqueIdentifier is required`);
  const parameters = info.structure('CryptographicParameters');
  const mode = parameters?.enumName('BlockCipherMode');
  if (mode !== WRAP_MODE) throw unsupported(`${info.path}/CryptographicParameters/BlockCipherMode`, mode === undefined ? 'it is required' : `${mode} is not offered`);
  parameters?.rejectOthers();
  info.rejectOthers();
  return { wrapInstance };
}

/** Asks the native Export (always Operation Pending: the runner answers the approval request). */
export async function wrappedGet(uid: string, format: string | undefined, wrapInstance: string, ctx: KmipOperationContext): Promise<TtlvNode> {
  if (format !== undefined && format !== 'Raw' && format !== 'Opaque') throw new KmipOperationError('KeyFormatTypeNotSupported', `a wrapped Get answers the default Key Format Type (Raw, or Opaque for Secret Data), not ${format}`);
  return wrappedAnswer(await ctx.call('Export', { instance: uid, wrapMethod: 'AES-KWP', wrapInstance }));
}

interface ExportResult {
  readonly key: { readonly algorithm: string };
  readonly instance: { readonly name: string };
  readonly wrapped: Buffer;
  readonly materialLength: number;
  readonly wrappingKey: { readonly instance?: string };
}

/** The Response Payload of a collected export: the object, its Key Value the wrapped bytes, with its Key Wrapping Data. */
export function wrappedAnswer(value: unknown): TtlvNode {
  const result = value as ExportResult;
  const wrapping = structureItem('KeyWrappingData', [
    enumItem('WrappingMethod', 'Encrypt'),
    structureItem('EncryptionKeyInformation', [textItem('UniqueIdentifier', String(result.wrappingKey.instance)), structureItem('CryptographicParameters', [enumItem('BlockCipherMode', WRAP_MODE)])]),
  ]);
  if (keptObjectTypeOf(result.key.algorithm) !== null) {
    result.wrapped.fill(0);
    throw new KmipOperationError('FeatureNotSupported', `a wrapped Get answers Symmetric Keys and Secret Data; ${result.key.algorithm} is a kept object`);
  }
  const objectType = objectTypeOf(result.key.algorithm);
  const format = SERVED_FORMATS[objectType][0];
  if (objectType === 'SecretData') {
    return responsePayload([
      enumItem('ObjectType', objectType),
      textItem('UniqueIdentifier', result.instance.name),
      structureItem('SecretData', [enumItem('SecretDataType', 'Password'), structureItem('KeyBlock', [enumItem('KeyFormatType', format), bytesItem('KeyValue', result.wrapped), wrapping])]),
    ]);
  }
  const kmip = kmipAlgorithmOf(result.key.algorithm);
  if (kmip === null) throw new Error(`${result.key.algorithm} has no KMIP algorithm`);
  return responsePayload([
    enumItem('ObjectType', objectType),
    textItem('UniqueIdentifier', result.instance.name),
    structureItem('SymmetricKey', [
      structureItem('KeyBlock', [
        enumItem('KeyFormatType', format),
        bytesItem('KeyValue', result.wrapped),
        enumItem('CryptographicAlgorithm', kmip.kmip),
        integerItem('CryptographicLength', result.materialLength * 8),
        wrapping,
      ]),
    ]),
  ]);
}

/** Poll's answer to an approved wrapped Get (the native Export's collected result). */
export const wrappedGetResult: NativeResultMapping = { operation: 'Export', toPayload: (result) => wrappedAnswer(result) };
