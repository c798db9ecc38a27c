/**
 * The limits and input rules of the appliance PKI (docs/protocol.md §1, §5):
 * key sizes, validity windows, clock-skew allowance and the shapes of client
 * names, groups and common names. Pure checks that throw ValidationError
 * (INVALID_ARGUMENT); nothing here touches keys.
 */
import { ValidationError } from '../../common/errors';
import { CLIENT_ROLES } from '../../protocol/op-schemas';

/** RSA size of the CA key: it outlives every leaf, so it gets the 128-bit-security size (NIST SP 800-57). */
export const CA_KEY_BITS = 3072;
/** RSA size of leaf keys: the floor that OpenSSL security level 2 and the CA/Browser Forum accept. */
export const LEAF_KEY_BITS = 2048;
/** Smallest client-supplied RSA key we certify: anything weaker is within reach of factoring. */
export const MIN_CLIENT_RSA_BITS = 2048;
/** Largest client-supplied RSA key we certify: bounds the verification cost a client can impose on every handshake. */
export const MAX_CLIENT_RSA_BITS = 8192;

/** notBefore is backdated by this much so a peer whose clock runs a little behind still accepts a fresh certificate. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
export const MS_PER_DAY = 24 * 60 * 60 * 1000;

/** Longest leaf validity: the CA/Browser Forum baseline cap (825 days); longer-lived leaves outlast key hygiene. */
export const MAX_LEAF_VALIDITY_DAYS = 825;
/** Longest CA validity (20 years): the CA is re-created by re-initialising the appliance, not rolled. */
export const MAX_CA_VALIDITY_DAYS = 7300;

/** Client names and group names: what the CLI and grants can name without quoting. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** At most this many groups per client: bounds grant evaluation per request. */
export const MAX_GROUPS = 32;
/** X.520 ub-common-name: the longest commonName a certificate may carry. */
export const MAX_COMMON_NAME_CHARS = 64;

/** The roles are the wire's vocabulary (protocol/op-schemas.ts). */
export type ClientRole = (typeof CLIENT_ROLES)[number];

export function assertValidityDays(days: unknown, max: number): asserts days is number {
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > max) {
    throw new ValidationError(`validityDays must be an integer from 1 to ${max}`, { details: { max } });
  }
}

export function assertName(value: unknown, what: 'name' | 'group'): asserts value is string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw new ValidationError(`${what} must match ${NAME_PATTERN.source}`, { details: { field: what } });
  }
}

export function assertGroups(groups: unknown): asserts groups is string[] {
  if (!Array.isArray(groups) || groups.length > MAX_GROUPS) {
    throw new ValidationError(`groups must be an array of at most ${MAX_GROUPS} names`, { details: { max: MAX_GROUPS } });
  }
  for (const group of groups) assertName(group, 'group');
  if (new Set(groups).size !== groups.length) {
    throw new ValidationError('groups must not repeat a name', { details: { field: 'group' } });
  }
}

export function assertRole(role: unknown): asserts role is ClientRole {
  if (typeof role !== 'string' || !(CLIENT_ROLES as readonly string[]).includes(role)) {
    throw new ValidationError(`role must be one of ${CLIENT_ROLES.join(', ')}`, { details: { field: 'role' } });
  }
}

/** A commonName for the CA or the server: printable, no control characters, 1..64 characters. */
export function assertCommonName(value: unknown): asserts value is string {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_COMMON_NAME_CHARS || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new ValidationError(`commonName must be 1 to ${MAX_COMMON_NAME_CHARS} printable characters`, {
      details: { field: 'commonName' },
    });
  }
}
