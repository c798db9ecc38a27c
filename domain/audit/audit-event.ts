/**
 * An audit event: who did what to which key, from where, and how it ended.
 * Built field by field from a whitelist, so key material, plaintexts, PINs
 * and request payloads can never reach the trail (or a SIEM) by accident.
 */
import { Clock, isoNow } from '../../common/clock';

/**
 * Where a new event's time and id come from: the injected clock and id
 * source, never the ambient ones, so tests can fix both. The operations'
 * Services has both fields, so it is one.
 */
export interface EventStamper {
  readonly clock: Clock;
  readonly newId: () => string;
}

/** The `time` and `eventId` a new event starts with. */
export function stampOf(stamper: EventStamper): { readonly time: string; readonly eventId: string } {
  return { time: isoNow(stamper.clock), eventId: stamper.newId() };
}
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
}

/** Canonical JSON: fixed field order, so the same event always hashes the same. */
export function canonicalEvent(event: AuditEvent): string {
  return JSON.stringify({
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
    custom: Object.fromEntries(Object.keys(event.custom).sort().map((k) => [k, event.custom[k]])),
  });
}
