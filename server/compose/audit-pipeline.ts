/**
 * The first piece an appliance starts and the last it stops: the audit
 * pipeline. Every operation's event goes through one AuditWriter (group
 * commit; on SQLite the server's batches append on a worker thread with its
 * own connection, so the fsync never holds the event loop; on PostgreSQL
 * through the store's bridge, one transaction per group), committed batches
 * reach the live event bus, and the SIEM sinks forward them. Built before
 * the HSM is touched, so a bad sink line is CONFIG_INVALID at start rather
 * than a silent gap later.
 */
import { hostname } from 'node:os';
import { Clock } from '../../common/clock';
import { Timers } from '../../common/timers';
import { setting } from '../../common/config';
import { Logger } from '../../common/logger';
import { applianceVersion } from '../../common/version';
import { AuditEvent } from '../../domain/audit/audit-event';
import { auditLiveEvents } from '../../domain/audit/audit-live';
import { AuditWriter, EventAppender, storeAppender } from '../../domain/audit/audit-writer';
import { EventBus } from '../../domain/events/event-bus';
import { SinkManager } from '../../sinks/sink-manager';
import { sinkSpecsOf } from '../../sinks/sink-spec';
import { HsmCursorKeeper } from '../../sinks/sink-cursor';
import { sinkNoticeEvent } from '../../sinks/sink-events';
import { SinkNotice } from '../../sinks/siem-transport';
import { WorkerAuditAppender } from '../../storage/audit-worker/worker-appender';
import { Appliance } from './open-appliance';

export interface AuditPipeline {
  readonly events: EventBus;
  readonly writer: AuditWriter;
  /** Null where nothing is forwarded (the CLI's local mode: the server forwards what others appended). */
  readonly sinks: SinkManager | null;
  /** Resolves once the event is durable; rejects with AUDIT_UNAVAILABLE. */
  record(event: AuditEvent): Promise<void>;
  /**
   * Runs `change` and appends the event `eventOf` makes of its result in ONE
   * store transaction: both commit or neither does, so no change is ever in
   * the keychain without its event, whatever kills the process when. The
   * commit is durable (the store's own synchronous commit) before this
   * returns: the caller answers at once. `change` must be synchronous.
   */
  commitWithEvent<T>(change: () => T, eventOf: (result: T) => AuditEvent): T;
  /**
   * Appends `events` inside the store transaction the caller has open (a
   * sweep's batch, a vote), returning what hands them to the live stream
   * and the sinks: call it once that transaction committed.
   */
  appendWithin(events: AuditEvent | readonly AuditEvent[]): () => void;
  /**
   * appendWithin for a transaction committed without its own fsync
   * (TransactionOptions.durableWithAuditEvent: a sweep's batch). The
   * returned function, called once it committed, flushes the store off the
   * event loop (TransactionalStore.commitsDurable) and resolves when the
   * batch and its events are durable; the live stream and the sinks get
   * them only then. Rejects when the flush failed.
   */
  appendWithinDurableLater(events: AuditEvent | readonly AuditEvent[]): () => Promise<void>;
  /** For events nobody waits on (the server's own start, stop and throttle counts): a failure is logged. */
  recordQuietly(event: AuditEvent): void;
  /** Waits for every recorded event, then stops the worker and flushes the sinks. */
  close(): Promise<void>;
}

export interface AuditPipelineOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  /** Append on the store's own connection instead of a worker thread (the CLI's local mode, benchmark comparisons). */
  readonly inProcess?: boolean;
  /** Forward to the SIEM sinks of audit_sinks (the server); default false. */
  readonly forward?: boolean;
  /** Wraps the appender (the server's metrics time and count each group commit). */
  readonly meterAppender?: (append: EventAppender) => EventAppender;
}

export function openAuditPipeline(appliance: Appliance, options: AuditPipelineOptions): AuditPipeline {
  const { store, config } = appliance;
  // The trail is each sink's on-disk spool: what a sink has not delivered is read back from it, and its signed
  // cursor (sinks/sink-cursor.ts) says where to resume after a restart.
  const trail = { headSeq: () => store.audit.auditHead()?.seq ?? 0, read: (from: number, limit: number) => auditLiveEvents(store.audit.readAuditRecords(from, limit)) };
  const keychainId = store.getMeta()?.keychainId;
  const cursors = keychainId === undefined ? undefined : new HsmCursorKeeper({ audit: store.audit, keychainId, hsm: () => appliance.hsm(), clock: options.clock });
  const stamper = { clock: options.clock, newId: () => appliance.ids.newId() };
  let writer: AuditWriter | null = null;
  const notify = (notice: SinkNotice): void => {
    // Never inside the publisher's turn: the notice is recorded like any event, and reaches the sinks in order.
    options.timers.after(0, () => {
      writer?.record(sinkNoticeEvent(stamper, notice)).catch((err: unknown) => options.log.error('audit event not written', { type: notice.kind, error: String(err) }));
    });
  };
  const sinks = options.forward
    ? new SinkManager(sinkSpecsOf(config.values, config.dataDir), { clock: options.clock, timers: options.timers, version: applianceVersion(), hostname: hostname(), procId: String(process.pid), log: options.log, trail, cursors, notify })
    : null;
  const events = new EventBus();
  sinks?.attach(events);
  // On PostgreSQL the group commit goes through the store on the bridge: one transaction per group under
  // the cluster's writer lock, the chain head read and extended inside it (storage/sqlite-audit.ts). The
  // worker's own connection is a SQLite file's; a second bridge writing from this thread could wait for
  // the writer lock the first holds (docs/cluster/bridge.md).
  const inProcess = options.inProcess === true || appliance.storage === 'postgres';
  const appender = inProcess ? null : new WorkerAuditAppender({ keychainPath: setting(config, 'keychain_path') });
  const append: EventAppender = appender === null ? storeAppender(store.audit) : (batch) => appender.append(batch);
  writer = new AuditWriter(
    store.audit,
    undefined,
    (records) => {
      // Parsing every event costs the hot path: only when someone listens.
      if (events.listenerCount > 0) for (const live of auditLiveEvents(records)) events.publish(live);
    },
    options.meterAppender?.(append) ?? append,
  );
  const opened = writer;
  return {
    events,
    writer: opened,
    sinks,
    record: (event) => opened.record(event),
    appendWithin: (events) => appendWithin(opened, events),
    appendWithinDurableLater: (events) => {
      const records = opened.appendInTransaction(events);
      return () => {
        const durable = store.commitsDurable?.() ?? Promise.resolve();
        opened.publishedOnceDurable(records, durable);
        return durable;
      };
    },
    commitWithEvent: (change, eventOf) => {
      let publish = (): void => undefined;
      const result = store.transaction(() => {
        const changed = change();
        publish = appendWithin(opened, eventOf(changed));
        return changed;
      });
      publish();
      return result;
    },
    recordQuietly: (event) => {
      opened.record(event).catch((err: unknown) => options.log.error('audit event not written', { type: event.type, error: String(err) }));
    },
    async close() {
      // The sinks first: a notice they record at close (none is expected) still gets written.
      // A dead SIEM costs at most the flush bound; what it did not take goes out after the next start.
      await opened.drain();
      await sinks?.close();
      await opened.drain();
      await appender?.close();
    },
  };
}

/** See AuditPipeline.appendWithin. */
function appendWithin(writer: AuditWriter, events: AuditEvent | readonly AuditEvent[]): () => void {
  const records = writer.appendInTransaction(events);
  return () => writer.published(records);
}
