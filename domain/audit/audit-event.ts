/**
 * An audit event and its canonical JSON, the form the chain hashes. Both
 * are a wire format (the export lines, the event stream and the SIEM sinks
 * carry them), so they are defined in protocol/audit-event.ts; the domain's
 * many users import them from here.
 */
import { Clock, isoNow } from '../../common/clock';
import type { AuditEvent } from '../../protocol/audit-event';

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
export type { AuditEvent };
export { canonicalEvent } from '../../protocol/audit-event';

/** The stored event (canonical JSON) parsed, when its type is `type`; else null. The substring test spares parsing every other event. */
export function eventOfType(canonical: string, type: string): AuditEvent | null {
  if (!canonical.includes(`"${type}"`)) return null;
  const event = JSON.parse(canonical) as AuditEvent;
  return event.type === type ? event : null;
}

/** What the appliance records when it finds its own trail not intact (domain/audit/audit-checkpointer.ts). */
export const AUDIT_INTEGRITY_FAILURE = 'audit-integrity-failure';
