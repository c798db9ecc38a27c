/**
 * One audit sink as a winston transport: it takes the durable audit events
 * the SinkManager's logger writes, keeps those its filter accepts (event
 * types, the namespace of the key), and queues them for delivery. log()
 * calls back at once, so the logger never waits on a SIEM: the bounded
 * DeliveryQueue, not the stream's buffer, holds what is waiting.
 *
 * Encoding is done when an event is sent, not when it is queued, so that
 * serving a key pays only for a filter and a push. What goes out is built
 * from the event's whitelisted fields and chain position only (never key
 * material: the event has none).
 *
 * Delivery trouble goes to the server's operational log twice per outage:
 * a warning when it starts (the sink, its transport and target, the error's
 * code and message) and a line when it clears (what the outage cost); at
 * close, a warning if events are left undelivered. None carries anything
 * of the events.
 *
 * What it takes comes through its TrailFeed (sinks/trail-feed.ts): live
 * events while it keeps up, events read back from the trail when it falls
 * behind or restarts, from the position its signed cursor saved
 * (sinks/sink-cursor.ts, sinks/cursor-saver.ts).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConnectionOptions } from 'node:tls';
import TransportStream from 'winston-transport';
import { Clock } from '../common/clock';
import { Logger, silentLogger } from '../common/logger';
import { ConfigError } from '../common/errors';
import { auditLineOfLive } from '../protocol/audit-line';
import { AuditLiveEvent } from '../domain/events/event-bus';
import { formatCef } from './cef';
import { Channel, Chunk, FileChannel, StreamChannel, UdpChannel } from './channels';
import { RelpChannel } from './relp-channel';
import { DeliveryHealthChange, DeliveryQueue, describeError, QueueStats } from './delivery-queue';
import { eventNamespace } from './event-summary';
import { formatLeef } from './leef';
import { datagram, octetCountedFrame, syslogMessage, SyslogOrigin } from './rfc5424';
import { SinkSpec } from './sink-spec';
import { Timers } from '../common/timers';
import { CursorSaver } from './cursor-saver';
import { CursorKeeper, sinkIdentity } from './sink-cursor';
import { AuditHistory, SpoolDrop, TrailFeed } from './trail-feed';

/** What a sink tells the trail about itself (sinks/sink-events.ts makes the audit events). */
export type SinkNotice =
  | ({ readonly kind: 'dropped'; readonly sink: string; readonly spool: number } & SpoolDrop)
  | { readonly kind: 'cursor-rejected'; readonly sink: string; readonly reason: string; readonly storedSeq: number; readonly resumedAfter: number }
  | { readonly kind: 'cursor-missing'; readonly sink: string; readonly resumedAfter: number };

export interface SinkStats extends QueueStats {
  readonly name: string;
  readonly transport: SinkSpec['transport'];
  readonly format: SinkSpec['format'];
  /** host:port, or the file's path. */
  readonly target: string;
  readonly connected: boolean;
  /** UDP datagrams cut to max_datagram. */
  readonly truncated: number;
  /** Events of the trail not yet delivered to this sink (in its queue or still on disk). */
  readonly backlog: number;
  /** Its bound: most events it may fall behind beyond its queue. */
  readonly spool: number;
  /** The last seq its saved cursor covers (-1: none saved or loaded). */
  readonly cursorSeq: number;
  /** RELP: events sent in a session that broke before the SIEM acknowledged them, and so sent again (the SIEM may hold them twice). 0 for other transports, which cannot know. */
  readonly inDoubt: number;
  /** RELP: events sent and waiting for the SIEM's acknowledgement now (0 for other transports). */
  readonly unacknowledged: number;
  /** Starts without a cursor it could trust (missing or rejected): each resent from the oldest event its spool allows, with a sink-cursor-missing or sink-cursor-rejected event. */
  readonly cursorResets: number;
}

export interface SinkDeps {
  readonly clock: Clock;
  readonly timers: Timers;
  /** The appliance version, for the CEF/LEEF header. */
  readonly version: string;
  readonly hostname: string;
  readonly procId: string;
  /** The server's operational log, for delivery failures and recoveries (silent when absent). */
  readonly log?: Logger;
  /** Replaces the channel the spec names (unit tests). */
  readonly channel?: Channel;
  /** The local trail, the sinks' spool (none: a sink holds only its queue and drops beyond it). */
  readonly trail?: AuditHistory;
  /** Saves and loads each sink's signed cursor (none: a sink starts at the trail's head). */
  readonly cursors?: CursorKeeper;
  /** Records what a sink tells the trail: events skipped at its spool bound, a cursor it could not trust. */
  readonly notify?: (notice: SinkNotice) => void;
}

/** What a winston logger writes to the transports: the live event rides along. */
export interface AuditLogInfo {
  readonly level: string;
  readonly message: string;
  readonly live: AuditLiveEvent;
}

export class SiemTransport extends TransportStream {
  readonly spec: SinkSpec;
  private readonly channel: Channel;
  private readonly queue: DeliveryQueue<AuditLiveEvent>;
  private readonly origin: SyslogOrigin;
  private readonly version: string;
  private readonly types: ReadonlySet<string> | null;
  private truncated = 0;
  private feed: TrailFeed;
  private readonly saver: CursorSaver | null;
  private readonly deps: SinkDeps;
  private trailMode = false;
  private cursorResets = 0;

  constructor(spec: SinkSpec, deps: SinkDeps) {
    super();
    this.deps = deps;
    this.spec = spec;
    this.version = deps.version;
    this.types = spec.types === null ? null : new Set(spec.types);
    this.origin = { hostname: spec.hostname ?? deps.hostname, procId: deps.procId, facility: spec.facility };
    this.channel = deps.channel ?? channelFor(spec, deps.timers, deps.version);
    this.queue = new DeliveryQueue({
      capacity: spec.queueCapacity,
      ratePerSecond: spec.ratePerSecond,
      retryMaxMs: spec.retryMaxMs,
      clock: deps.clock,
      timers: deps.timers,
      send: (batch) => this.channel.send(batch.map((live) => this.encode(live))),
      onDelivered: (batch) => this.feed.deliveredBatch(batch),
      onHealth: (change) => this.logHealth(deps.log ?? silentLogger, change),
    });
    const identity = sinkIdentity(spec.name, spec.transport, this.target());
    this.saver = deps.cursors === undefined ? null : new CursorSaver(spec.name, identity, deps.cursors, () => this.feed.position(), deps.timers, deps.log ?? silentLogger);
    // Not started until begin(): what the bus carries before is read back from the trail then.
    this.feed = this.makeFeed(null);
  }

  private makeFeed(trail: AuditHistory | null): TrailFeed {
    return new TrailFeed({
      window: this.queue,
      accepts: (live) => this.accepts(live),
      trail,
      spool: this.spec.spoolEvents,
      timers: this.deps.timers,
      onDropped: (drop) => this.spoolDropped(drop),
      onAdvanced: () => this.saver?.moved(),
    });
  }

  /**
   * Starts taking events: after its saved cursor when it has one it can
   * trust, else from the oldest event its spool allows (a rejected cursor is
   * reported); without cursors, from the trail's head. Events published
   * before are not lost: they are read back from the trail.
   */
  async begin(trail: AuditHistory | null): Promise<void> {
    const feed = this.makeFeed(trail);
    this.feed = feed;
    this.trailMode = trail !== null;
    const keeper = this.deps.cursors;
    if (trail === null || keeper === undefined || this.saver === null) {
      feed.start(null, true);
      return;
    }
    const identity = sinkIdentity(this.spec.name, this.spec.transport, this.target());
    const loaded = await keeper.load(this.spec.name, identity).catch((err: unknown) => ({ state: 'rejected' as const, reason: `unverifiable: ${describeError(err)}`, storedSeq: -1 }));
    if (loaded.state === 'valid') {
      this.saver.loaded(loaded.position.seq);
      feed.start(loaded.position);
      return;
    }
    feed.start(null);
    const resumedAfter = feed.position()?.seq ?? 0;
    this.cursorResets++;
    if (loaded.state === 'missing') {
      // Nothing authenticated keeps a copy of the position (the signed row is the only one): a new sink, or its row
      // deleted. Either way the sink resends from the oldest event its spool allows (never from the head: that would
      // hide a gap), and says so, so that neither a new SIEM's history nor a deleted row's replay goes unexplained.
      (this.deps.log ?? silentLogger).warn('audit sink has no saved cursor (a new sink, or its row in audit_sink_cursors was deleted); sending from the oldest event the spool allows (the SIEM may see events twice, same seq and hash)', { sink: this.spec.name, resumedAfter });
      this.deps.notify?.({ kind: 'cursor-missing', sink: this.spec.name, resumedAfter });
    } else {
      (this.deps.log ?? silentLogger).warn('audit sink cursor rejected; resending from the oldest event the spool allows (the SIEM may see events twice, same seq and hash)', { sink: this.spec.name, reason: loaded.reason, storedSeq: loaded.storedSeq, resumedAfter });
      this.deps.notify?.({ kind: 'cursor-rejected', sink: this.spec.name, reason: loaded.reason, storedSeq: loaded.storedSeq, resumedAfter });
    }
  }

  private spoolDropped(drop: SpoolDrop): void {
    (this.deps.log ?? silentLogger).warn('audit sink fell behind beyond its spool; the oldest events were skipped for it (strongroom audit export has them)', { sink: this.spec.name, ...drop, spool: this.spec.spoolEvents });
    this.deps.notify?.({ kind: 'dropped', sink: this.spec.name, spool: this.spec.spoolEvents, ...drop });
  }

  /** One line when delivery starts failing, one when it recovers: who, where, why; never event contents. */
  private logHealth(log: Logger, change: DeliveryHealthChange): void {
    const where = { sink: this.spec.name, transport: this.spec.transport, format: this.spec.format, target: this.target() };
    if (change.state === 'failing') {
      const code = (change.error as { code?: unknown } | null)?.code;
      log.warn('audit sink delivery failing; retrying with back-off, events wait in its queue', {
        ...where,
        code: typeof code === 'string' ? code : null,
        error: describeError(change.error),
        retryMaxMs: this.spec.retryMaxMs,
        queueCapacity: this.spec.queueCapacity,
      });
    } else if (change.state === 'closed') {
      const details = { ...where, undelivered: change.undelivered, stillFailing: change.stillFailing, lastError: this.queue.stats().lastError };
      // With a saved cursor the trail is the spool: what is left goes out after the next start.
      if (this.trailMode && this.saver !== null) log.warn('audit sink closed with events undelivered; they are sent after the next start, from its saved cursor', { ...details, backlog: this.feed.backlog() });
      else log.warn('audit sink closed with events undelivered (strongroom audit export has them)', details);
    } else {
      const { state: _state, ...outage } = change;
      // Events this sink dropped are gone from its SIEM (the local trail keeps them): worth a warning.
      if (outage.droppedMeanwhile > 0) log.warn('audit sink delivery recovered; events were dropped meanwhile (strongroom audit export has them)', { ...where, ...outage });
      else log.info('audit sink delivery recovered', { ...where, ...outage });
    }
  }

  /** host:port, or the file's path. */
  private target(): string {
    return this.spec.transport === 'file' ? (this.spec.path as string) : `${this.spec.host}:${this.spec.port}`;
  }

  /** Whether this sink wants the event: its type, and its key's namespace (keyless events are no tenant's). */
  accepts(live: AuditLiveEvent): boolean {
    if (this.types !== null && !this.types.has(live.event.type)) return false;
    if (this.spec.namespaces === null) return true;
    const namespace = eventNamespace(live.event);
    return namespace !== null && this.spec.namespaces.includes(namespace);
  }

  override log(info: AuditLogInfo, next: () => void): void {
    try {
      if (info.live !== undefined) this.feed.offer(info.live);
    } finally {
      next();
    }
  }

  /** One event on this sink's wire: a JSON line, an octet-counted frame, or a datagram. */
  encode(live: AuditLiveEvent): Chunk {
    if (this.spec.transport === 'file') return `${auditLineOfLive(live)}\n`;
    const body = this.spec.format === 'cef' ? formatCef(live, this.version) : this.spec.format === 'leef' ? formatLeef(live, this.version) : auditLineOfLive(live);
    const message = syslogMessage(live, body, this.origin);
    // A RELP `syslog` command carries the bare message: its frame has its own length.
    if (this.spec.transport === 'relp' || this.spec.transport === 'relp-tls') return message;
    if (this.spec.transport !== 'syslog-udp') return octetCountedFrame(message);
    const cut = datagram(message, this.spec.maxDatagramBytes);
    if (cut.truncated) this.truncated++;
    return cut.bytes;
  }

  stats(): SinkStats {
    const spec = this.spec;
    return {
      name: spec.name,
      transport: spec.transport,
      format: spec.format,
      target: this.target(),
      connected: this.channel.connected,
      truncated: this.truncated,
      ...this.queue.stats(),
      dropped: this.trailMode ? this.feed.dropped : this.queue.stats().dropped,
      backlog: this.trailMode ? this.feed.backlog() : this.queue.size,
      spool: spec.spoolEvents,
      cursorSeq: this.saver?.savedThrough ?? -1,
      inDoubt: this.channel instanceof RelpChannel ? this.channel.inDoubt : 0,
      unacknowledged: this.channel instanceof RelpChannel ? this.channel.unacknowledged : 0,
      cursorResets: this.cursorResets,
    };
  }

  /** Resolves true once everything up to the head it knows is delivered (its queue and its backlog on disk), false after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.deps.clock.nowMs() + timeoutMs;
    // Each round delivers the queue; a sink behind refills it from the trail between rounds. Bounded by the deadline.
    for (let round = 0; round < 100_000; round++) {
      const left = deadline - this.deps.clock.nowMs();
      if (!(await this.queue.flush(Math.max(0, left)))) return false;
      if (!this.trailMode || this.feed.caughtUp()) return true;
      if (left <= 0) return false;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return false;
  }

  /** Saves the cursor for the last time (what was delivered is not sent again after a restart). */
  async saveCursor(): Promise<void> {
    await this.saver?.close();
  }

  /** Stops delivery (called by winston when the logger drops the transport). With the trail as spool nothing is lost: the next start sends what is left. */
  override close(): void {
    this.feed.close();
    this.queue.close();
    this.channel.close();
  }
}

function channelFor(spec: SinkSpec, timers: Timers, version: string): Channel {
  switch (spec.transport) {
    case 'file':
      return new FileChannel(spec.path as string);
    case 'syslog-udp':
      return new UdpChannel(spec.host as string, spec.port as number);
    case 'syslog-tcp':
      return new StreamChannel({ host: spec.host as string, port: spec.port as number, tls: null }, timers);
    case 'syslog-tls':
      return new StreamChannel({ host: spec.host as string, port: spec.port as number, tls: tlsOptions(spec) }, timers);
    case 'relp':
    case 'relp-tls':
      return new RelpChannel({ host: spec.host as string, port: spec.port as number, tls: spec.transport === 'relp' ? null : tlsOptions(spec), software: `strongroom,${version}` }, timers);
  }
}

/** The TLS of syslog-tls and relp-tls: the SIEM's certificate checked against ca= and its name. */
function tlsOptions(spec: SinkSpec): ConnectionOptions {
  return {
    ca: spec.caFile === null ? undefined : readSinkFile(spec, 'ca', spec.caFile),
    cert: spec.certFile === null ? undefined : readSinkFile(spec, 'cert', spec.certFile),
    key: spec.keyFile === null ? undefined : readSinkFile(spec, 'key', spec.keyFile),
    // SNI carries names only (RFC 6066 §3): for an IP address the certificate is checked against the address.
    servername: spec.serverName ?? (isIP(spec.host as string) === 0 ? (spec.host as string) : undefined),
    rejectUnauthorized: true,
  };
}

/** Reads a PEM file of a TLS sink at start, so a wrong path fails the start, not every delivery. */
function readSinkFile(spec: SinkSpec, field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ConfigError(`audit sink "${spec.name}": ${field} file ${path} cannot be read`, { cause, details: { sink: spec.name, field } });
  }
}
