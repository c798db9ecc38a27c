/**
 * Turns committed audit records into live events for the event bus: the
 * parsed event plus its chain position, so a subscriber or a SIEM can check
 * the chain on its side (`audit verify --from-file`).
 */
import { AuditEvent } from './audit-event';
import { AuditLiveEvent } from '../events/event-bus';
import { AuditRecord } from '../../storage/audit-store';

export function auditLiveEvents(records: readonly AuditRecord[]): AuditLiveEvent[] {
  return records.map((record) => ({
    kind: 'audit',
    seq: record.seq,
    hash: record.hash.toString('hex'),
    prevHash: record.prevHash.toString('hex'),
    canonical: record.event,
    event: JSON.parse(record.event) as AuditEvent,
  }));
}
