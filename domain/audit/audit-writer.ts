/**
 * Group commit for the audit trail: events recorded while no append is under
 * way are chained and appended in one transaction (one fsync), and every
 * record() promise settles only once its event is durable. A caller answers
 * its client only after that, so no request is served unrecorded; if the
 * append fails, every waiting record() rejects with AUDIT_UNAVAILABLE (fail
 * closed).
 *
 * The append itself may be synchronous (the store's own connection: tests,
 * the CLI) or asynchronous (the server's append worker thread, so that the
 * fsync does not hold the event loop). One batch is in flight at a time;
 * what is recorded meanwhile waits and goes in the next batch, so the
 * slower the disk, the larger each batch and the fewer the fsyncs.
 */
import { AuditError } from '../../common/errors';
import { AuditRecord, AuditStore } from '../../storage/audit-store';
import { AuditEvent, canonicalEvent } from './audit-event';
import { nextRecord } from './audit-chain';

/** Most events per transaction: bounds one commit's size and latency. */
export const MAX_EVENTS_PER_COMMIT = 5000;

/** Appends canonical events to the chain in one transaction and returns their records. */
export type EventAppender = (events: readonly string[]) => AuditRecord[] | Promise<AuditRecord[]>;

/** Chains `events` after `head`. */
export function chainEvents(head: { seq: number; hash: Buffer } | null, events: readonly string[]): AuditRecord[] {
  let at = head;
  return events.map((event) => {
    const record = nextRecord(at, event);
    at = record;
    return record;
  });
}

/** The in-process appender on the store's own connection, chained from the head read under the write lock. */
export function storeAppender(store: AuditStore): EventAppender {
  return (events) => store.appendAuditRecordsFromHead((head) => chainEvents(head, events));
}

interface Pending {
  readonly event: string;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export class AuditWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  /** The append under way (asynchronous appenders only). */
  private writing: Promise<void> | null = null;

  /**
   * `onDurable` is told of each committed batch (in chain order) after its
   * transaction commits: the live event stream and the SIEM sinks start
   * from there, so they never carry an event the local chain lacks. It must
   * not throw (errors are swallowed so that serving is never affected).
   */
  constructor(
    store: AuditStore,
    private readonly schedule: (flush: () => void) => void = (flush) => setImmediate(flush),
    private readonly onDurable: (records: readonly AuditRecord[]) => void = () => undefined,
    private readonly append: EventAppender = storeAppender(store),
  ) {}

  /** Resolves once the event is durable in the chain; rejects with AUDIT_UNAVAILABLE if it could not be written. */
  record(event: AuditEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event: canonicalEvent(event), resolve, reject });
      this.kick();
    });
  }

  /** Events recorded and waiting for a group commit (the one under way not included): the metrics' queue depth. */
  get queued(): number {
    return this.queue.length;
  }

  /** Starts writing what is queued now, unless an append is under way (it continues with the rest when done). */
  flush(): void {
    this.scheduled = false;
    while (this.writing === null && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_EVENTS_PER_COMMIT);
      let result: AuditRecord[] | Promise<AuditRecord[]>;
      try {
        result = this.append(batch.map((p) => p.event));
      } catch (cause) {
        this.fail(batch, cause);
        continue;
      }
      if (!isPromise(result)) {
        this.succeed(batch, result);
        continue;
      }
      this.writing = result
        .then(
          (records) => this.succeed(batch, records),
          (cause: unknown) => this.fail(batch, cause),
        )
        .finally(() => {
          this.writing = null;
          if (this.queue.length > 0) this.kick();
        });
    }
  }

  /** Resolves once every event recorded so far is written or failed (shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      this.flush();
      if (this.writing === null && this.queue.length === 0) return;
      await this.writing;
    }
  }

  private kick(): void {
    if (this.scheduled || this.writing !== null) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  private succeed(batch: readonly Pending[], records: readonly AuditRecord[]): void {
    for (const pending of batch) pending.resolve();
    try {
      this.onDurable(records);
    } catch {
      // Forwarding is best effort; the local chain already holds the events.
    }
  }

  private fail(batch: readonly Pending[], cause: unknown): void {
    const error = new AuditError('AUDIT_UNAVAILABLE', 'the audit trail could not be written; the request was not served', { cause });
    for (const pending of batch) pending.reject(error);
  }
}
