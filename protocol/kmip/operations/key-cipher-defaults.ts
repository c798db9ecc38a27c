/**
 * A key's own Cryptographic Parameters (KMIP 2.1 §4.7, 1.4 §3.6) as the
 * defaults of Encrypt and Decrypt: a request whose parameters leave the
 * cipher open (no Block Cipher Mode, no Cryptographic Algorithm; the OASIS
 * CS-BC-M-1, -2, -3, -12, -13 cases send none) uses the key's, overridden
 * field by field by its own. They are kept with the key by
 * kept-attributes.ts (its reserved custom attribute
 * `kmip.CryptographicParameters`, authenticated by the key row's MAC) and
 * read here through the native GetAttributes.
 *
 * They choose a mode, never a permission: the native Encrypt still asks
 * `get` for ECB or a chosen IV, whichever parameters chose them.
 */
import { asStrongroomError } from '../../../common/errors';
import type { KeyView } from '../../../domain/view-types';
import { chooseCipher, CipherChoice, CipherFields, leavesCipherOpen, readCipherFields } from './cryptographic-parameters';
import { cryptographicParametersOf } from './kept-attributes';
import { KmipOperationContext, KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';

/**
 * Fields a key's parameters may hold for its other uses (MAC, signatures,
 * OAEP, key roles) that say nothing about a symmetric cipher: left aside
 * when they are read as Encrypt and Decrypt defaults, so such a key still
 * encrypts. A request that sends one is refused (readCipherFields).
 */
const OTHER_USES = new Set(['HashingAlgorithm', 'KeyRoleType', 'DigitalSignatureAlgorithm', 'MaskGenerator', 'MaskGeneratorHashingAlgorithm', 'PSource', 'TrailerField', 'SaltLength']);

/** The cipher fields of the key's kept parameters (none when it keeps none). */
function keptCipherFields(key: KeyView): CipherFields {
  const kept = cryptographicParametersOf(key);
  if (kept === undefined) return {};
  const reader = new PayloadReader(kept, 'the key\'s Cryptographic Parameters');
  for (const name of OTHER_USES) reader.optional(name);
  return readCipherFields(reader);
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
  const described = (await ctx.call('GetAttributes', { instance }).catch((err: unknown) => {
    if (asStrongroomError(err).code !== 'PERMISSION_DENIED') throw err;
    throw new KmipOperationError('PermissionDenied', 'PERMISSION_DENIED: the request names no Block Cipher Mode or Cryptographic Algorithm, so the key\'s own Cryptographic Parameters decide, and reading them needs get-attributes on the key: name the mode in Cryptographic Parameters, or ask for get-attributes');
  })) as { key: KeyView };
  const overrides = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
  return chooseCipher({ ...keptCipherFields(described.key), ...overrides }, { keyAlgorithm: described.key.algorithm, authenticated });
}
