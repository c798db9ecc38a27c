/**
 * Group commit for the audit trail: events recorded during one turn of the
 * event loop are chained and appended in one transaction (one fsync), and
 * every record() promise settles only once its event is durable. A caller
 * answers its client only after that, so no request is served unrecorded;
 * if the append fails, every waiting record() rejects with
 * AUDIT_UNAVAILABLE (fail closed) and the chain head is read again from the
 * store before the next batch.
 */
import { KeychainError } from '../../common/errors';
import { AuditRecord, AuditStore } from '../../storage/audit-store';
import { AuditEvent, canonicalEvent } from './audit-event';
import { nextRecord } from './audit-chain';

/** Most events per transaction: bounds one commit's size and latency. */
export const MAX_EVENTS_PER_COMMIT = 5000;

interface Pending {
  readonly event: string;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class AuditWriter {
  private queue: Pending[] = [];
  private scheduled = false;

  /**
   * `onDurable` is told of each committed batch (in chain order) after its
   * transaction commits: the live event stream and the SIEM sinks start
   * from there, so they never carry an event the local chain lacks. It must
   * not throw (errors are swallowed so that serving is never affected).
   */
  constructor(
    private readonly store: AuditStore,
    private readonly schedule: (flush: () => void) => void = (flush) => setImmediate(flush),
    private readonly onDurable: (records: readonly AuditRecord[]) => void = () => undefined,
  ) {}

  /** Resolves once the event is durable in the chain; rejects with AUDIT_UNAVAILABLE if it could not be written. */
  record(event: AuditEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event: canonicalEvent(event), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(() => this.flush());
      }
    });
  }

  /** Writes what is queued now (tests and shutdown call it directly). */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_EVENTS_PER_COMMIT);
      try {
        let head = this.store.auditHead();
        const records = batch.map((pending) => {
          const record = nextRecord(head, pending.event);
          head = { seq: record.seq, hash: record.hash };
          return record;
        });
        this.store.appendAuditRecords(records);
        for (const pending of batch) pending.resolve();
        try {
          this.onDurable(records);
        } catch {
          // Forwarding is best effort; the local chain already holds the events.
        }
      } catch (cause) {
        const error = new KeychainError('AUDIT_UNAVAILABLE', 'the audit trail could not be written; the request was not served', { cause });
        for (const pending of batch) pending.reject(error);
      }
    }
  }
}
