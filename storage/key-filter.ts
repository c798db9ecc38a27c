/**
 * KeyFilter semantics shared by both keychain stores, so that SQLite and the
 * in-memory store agree to the byte: argument checks for limit/offset, the
 * name glob (`*` is the only wildcard; everything else, including `?`, `[`,
 * `%` and `_`, is literal) translated to SQLite GLOB and to a RegExp (for
 * names and for custom attribute values alike), and the
 * ordering of keys (SQLite's BINARY collation, i.e. UTF-8 byte order).
 */
import { ValidationError } from '../common/errors';
import { KeyFilter, KeyRecord } from './records';

/**
 * Longest accepted name pattern, in characters. Protects against a caller
 * making every list request match a megabyte-long pattern against every key.
 */
export const MAX_NAME_PATTERN_LENGTH = 1024;

/** listKeys paging after validation; `limit` null means no limit. */
export interface Paging {
  readonly limit: number | null;
  readonly offset: number;
}

/** Checks limit/offset and the pattern length; INVALID_ARGUMENT otherwise. */
export function validateKeyFilter(filter: KeyFilter): Paging {
  const { limit, offset, namePattern } = filter;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new ValidationError('limit must be a non-negative integer', { details: { field: 'limit' } });
  }
  if (offset !== undefined && !(Number.isSafeInteger(offset) && offset >= 0)) {
    throw new ValidationError('offset must be a non-negative integer', { details: { field: 'offset' } });
  }
  if (namePattern !== undefined && namePattern.length > MAX_NAME_PATTERN_LENGTH) {
    throw new ValidationError('namePattern is too long', { details: { field: 'namePattern', max: MAX_NAME_PATTERN_LENGTH } });
  }
  for (const pattern of Object.values(filter.attributes ?? {})) {
    if (pattern.length > MAX_NAME_PATTERN_LENGTH) {
      throw new ValidationError('an attribute pattern is too long', { details: { field: 'attributes', max: MAX_NAME_PATTERN_LENGTH } });
    }
  }
  return { limit: limit ?? null, offset: offset ?? 0 };
}

/** The attributes filter as the SQLite statement takes it: JSON of name → SQLite GLOB pattern, or null for none. */
export function attributesToSqlite(attributes: KeyFilter['attributes']): string | null {
  if (attributes === undefined || Object.keys(attributes).length === 0) return null;
  return JSON.stringify(Object.fromEntries(Object.entries(attributes).map(([name, pattern]) => [name, globToSqlite(pattern)])));
}

/** Whether a key has every custom attribute of the filter, each value matching its glob (the in-memory twin of the SQL). */
export function attributesMatch(customAttributes: Readonly<Record<string, string>>, attributes: KeyFilter['attributes']): boolean {
  return Object.entries(attributes ?? {}).every(
    ([name, pattern]) => Object.prototype.hasOwnProperty.call(customAttributes, name) && globToRegExp(pattern).test(customAttributes[name]),
  );
}

/** Our glob as a SQLite GLOB pattern: `?` and `[` are bracketed so they match only themselves. */
export function globToSqlite(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '?') out += '[?]';
    else if (ch === '[') out += '[[]';
    else out += ch;
  }
  return out;
}

/** Our glob as an anchored RegExp (`*` also matches newlines, as GLOB does). */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** The full name a namePattern is matched against. */
export function fullName(key: Pick<KeyRecord, 'namespace' | 'name'>): string {
  return `${key.namespace}/${key.name}`;
}

/** Compares as SQLite's BINARY collation does: UTF-8 bytes, not UTF-16 units. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Keys by namespace then name, as listKeys returns them. */
export function compareKeys(a: KeyRecord, b: KeyRecord): number {
  return compareUtf8(a.namespace, b.namespace) || compareUtf8(a.name, b.name);
}
