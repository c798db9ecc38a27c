/**
 * The trail's record of the scheduler's lease changing holder
 * (docs/cluster/scheduler-lease.md): before a sweep's batch takes another
 * node's expired lease over, an intent naming it (durable first, as every
 * scheduled change); once that batch has committed, `scheduler-lease-taken`.
 * A renewal, and the first node ever to take the lease, write nothing. Only
 * node names, epochs and times go in.
 */
import { AuditEvent, EventStamper } from './audit-event';
import { adminEvent, INTENT_EVENT } from './audit-events';
import { SchedulerLeaseView } from '../scheduler-lease';

export const LEASE_TAKEN_EVENT = 'scheduler-lease-taken';

/** Durable before the batch that may take `from` over: `holder` means to take it at epoch + 1. */
export function leaseTakeoverIntentEvent(stamper: EventStamper, holder: string, from: SchedulerLeaseView): AuditEvent {
  return { ...adminEvent(stamper, INTENT_EVENT, null, null), custom: { takeover: 'scheduler-lease', holder, epoch: String(from.epoch + 1), previousHolder: from.holder, previousEpoch: String(from.epoch), previousExpiresAt: from.expiresAt } };
}

/** A batch that took the lease over from `from` committed: `held` is the lease now. */
export function leaseTakenEvent(stamper: EventStamper, from: SchedulerLeaseView, held: SchedulerLeaseView): AuditEvent {
  return { ...adminEvent(stamper, LEASE_TAKEN_EVENT, null, null), custom: { holder: held.holder, epoch: String(held.epoch), expiresAt: held.expiresAt, previousHolder: from.holder, previousEpoch: String(from.epoch), previousExpiresAt: from.expiresAt } };
}
