/**
 * The audit events of the live event stream itself: a subscription opening
 * and closing (type `events-subscribe`, custom.action `open` or `close`),
 * with who subscribed, from where, to what, and why it ended. A subscriber
 * never receives the events of its own subscription (it is not active yet
 * when its open event is published, and gone when its close event is), so
 * the stream cannot feed on itself.
 */
import { AuditEvent, EventStamper, stampOf } from '../../domain/audit/audit-event';
import { ClientIdentity } from '../../domain/policy/identity';
import { EventFilter, viewOfFilter } from './event-filter';

export const SUBSCRIPTION_EVENT_TYPE = 'events-subscribe';

/** Longest custom value written (the request meta's own limit). */
const MAX_CUSTOM_VALUE = 256;

function list(values: readonly string[] | null): string {
  return values === null ? '*' : values.join(',').slice(0, MAX_CUSTOM_VALUE);
}

export function subscriptionEvent(
  stamper: EventStamper,
  subscriber: { readonly id: string; readonly identity: ClientIdentity; readonly source: string | null; readonly currentFilter: EventFilter },
  ending: { readonly result: string; readonly code: number; readonly reason: string; readonly delivered: number } | null,
): AuditEvent {
  const filter = viewOfFilter(subscriber.currentFilter);
  const custom: Record<string, string> = {
    action: ending === null ? 'open' : 'close',
    subscription: subscriber.id,
    types: list(filter.types),
    auditTypes: list(filter.auditTypes),
    namespaces: list(filter.namespaces),
  };
  if (ending !== null) {
    custom.closeCode = String(ending.code);
    custom.reason = ending.reason.slice(0, MAX_CUSTOM_VALUE);
    custom.delivered = String(ending.delivered);
  }
  const { identity } = subscriber;
  return {
    ...stampOf(stamper),
    type: SUBSCRIPTION_EVENT_TYPE,
    identity: { name: identity.name, role: identity.role, fingerprint256: identity.fingerprint256, subject: identity.subject },
    endUser: null,
    purpose: null,
    source: subscriber.source,
    operation: null,
    key: null,
    instance: null,
    result: ending === null ? 'ok' : ending.result,
    requestId: null,
    custom,
  };
}
