/**
 * Permissions a grant can give (docs/protocol.md §5), and which one each
 * key operation needs. Officer-only and open operations need none.
 */
import { ValidationError } from '../../common/errors';

export const PERMISSIONS = [
  'get',
  'locate',
  'get-attributes',
  'create',
  'register',
  'rekey',
  'activate',
  'revoke',
  'destroy',
  'encrypt',
  'decrypt',
  'generate-data-key',
  'decrypt-data-key',
  'mac',
] as const;

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
