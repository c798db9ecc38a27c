/**
 * Permissions a grant can give (docs/protocol.md §5), which ones an officer
 * holds by role, and which key material a caller may supply. These are the
 * rules of "officers administer; they do not use keys" (issue 12, attack 4),
 * kept in this one place: the policy index and the key operations ask here.
 */
import { AccessError, ValidationError } from '../../common/errors';
import { Algorithm, algorithmInfo } from '../algorithms';
import { PERMISSIONS } from '../../protocol/op-schemas';

// The names are the wire's vocabulary (protocol/op-schemas.ts); the rules about them are here.
export { PERMISSIONS };

export type Permission = (typeof PERMISSIONS)[number];

export function parsePermissions(values: readonly string[]): Permission[] {
  if (values.length === 0) throw new ValidationError('give at least one permission');
  for (const value of values) {
    if (!(PERMISSIONS as readonly string[]).includes(value)) {
      throw new ValidationError(`unknown permission "${value}"; use ${PERMISSIONS.join(', ')}`);
    }
  }
  return [...new Set(values)] as Permission[];
}

/**
 * Permissions that give key material or what it protects (the key's bytes, a
 * decrypted plaintext, an unwrapped data key). A grant of any of them is
 * dual-controlled (class grant-material).
 */
export const MATERIAL_PERMISSIONS: ReadonlySet<string> = new Set<Permission>(['get', 'decrypt', 'decrypt-data-key']);

/** Using a key: what officers do not hold by role, and what one officer may not grant to an officer alone. */
export const KEY_USE_PERMISSIONS: ReadonlySet<string> = new Set<Permission>(['encrypt', 'decrypt', 'mac', 'generate-data-key', 'decrypt-data-key', 'get']);

/**
 * What an officer holds by role: administration of keys, never their use.
 * An allow-list, so that a permission added later is not an officer's by
 * default. Using a key (encrypt, decrypt, mac, generate-data-key,
 * decrypt-data-key, get) needs a grant for everyone, officers included: an
 * officer who could encrypt under any key could also have chosen its
 * material, or could make ciphertexts and MACs that apps trust.
 */
export const OFFICER_ROLE_PERMISSIONS: ReadonlySet<string> = new Set<Permission>([
  'locate', 'get-attributes', 'modify-attributes', 'create', 'register', 'rekey', 'activate', 'revoke', 'destroy',
]);

/**
 * Whether a caller may supply an algorithm's material (Register, ReKey with
 * material): only when the appliance cannot generate it (SECRET, opaque
 * data such as a password or a PEM key). For every algorithm the appliance
 * generates, a caller's bytes would be bytes someone outside the appliance
 * knows, whoever sends them, so no grant or role makes them acceptable on
 * its own: Register takes them only as a key import that other officers
 * approve (dual-control class `key-import`, operations/key-import.ts), and
 * ReKey with such material is refused.
 */
export function acceptsCallerMaterial(algorithm: Algorithm): boolean {
  return algorithmInfo(algorithm).generateLength === null;
}

/** CALLER_MATERIAL_REFUSED unless `algorithm` is one a caller may supply (acceptsCallerMaterial). */
export function checkCallerMaterial(algorithm: Algorithm, keyName: string): void {
  if (acceptsCallerMaterial(algorithm)) return;
  throw new AccessError(
    'CALLER_MATERIAL_REFUSED',
    `${keyName} is ${algorithm}: the appliance generates its material, so none may be supplied (use Create, or ReKey without material)`,
    { details: { algorithm } },
  );
}
