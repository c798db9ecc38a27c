/**
 * Audit events of unsealing, sealing and master-key rotation: who, what and
 * how it ended, with counts and custodian numbers in `custom`, never a
 * share, a secret or a key.
 */
import { AuditEvent, EventStamper, stampOf } from '../audit/audit-event';
import { ClientIdentity } from '../policy/identity';

export function unsealAuditEvent(stamper: EventStamper, type: string, identity: ClientIdentity | null, result: string, custom: Record<string, string>): AuditEvent {
  return {
    ...stampOf(stamper),
    type,
    identity: identity === null ? null : { name: identity.name, role: identity.role, fingerprint256: identity.fingerprint256, subject: identity.subject },
    endUser: null,
    purpose: null,
    source: null,
    operation: null,
    key: null,
    instance: null,
    result,
    requestId: null,
    custom: { ...custom },
  };
}
