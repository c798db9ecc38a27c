/**
 * Permissions a grant can give (docs/protocol.md §5), and which one each
 * key operation needs. Officer-only and open operations need none.
 */
import { ValidationError } from '../../common/errors';
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
 * decrypted plaintext, an unwrapped data key). Officers do not hold them by
 * role (separation of duties): only a grant gives them, and a grant of any of
 * them is dual-controlled (class grant-material).
 */
export const MATERIAL_PERMISSIONS: ReadonlySet<string> = new Set<Permission>(['get', 'decrypt', 'decrypt-data-key']);
