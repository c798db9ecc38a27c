/**
 * Key Wrapping Data in a Register's Key Block (KMIP 1.4 §2.1.5, 2.1
 * §2.1.5): the client's key material arrives wrapped, and the native
 * Register takes it as a wrapped import (docs/protocol.md §6.5: `unwrapInstance`,
 * always a dual-controlled key import, Operation Pending). What the native
 * import unwraps is what is read here: Wrapping Method Encrypt, an
 * Encryption Key Information naming an appliance AES key's instance (its
 * Unique Identifier), Block Cipher Mode AES Key Wrap Padding (RFC 5649),
 * no encoding (the Key Value is the wrapped bytes). Anything else
 * (MAC/signature wrapping, RFC 3394 without padding, an IV, TR-31) is
 * refused naming the field: nothing is guessed. Pure.
 */
import { KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';

/** The one Block Cipher Mode the native wrapped import unwraps. */
const WRAP_MODE = 'AESKeyWrapPadding';

function unsupported(path: string, what: string): KmipOperationError {
  return new KmipOperationError('FeatureNotSupported', `${path}: ${what}; a wrapped Register takes Wrapping Method Encrypt with Block Cipher Mode ${WRAP_MODE} (RFC 5649) under an AES key held here`);
}

/** The instance the material is wrapped under, from a Key Block's Key Wrapping Data. */
export function readKeyWrappingData(wrapping: PayloadReader): { unwrapInstance: string } {
  const method = wrapping.enumName('WrappingMethod');
  if (method === undefined) throw new KmipOperationError('InvalidField', `${wrapping.path}/WrappingMethod is required`);
  if (method !== 'Encrypt') throw unsupported(`${wrapping.path}/WrappingMethod`, `${method} is not offered`);
  if (wrapping.optional('MACSignatureKeyInformation') !== undefined) throw unsupported(`${wrapping.path}/MACSignatureKeyInformation`, 'MAC or signature wrapping is not offered');
  if (wrapping.optional('IVCounterNonce') !== undefined) throw unsupported(`${wrapping.path}/IVCounterNonce`, 'RFC 5649 takes no IV');
  if (wrapping.optional('MACSignature') !== undefined) throw unsupported(`${wrapping.path}/MACSignature`, 'MAC or signature wrapping is not offered');
  const encoding = wrapping.enumName('EncodingOption');
  if (encoding !== undefined && encoding !== 'NoEncoding') throw unsupported(`${wrapping.path}/EncodingOption`, `${encoding} is not offered (the Key Value is the wrapped bytes)`);
  const info = wrapping.structure('EncryptionKeyInformation');
  if (info === undefined) throw new KmipOperationError('InvalidField', `${wrapping.path}/EncryptionKeyInformation is required`);
  wrapping.rejectOthers();
  const unwrapInstance = info.text('UniqueIdentifier');
  if (unwrapInstance === undefined) throw new KmipOperationError('InvalidField', `${info.path}/UniqueIdentifier is required`);
  const parameters = info.structure('CryptographicParameters');
  const mode = parameters?.enumName('BlockCipherMode');
  if (mode !== WRAP_MODE) throw unsupported(`${info.path}/CryptographicParameters/BlockCipherMode`, mode === undefined ? 'it is required' : `${mode} is not offered`);
  parameters?.rejectOthers();
  info.rejectOthers();
  return { unwrapInstance };
}
