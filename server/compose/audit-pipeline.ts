/**
 * The first piece an appliance starts and the last it stops: the audit
 * pipeline. Every operation's event goes through one AuditWriter (group
 * commit; the server's batches append on a worker thread with its own
 * connection, so the fsync never holds the event loop), committed batches
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
import { WorkerAuditAppender } from '../../storage/audit-worker/worker-appender';
import { Appliance } from './open-appliance';

export interface AuditPipeline {
  readonly events: EventBus;
  readonly writer: AuditWriter;
  /** Null where nothing is forwarded (the CLI's local mode: the server forwards what others appended). */
  readonly sinks: SinkManager | null;
  /** Resolves once the event is durable; rejects with AUDIT_UNAVAILABLE. */
  record(event: AuditEvent): Promise<void>;
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
  const sinks = options.forward
    ? new SinkManager(sinkSpecsOf(config.values, config.dataDir), { clock: options.clock, timers: options.timers, version: applianceVersion(), hostname: hostname(), procId: String(process.pid), log: options.log })
    : null;
  const events = new EventBus();
  // The trail fills gaps in the forwarded stream: events another process (a local-mode CLI) appended.
  sinks?.attach(events, { headSeq: () => store.audit.auditHead()?.seq ?? 0, read: (from, limit) => auditLiveEvents(store.audit.readAuditRecords(from, limit)) });
  const appender = options.inProcess ? null : new WorkerAuditAppender({ keychainPath: setting(config, 'keychain_path') });
  const append: EventAppender = appender === null ? storeAppender(store.audit) : (batch) => appender.append(batch);
  const writer = new AuditWriter(
    store.audit,
    undefined,
    (records) => {
      // Parsing every event costs the hot path: only when someone listens.
      if (events.listenerCount > 0) for (const live of auditLiveEvents(records)) events.publish(live);
    },
    options.meterAppender?.(append) ?? append,
  );
  return {
    events,
    writer,
    sinks,
    record: (event) => writer.record(event),
    recordQuietly: (event) => {
      writer.record(event).catch((err: unknown) => options.log.error('audit event not written', { type: event.type, error: String(err) }));
    },
    async close() {
      await writer.drain();
      await appender?.close();
      // A dead SIEM costs at most the flush bound.
      await sinks?.close();
    },
  };
}
