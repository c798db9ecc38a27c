/**
 * What a subscriber wants to see: event kinds (`audit`, `approval`,
 * `rollover-notice`), for audit events optionally their types
 * (`operation`, `auth-failure`, `events-subscribe`, `rollover`, …), and key
 * namespaces. Read from the URL query (`?types=audit&namespaces=hr`) or a
 * subscribe message, and validated strictly: an unknown parameter, kind or
 * field, a malformed namespace or a list too long is INVALID_ARGUMENT, never
 * silently ignored (a typo must not turn a filter into "everything").
 * Pure: no I/O.
 */
import { ValidationError } from '../../common/errors';
import { LiveEvent, LiveEventKind } from '../../domain/events/event-bus';
import { MAX_FULL_NAME_LENGTH, parseKeyName } from '../../domain/key-names';
import { FilterView } from '../../protocol/event-wire';

export const LIVE_EVENT_KINDS: readonly LiveEventKind[] = ['audit', 'approval', 'rollover-notice', 'certificate-expiry'];

/** Most entries in one filter list: bounds the work of matching each event. */
export const MAX_FILTER_ENTRIES = 32;

/** An audit event type as the trail writes them: lower-case words joined by `-`. */
const AUDIT_TYPE = /^[a-z][a-z0-9-]{0,63}$/;
const NAMESPACE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface EventFilter {
  readonly kinds: ReadonlySet<LiveEventKind>;
  /** null: every audit event type. */
  readonly auditTypes: ReadonlySet<string> | null;
  /** null: every namespace, and events about no key. */
  readonly namespaces: ReadonlySet<string> | null;
}

export interface FilterInput {
  readonly types?: readonly string[] | null;
  readonly auditTypes?: readonly string[] | null;
  readonly namespaces?: readonly string[] | null;
}

export const EVERYTHING: EventFilter = { kinds: new Set(LIVE_EVENT_KINDS), auditTypes: null, namespaces: null };

function checkList(field: string, values: readonly string[], check: (value: string) => string | null): Set<string> {
  if (values.length === 0) throw new ValidationError(`${field} is empty: leave it out to see everything`, { details: { field } });
  if (values.length > MAX_FILTER_ENTRIES) throw new ValidationError(`${field} has more than ${MAX_FILTER_ENTRIES} entries`, { details: { field } });
  for (const value of values) {
    const problem = typeof value === 'string' ? check(value) : 'is not a string';
    if (problem !== null) throw new ValidationError(`${field}: ${JSON.stringify(value).slice(0, 80)} ${problem}`, { details: { field } });
  }
  return new Set(values);
}

function namespaceProblem(value: string): string | null {
  if (value.length === 0 || value.length > MAX_FULL_NAME_LENGTH) return `is not a namespace (1 to ${MAX_FULL_NAME_LENGTH} characters)`;
  return value.split('/').every((segment) => NAMESPACE_SEGMENT.test(segment)) ? null : 'is not a namespace: /-separated parts of letters, digits, ".", "_" and "-"';
}

/** Validates a filter; INVALID_ARGUMENT naming the field. */
export function makeFilter(input: FilterInput): EventFilter {
  const kinds = input.types == null ? new Set(LIVE_EVENT_KINDS) : checkList('types', input.types, (v) => ((LIVE_EVENT_KINDS as readonly string[]).includes(v) ? null : `is not an event kind (${LIVE_EVENT_KINDS.join(', ')})`));
  const auditTypes = input.auditTypes == null ? null : checkList('auditTypes', input.auditTypes, (v) => (AUDIT_TYPE.test(v) ? null : 'is not an audit event type (e.g. operation, auth-failure)'));
  if (auditTypes !== null && !kinds.has('audit')) throw new ValidationError('auditTypes filters audit events, but types leaves audit out', { details: { field: 'auditTypes' } });
  const namespaces = input.namespaces == null ? null : checkList('namespaces', input.namespaces, namespaceProblem);
  return { kinds: kinds as Set<LiveEventKind>, auditTypes, namespaces };
}

const QUERY_FIELDS = new Set(['types', 'auditTypes', 'namespaces']);

/** The filter of a URL query (`types=audit,approval&namespaces=hr`); each parameter at most once. */
export function filterFromQuery(params: URLSearchParams): EventFilter {
  const input: Record<string, string[]> = {};
  for (const [name, value] of params) {
    if (!QUERY_FIELDS.has(name)) throw new ValidationError(`unknown query parameter "${name.slice(0, 40)}" (types, auditTypes, namespaces)`, { details: { field: name.slice(0, 40) } });
    if (input[name] !== undefined) throw new ValidationError(`query parameter ${name} given twice: give one comma list`, { details: { field: name } });
    input[name] = value.split(',').map((v) => v.trim());
  }
  return makeFilter(input);
}

/** The filter of a subscribe message `{"op":"subscribe","types":[…],"auditTypes":[…],"namespaces":[…]}`. */
export function filterFromMessage(message: unknown): EventFilter {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) throw new ValidationError('a message to the event stream is a JSON object {"op":"subscribe", …}');
  const fields = message as Record<string, unknown>;
  if (fields.op !== 'subscribe') throw new ValidationError('the only message the event stream takes is {"op":"subscribe", …}', { details: { field: 'op' } });
  for (const name of Object.keys(fields)) {
    if (name !== 'op' && !QUERY_FIELDS.has(name)) throw new ValidationError(`unknown field "${name.slice(0, 40)}" (types, auditTypes, namespaces)`, { details: { field: name.slice(0, 40) } });
  }
  const list = (name: string): string[] | null => {
    const value = fields[name];
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value)) throw new ValidationError(`${name} must be an array of strings or null`, { details: { field: name } });
    return value as string[];
  };
  return makeFilter({ types: list('types'), auditTypes: list('auditTypes'), namespaces: list('namespaces') });
}

/** The namespace of a key name as given (an alias counts as its own name); null for no key or a malformed one. */
function namespaceOf(name: string | null): string | null {
  if (name === null) return null;
  try {
    return parseKeyName(name).namespace;
  } catch {
    return null;
  }
}

function keyOf(event: LiveEvent): string | null {
  if (event.kind === 'audit') return event.event.key;
  // A certificate is about no key: it reaches only subscribers that filter no namespace.
  return event.kind === 'certificate-expiry' ? null : event.key;
}

export function matches(filter: EventFilter, event: LiveEvent): boolean {
  if (!filter.kinds.has(event.kind)) return false;
  if (event.kind === 'audit' && filter.auditTypes !== null && !filter.auditTypes.has(event.event.type)) return false;
  if (filter.namespaces === null) return true;
  const namespace = namespaceOf(keyOf(event)) ?? (event.kind === 'approval' ? event.namespace : null);
  return namespace !== null && filter.namespaces.has(namespace);
}

export function viewOfFilter(filter: EventFilter): FilterView {
  return {
    types: LIVE_EVENT_KINDS.filter((kind) => filter.kinds.has(kind)),
    auditTypes: filter.auditTypes === null ? null : [...filter.auditTypes],
    namespaces: filter.namespaces === null ? null : [...filter.namespaces],
  };
}
