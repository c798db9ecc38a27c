/**
 * A key's own Cryptographic Parameters (KMIP 2.1 §4.7, 1.4 §3.6): given
 * with Create or Register, they are the defaults Encrypt and Decrypt use
 * when a request's parameters leave the cipher open (the OASIS CS-BC-M-1,
 * -2, -3, -12, -13 cases send none). They are kept with the key as its
 * custom attribute `kmip.CryptographicParameters` (the convention for
 * standard KMIP attributes the appliance does not model natively: the
 * reserved name `kmip.<Tag>`, the value the KMIP JSON encoding of the
 * attribute, protocol/kmip/kmip-json.ts), so they are part of the key row
 * and authenticated with it (its row MAC), and change only through the
 * native operations that change custom attributes.
 *
 * They choose a mode, never a permission: the native Encrypt still asks
 * `get` for ECB or a chosen IV, whichever parameters chose them.
 */
import { asStrongroomError } from '../../../common/errors';
import { MAX_ATTRIBUTE_VALUE } from '../../../domain/vocabulary/key-metadata-limits';
import { formatKmipJson, parseKmipJson } from '../kmip-json';
import { tagNumberOf } from '../kmip-message-fields';
import { TtlvNode } from '../ttlv';
import { chooseCipher, CipherChoice, CipherFields, leavesCipherOpen, readCipherFields } from './cryptographic-parameters';
import { KmipOperationContext, KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';

/** The custom attribute that keeps a key's Cryptographic Parameters. */
export const KEPT_CRYPTOGRAPHIC_PARAMETERS = 'kmip.CryptographicParameters';

/**
 * The kept value of a Cryptographic Parameters attribute sent with Create
 * or Register (`value`: the structure, whatever its tag: 1.x sends it as an
 * Attribute Value). Checked now, so a key never keeps defaults no Encrypt
 * could use: fields Encrypt and Decrypt do not read are Invalid Field, modes
 * the appliance lacks Feature Not Supported.
 */
export function keptCipherParameters(value: TtlvNode, label: string): string {
  if (value.type !== 'Structure') throw new KmipOperationError('InvalidField', `${label} must be a Structure, not a ${value.type}`);
  chooseCipher(readCipherFields(new PayloadReader(value, label)));
  const text = formatKmipJson({ ...value, tag: tagNumberOf('CryptographicParameters') });
  if (text.length > MAX_ATTRIBUTE_VALUE) throw new KmipOperationError('InvalidField', `${label} is longer than this server keeps`);
  return text;
}

/** The key's view as the native GetAttributes answers it (the parts read here). */
interface KeyAttributes {
  readonly key: { readonly algorithm: string; readonly customAttributes: Readonly<Record<string, string>> };
}

/**
 * The cipher of an Encrypt or Decrypt on `instance`: the request's own
 * parameters when they name a Block Cipher Mode or an algorithm; otherwise
 * the key's kept parameters, overridden field by field by the request's,
 * for the key's algorithm (read through the native GetAttributes, so that
 * needs `get-attributes` on the key: without it the client is told to name
 * the mode, not given a mode the key's parameters may not have chosen).
 */
export async function cipherForRequest(given: CipherFields, instance: string, authenticated: boolean, ctx: KmipOperationContext): Promise<CipherChoice> {
  if (!leavesCipherOpen(given)) return chooseCipher(given, { authenticated });
  const attributes = (await ctx.call('GetAttributes', { instance }).catch((err: unknown) => {
    const error = asStrongroomError(err);
    if (error.code !== 'PERMISSION_DENIED') throw err;
    throw new KmipOperationError('PermissionDenied', `PERMISSION_DENIED: the request names no Block Cipher Mode or Cryptographic Algorithm, so the key's own Cryptographic Parameters decide, and reading them needs get-attributes on the key: name the mode in Cryptographic Parameters, or ask for get-attributes`);
  })) as KeyAttributes;
  const kept = attributes.key.customAttributes[KEPT_CRYPTOGRAPHIC_PARAMETERS];
  const stored = kept === undefined ? {} : readCipherFields(new PayloadReader(parseKmipJson(kept), 'the key\'s Cryptographic Parameters'));
  const overrides = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
  return chooseCipher({ ...stored, ...overrides }, { keyAlgorithm: attributes.key.algorithm, authenticated });
}
