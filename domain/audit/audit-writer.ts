/**
 * Group commit for the audit trail: events recorded while no append is under
 * way are chained and appended in one transaction (one fsync), and every
 * record() promise settles only once its event is durable. A caller answers
 * its client only after that, so no request is served unrecorded; if the
 * append fails, every waiting record() rejects with AUDIT_UNAVAILABLE (fail
 * closed), or STORAGE_FULL when the disk is full.
 *
 * The append itself may be synchronous (the store's own connection: tests,
 * the CLI) or asynchronous (the server's append worker thread, so that the
 * fsync does not hold the event loop). One batch is in flight at a time;
 * what is recorded meanwhile waits and goes in the next batch, so the
 * slower the disk, the larger each batch and the fewer the fsyncs.
 */
import { AuditError, StorageError } from '../../common/errors';
import { AuditRecord, AuditStore } from '../../storage/audit-store';
import { AuditEvent, canonicalEvent } from './audit-event';
import { nextRecord } from './audit-chain';

/** What a caller refused on a full disk reads: what happened, what was kept, what to do. */
export const DISK_FULL_MESSAGE =
  'the disk holding the keychain is full, so the audit trail could not record this request: it was not served and nothing was changed; free space on the file system of keychain_path, then retry';

/** What a caller refused because another process held the keychain's write lock past the bound reads. */
export const LOCK_HELD_MESSAGE =
  "another process held the keychain's write lock past the bound, so the audit trail could not record this request: it was not served and nothing was changed; retry, and if it persists look for another process using keychain_path";

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

/**
 * The events one group commit will append, and the one promise every
 * record() of them returns: a commit settles all its callers at once,
 * instead of a promise and a resolve call per event.
 */
interface Cohort {
  readonly events: string[];
  readonly done: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function newCohort(): Cohort {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Every caller handles the shared promise; this keeps a cohort whose callers all went away from being an unhandled rejection.
  done.catch(() => undefined);
  return { events: [], done, resolve, reject };
}

export class AuditWriter {
  /** Cohorts waiting for their commit, oldest first; the last one takes new events until it is full or taken. */
  private cohorts: Cohort[] = [];
  private waiting = 0;
  private scheduled = false;
  /** The append under way (asynchronous appenders only). */
  private writing: Promise<void> | null = null;
  /**
   * Records committed inside another transaction (appendInTransaction) while
   * a group was being appended: published with that group, in chain order.
   */
  private committedMeanwhile: AuditRecord[] = [];
  /**
   * Records committed but not yet known durable (publishedOnceDurable), and
   * every record committed after them: the live stream and the sinks get
   * nothing the local chain could still lose, and get it in chain order.
   */
  private heldUntilDurable: AuditRecord[] = [];
  /**
   * The first seq of each batch whose flush has not settled yet. What lies
   * below the lowest of them is durable and goes out; a count instead held
   * everything until no flush at all was awaited, which a sweep running
   * batches ahead of its flushes never allows until it ends.
   */
  private readonly awaitedFlushes = new Set<{ readonly firstSeq: number }>();

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
    private readonly append: EventAppender = storeAppender(store),
  ) {}

  /**
   * Resolves once the event is durable in the chain; rejects with
   * AUDIT_UNAVAILABLE if it could not be written. Events of one group
   * commit share the returned promise.
   */
  record(event: AuditEvent): Promise<void> {
    let encoded: string;
    try {
      encoded = canonicalEvent(event);
    } catch (err) {
      return Promise.reject(err);
    }
    let open = this.cohorts.length > 0 ? this.cohorts[this.cohorts.length - 1] : undefined;
    if (open === undefined || open.events.length >= MAX_EVENTS_PER_COMMIT) {
      open = newCohort();
      this.cohorts.push(open);
    }
    open.events.push(encoded);
    this.waiting++;
    this.kick();
    return open.done;
  }

  /**
   * Appends `event` (or several, in order) on the store's own connection inside the transaction the
   * caller has open (a state change and its event commit together, or
   * neither does: operations/dispatcher.ts), chained from the head read under
   * that transaction's write lock. The caller calls `published` with the
   * returned records once its transaction committed. A failure to append is
   * AUDIT_UNAVAILABLE (STORAGE_FULL, STORAGE_BUSY as for a group), and
   * undoes the caller's transaction with it.
   */
  appendInTransaction(event: AuditEvent | readonly AuditEvent[]): AuditRecord[] {
    const encoded = (Array.isArray(event) ? event : [event]).map((one: AuditEvent) => canonicalEvent(one));
    if (encoded.length === 0) return [];
    try {
      return this.store.appendAuditRecordsFromHead((head) => chainEvents(head, encoded));
    } catch (cause) {
      throw auditFailure(cause);
    }
  }

  /**
   * Hands records committed by appendInTransaction to the live stream and
   * the sinks, in chain order with the group commits: while a group is being
   * appended they wait for it (whichever of the two took the write lock
   * first has the lower seqs; both are published together, sorted).
   */
  published(records: readonly AuditRecord[]): void {
    if (records.length === 0) return;
    if (this.writing === null) {
      this.publish(records);
      return;
    }
    this.committedMeanwhile.push(...records);
  }

  /**
   * published for records whose transaction committed without its own
   * fsync (TransactionOptions.durableWithAuditEvent): they, and every
   * record committed after them, are held until `durable` settles (the
   * store's flush), then published in chain order together with what
   * followed them, up to the next batch still waiting for its flush. A flush that
   * failed releases them too: they are committed, the caller learns of the
   * failure from its own promise and stops, and a stream held for ever
   * would also hold every later event.
   */
  publishedOnceDurable(records: readonly AuditRecord[], durable: Promise<void>): void {
    if (records.length === 0) return;
    const awaited = { firstSeq: records.reduce((lowest, record) => Math.min(lowest, record.seq), Number.POSITIVE_INFINITY) };
    this.awaitedFlushes.add(awaited);
    this.published(records);
    const release = (): void => {
      this.awaitedFlushes.delete(awaited);
      // A group under way publishes what is held when it ends.
      if (this.writing === null) this.publish([]);
    };
    durable.then(release, release);
  }

  /** Events recorded and waiting for a group commit (the one under way not included): the metrics' queue depth. */
  get queued(): number {
    return this.waiting;
  }

  /** Starts writing what is queued now, unless an append is under way (it continues with the rest when done). */
  flush(): void {
    this.scheduled = false;
    while (this.writing === null && this.cohorts.length > 0) {
      const cohort = this.cohorts.shift()!;
      this.waiting -= cohort.events.length;
      let result: AuditRecord[] | Promise<AuditRecord[]>;
      try {
        result = this.append(cohort.events);
      } catch (cause) {
        this.fail(cohort, cause);
        continue;
      }
      if (!isPromise(result)) {
        this.succeed(cohort, result);
        continue;
      }
      this.writing = result.then(
        (records) => this.settled(() => this.succeed(cohort, records)),
        (cause: unknown) => this.settled(() => this.fail(cohort, cause)),
      );
    }
  }

  /**
   * A group's append ended: the next group's append starts first, then
   * `settle` answers this group's callers. The worker commits the next group
   * while the event loop writes this group's answers, instead of idling until
   * they are all written (at 64 closed-loop clients that was a third of each
   * commit cycle). Each caller still waits for its own group: nothing is
   * answered earlier.
   */
  private settled(settle: () => void): void {
    this.writing = null;
    this.flush();
    settle();
    // After a failed group, or records committed between its commit and here (all before the next group's, which has not committed).
    this.publish([]);
  }

  /** Resolves once every event recorded so far is written or failed (shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      this.flush();
      if (this.writing === null && this.cohorts.length === 0) return;
      await this.writing;
    }
  }

  private kick(): void {
    if (this.scheduled || this.writing !== null) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  private succeed(cohort: Cohort, records: readonly AuditRecord[]): void {
    cohort.resolve();
    this.publish(records);
  }

  /** Tells onDurable of `records` and of what was committed meanwhile, in chain order. */
  private publish(records: readonly AuditRecord[]): void {
    let all = records;
    if (this.committedMeanwhile.length > 0 || this.heldUntilDurable.length > 0) {
      all = [...this.heldUntilDurable, ...this.committedMeanwhile, ...records].sort((a, b) => a.seq - b.seq);
      this.committedMeanwhile = [];
      this.heldUntilDurable = [];
    }
    if (this.awaitedFlushes.size > 0) {
      // `all` is in chain order: what precedes the oldest batch still waiting for its flush goes out now.
      let bound = Number.POSITIVE_INFINITY;
      for (const { firstSeq } of this.awaitedFlushes) bound = Math.min(bound, firstSeq);
      const ready = all.findIndex((record) => record.seq >= bound);
      if (ready !== -1) {
        this.heldUntilDurable = all.slice(ready);
        all = all.slice(0, ready);
      }
    }
    if (all.length === 0) return;
    try {
      this.onDurable(all);
    } catch {
      // Forwarding is best effort; the local chain already holds the events.
    }
  }

  /**
   * Fails closed. A full disk (STORAGE_FULL) and a write lock held past its
   * bound by another process (STORAGE_BUSY) keep their own codes because the
   * remedy differs: free space, or retry / stop the other process; the very
   * same requests are served again afterwards (docs/resilience.md).
   */
  private fail(cohort: Cohort, cause: unknown): void {
    cohort.reject(auditFailure(cause));
  }
}

function auditFailure(cause: unknown): StorageError | AuditError {
  const code = (cause as { code?: unknown } | null)?.code;
  if (code === 'STORAGE_FULL' || code === 'STORAGE_BUSY') return new StorageError(code, code === 'STORAGE_FULL' ? DISK_FULL_MESSAGE : LOCK_HELD_MESSAGE, { cause });
  return new AuditError('AUDIT_UNAVAILABLE', 'the audit trail could not be written; the request was not served', { cause });
}
