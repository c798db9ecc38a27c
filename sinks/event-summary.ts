/**
 * What every SIEM format needs to know of an audit event beyond its fields:
 * its tenant (the namespace of its key), how severe it is, and its time in
 * epoch milliseconds. Pure: the formatters and the sink filter share it.
 */
import { parseKeyName } from '../domain/key-names';
import { AuditEvent } from '../domain/audit/audit-event';

/**
 * The namespace of the event's key (`hr` for `hr/payroll`, `default` for a
 * bare name): the key the operation resolved and touched, so a Get of
 * `hr/payroll` through an alias in `lab/`, or by its instance name alone,
 * goes to the `hr` tenant's sink (the reference as typed is `requested`),
 * or null when the event has no key or its key name is not a
 * valid name (a refused request with a malformed name is nobody's tenant
 * event: it goes only to sinks without a namespace filter).
 */
export function eventNamespace(event: AuditEvent): string | null {
  if (event.key === null) return null;
  try {
    return parseKeyName(event.key).namespace;
  } catch {
    return null;
  }
}

/** Our own three levels; each format maps them onto its scale. */
export type EventGravity = 'info' | 'refused' | 'auth-failure';

export function eventGravity(event: AuditEvent): EventGravity {
  if (event.type === 'auth-failure') return 'auth-failure';
  return event.result === 'ok' ? 'info' : 'refused';
}

/** Epoch milliseconds of the event's ISO time (NaN never: the writer always sets an ISO time). */
export function eventTimeMs(event: AuditEvent): number {
  return Date.parse(event.time);
}

/** What the event did, for a header field: the operation, else the event type (`rollover`, `auth-failure`). */
export function eventAction(event: AuditEvent): string {
  return event.operation ?? event.type;
}
