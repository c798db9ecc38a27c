/**
 * Key names. A full name is `namespace/name`, e.g. `hr/payroll`; the namespace
 * may itself have several segments (`eu/hr/payroll` is namespace `eu/hr`). A
 * name without a slash lives in the `default` namespace.
 */
import { ValidationError } from '../common/errors';

export const DEFAULT_NAMESPACE = 'default';

/** Longest full name; keeps names usable as log fields and file names. */
export const MAX_FULL_NAME_LENGTH = 200;

/** One segment: starts with a letter or digit; letters, digits, `.`, `_`, `-`. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface KeyName {
  readonly namespace: string;
  readonly name: string;
}

export function parseKeyName(fullName: string): KeyName {
  if (typeof fullName !== 'string' || fullName.length === 0) throw new ValidationError('key name is empty');
  if (fullName.length > MAX_FULL_NAME_LENGTH) {
    throw new ValidationError(`key name is longer than ${MAX_FULL_NAME_LENGTH} characters`);
  }
  const segments = fullName.split('/');
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) {
      throw new ValidationError(
        `invalid key name "${fullName}": each /-separated part starts with a letter or digit and holds only letters, digits, ".", "_" and "-"`,
      );
    }
  }
  const name = segments.pop() as string;
  return { namespace: segments.length > 0 ? segments.join('/') : DEFAULT_NAMESPACE, name };
}

export function formatKeyName(key: KeyName): string {
  return `${key.namespace}/${key.name}`;
}
