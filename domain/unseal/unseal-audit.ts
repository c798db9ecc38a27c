/**
 * Audit events of unsealing, sealing and master-key rotation: who, what and
 * how it ended, with counts and custodian numbers in `custom`, never a
 * share, a secret or a key.
 */
import { randomUUID } from 'node:crypto';
import { Clock, isoNow } from '../../common/clock';
import { AuditEvent } from '../audit/audit-event';
import { ClientIdentity } from '../policy/identity';

export function unsealAuditEvent(clock: Clock, type: string, identity: ClientIdentity | null, result: string, custom: Record<string, string>): AuditEvent {
  return {
    time: isoNow(clock),
    eventId: randomUUID(),
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
