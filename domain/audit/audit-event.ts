/**
 * An audit event and its canonical JSON, the form the chain hashes. Both
 * are a wire format (the export lines, the event stream and the SIEM sinks
 * carry them), so they are defined in protocol/audit-event.ts; the domain's
 * many users import them from here.
 */
export type { AuditEvent } from '../../protocol/audit-event';
export { canonicalEvent } from '../../protocol/audit-event';
