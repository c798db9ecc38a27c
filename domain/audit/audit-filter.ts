/**
 * Filters over audit events, for `audit search`, `audit export` and the
 * AuditSearch operation: a time range, who (client name or certificate
 * fingerprint), which key (a name or a glob like `hr/*`), the operation,
 * the result (`ok`, `error` for anything else, or one error code) and the
 * event type. Pure: parseAuditFilter checks what a caller typed,
 * matchesAuditFilter decides one event.
 */
import { ValidationError } from '../../common/errors';
import { globToRegExp } from '../../storage/key-filter';
import { DEFAULT_NAMESPACE } from '../key-names';
import { AuditEvent } from './audit-event';

/** What a caller gives (CLI flags, wire arguments): strings, checked by parseAuditFilter. */
export interface AuditFilterInput {
  /** ISO 8601 date-time, inclusive. */
  readonly from?: string;
  /** ISO 8601 date-time, exclusive. */
  readonly to?: string;
  readonly identity?: string;
  readonly key?: string;
  readonly operation?: string;
  readonly result?: string;
  readonly type?: string;
}

export interface AuditFilter {
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly identity?: string;
  readonly keyPattern?: RegExp;
  readonly operation?: string;
  readonly result?: string;
  readonly typePattern?: RegExp;
}

/** Milliseconds of an ISO 8601 date or date-time (UTC unless it names a zone); INVALID_ARGUMENT naming the flag otherwise. */
export function parseInstant(value: string, what: string): number {
  // Date.parse also takes "1" or "March 7": only dates that start like ISO 8601 are taken.
  // A date-time without a zone would be the local time of whichever process parses it (CLI or
  // server): it is read as UTC instead, like a bare date, so the same flag means the same instant everywhere.
  const zoned = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}Z` : value;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(zoned) : Number.NaN;
  if (Number.isNaN(ms)) throw new ValidationError(`${what} "${value}" is not an ISO 8601 date-time (e.g. 2026-12-01T00:00:00Z or 2026-12-01)`, { details: { field: what } });
  return ms;
}

/** Full key names as the keychain writes them: `payroll` is `default/payroll`. */
function fullKeyName(name: string): string {
  return name.includes('/') ? name : `${DEFAULT_NAMESPACE}/${name}`;
}

/** Fingerprints compare without colons and case: `AB:CD…` and `abcd…` are the same certificate. */
function bareFingerprint(value: string): string {
  return value.replace(/:/g, '').toLowerCase();
}

export function parseAuditFilter(input: AuditFilterInput): AuditFilter {
  const fromMs = input.from === undefined ? undefined : parseInstant(input.from, 'from');
  const toMs = input.to === undefined ? undefined : parseInstant(input.to, 'to');
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) throw new ValidationError('from must be before to', { details: { field: 'from' } });
  const key = input.key;
  return {
    fromMs,
    toMs,
    identity: input.identity,
    // A plain name without a namespace means the default namespace, as everywhere else; a glob is taken as given.
    keyPattern: key === undefined ? undefined : globToRegExp(key.includes('*') ? key : fullKeyName(key)),
    operation: input.operation,
    result: input.result,
    typePattern: input.type === undefined ? undefined : globToRegExp(input.type),
  };
}

/** True when the filter can leave events out (an export with such a filter has gaps). */
export function isFiltering(filter: AuditFilter): boolean {
  return Object.values(filter).some((value) => value !== undefined);
}

const TIME_PREFIX = '{"time":"';

/**
 * The time of a stored event without parsing it: canonical JSON always
 * starts with the time field (audit-event.ts canonicalEvent), and an ISO
 * time has no escapes. Null when the text does not start that way.
 */
export function canonicalEventTimeMs(canonical: string): number | null {
  if (!canonical.startsWith(TIME_PREFIX)) return null;
  const end = canonical.indexOf('"', TIME_PREFIX.length);
  if (end < 0) return null;
  const ms = Date.parse(canonical.slice(TIME_PREFIX.length, end));
  return Number.isNaN(ms) ? null : ms;
}

/** False when the event's time alone puts it outside the filter's range (no parse needed); true otherwise. */
export function mayMatchTime(filter: AuditFilter, canonical: string): boolean {
  if (filter.fromMs === undefined && filter.toMs === undefined) return true;
  const ms = canonicalEventTimeMs(canonical);
  if (ms === null) return true;
  return !((filter.fromMs !== undefined && ms < filter.fromMs) || (filter.toMs !== undefined && ms >= filter.toMs));
}

export function matchesAuditFilter(filter: AuditFilter, event: AuditEvent): boolean {
  if (filter.fromMs !== undefined || filter.toMs !== undefined) {
    const ms = Date.parse(event.time);
    if (Number.isNaN(ms)) return false;
    if (filter.fromMs !== undefined && ms < filter.fromMs) return false;
    if (filter.toMs !== undefined && ms >= filter.toMs) return false;
  }
  if (filter.identity !== undefined) {
    const who = event.identity;
    if (who === null) return false;
    if (who.name !== filter.identity && (who.fingerprint256 === '' || bareFingerprint(who.fingerprint256) !== bareFingerprint(filter.identity))) return false;
  }
  if (filter.keyPattern !== undefined && (event.key === null || !filter.keyPattern.test(fullKeyName(event.key)))) return false;
  if (filter.operation !== undefined && event.operation !== filter.operation) return false;
  if (filter.result !== undefined) {
    if (filter.result === 'error' ? event.result === 'ok' : event.result !== filter.result) return false;
  }
  if (filter.typePattern !== undefined && !filter.typePattern.test(event.type)) return false;
  return true;
}
