/**
 * An audit event: who did what to which key, from where, and how it ended;
 * and its canonical JSON, the text the hash chain covers and every copy
 * outside the keychain carries (export lines, the event stream, SIEM sinks:
 * audit-line.ts). The server builds events field by field from a whitelist
 * (domain/audit/audit-events.ts), so key material, plaintexts, PINs and
 * request payloads can never reach the trail (or a SIEM) by accident.
 * Pure: no I/O.
 */
export interface AuditEvent {
  readonly time: string;
  readonly eventId: string;
  /** `operation`, `auth-failure`, or an admin action (`rollover`, `seal`, …). */
  readonly type: string;
  readonly identity: { readonly name: string; readonly role: string; readonly fingerprint256: string; readonly subject: string } | null;
  /** The end user and purpose an application says it acts for (request meta). */
  readonly endUser: string | null;
  readonly purpose: string | null;
  readonly source: string | null;
  readonly operation: string | null;
  readonly key: string | null;
  readonly instance: string | null;
  /** `ok`, or the error code. */
  readonly result: string;
  readonly requestId: string | number | null;
  readonly custom: Readonly<Record<string, string>>;
  /**
   * The key reference as the caller gave it, when the operation resolved it
   * to the `key` and `instance` above (an alias followed, an instance named
   * alone): `key` and `instance` are what was touched, this is what was
   * typed. Absent on events without a resolved reference (and on events
   * written before it existed, whose canonical JSON is unchanged).
   */
  readonly requested?: AuditReference | null;
  /**
   * The wire a request came over when it is not the native protocol
   * (`kmip`); absent otherwise (local mode says `source: "local"`), so
   * events of the native wire keep the canonical JSON they always had.
   */
  readonly transport?: string;
}

/** A key reference as requested: a name (maybe an alias), an instance name, or both. */
export interface AuditReference {
  readonly name: string | null;
  readonly instance: string | null;
}

/** Canonical JSON: fixed field order, so the same event always hashes the same. */
export function canonicalEvent(event: AuditEvent): string {
  return hasEveryField(event) ? writtenOut(event) : canonicalObject(event);
}

/**
 * The definition of the canonical JSON: an object in the fixed field order,
 * stringified. canonicalEvent writes the same text out field by field (every
 * event of every request goes through it; building and walking the object
 * cost the hot path), and uses this for any event the fast path cannot
 * prove it writes identically (a field missing).
 */
export function canonicalObject(event: AuditEvent): string {
  const requested = event.requested ?? null;
  const canonical = {
    time: event.time,
    eventId: event.eventId,
    type: event.type,
    identity: event.identity === null ? null : { name: event.identity.name, role: event.identity.role, fingerprint256: event.identity.fingerprint256, subject: event.identity.subject },
    endUser: event.endUser,
    purpose: event.purpose,
    source: event.source,
    operation: event.operation,
    key: event.key,
    instance: event.instance,
    result: event.result,
    requestId: event.requestId,
    custom: sortedCustom(event.custom),
  };
  // Last, and only when present: an event without them keeps the canonical JSON (and hash) it always had.
  const withRequested = requested === null ? canonical : { ...canonical, requested: { name: requested.name, instance: requested.instance } };
  return JSON.stringify(event.transport === undefined ? withRequested : { ...withRequested, transport: event.transport });
}

function sortedCustom(custom: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(custom).sort().map((k) => [k, custom[k]]));
}

/** JSON.stringify leaves out an undefined member: only events with none are written out field by field. */
function hasEveryField(event: AuditEvent): boolean {
  const id = event.identity;
  const requested = event.requested;
  return (
    event.time !== undefined && event.eventId !== undefined && event.type !== undefined && id !== undefined &&
    (id === null || (id.name !== undefined && id.role !== undefined && id.fingerprint256 !== undefined && id.subject !== undefined)) &&
    event.endUser !== undefined && event.purpose !== undefined && event.source !== undefined && event.operation !== undefined &&
    event.key !== undefined && event.instance !== undefined && event.result !== undefined && event.requestId !== undefined &&
    event.custom !== undefined && (requested === undefined || requested === null || (requested.name !== undefined && requested.instance !== undefined))
  );
}

const json = JSON.stringify;

function writtenOut(event: AuditEvent): string {
  const id = event.identity;
  const identity = id === null ? 'null' : `{"name":${json(id.name)},"role":${json(id.role)},"fingerprint256":${json(id.fingerprint256)},"subject":${json(id.subject)}}`;
  // An empty custom is the common case; any other goes through the object (integer-like keys order as JSON.stringify orders them).
  const custom = Object.keys(event.custom).length === 0 ? '{}' : json(sortedCustom(event.custom));
  const requested = event.requested ?? null;
  return (
    `{"time":${json(event.time)},"eventId":${json(event.eventId)},"type":${json(event.type)},"identity":${identity}` +
    `,"endUser":${json(event.endUser)},"purpose":${json(event.purpose)},"source":${json(event.source)},"operation":${json(event.operation)}` +
    `,"key":${json(event.key)},"instance":${json(event.instance)},"result":${json(event.result)},"requestId":${json(event.requestId)},"custom":${custom}` +
    (requested === null ? '' : `,"requested":{"name":${json(requested.name)},"instance":${json(requested.instance)}}`) +
    (event.transport === undefined ? '' : `,"transport":${json(event.transport)}`) +
    '}'
  );
}
