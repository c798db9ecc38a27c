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
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import TransportStream from 'winston-transport';
import { Clock } from '../common/clock';
import { Logger, silentLogger } from '../common/logger';
import { ConfigError } from '../common/errors';
import { auditLineOfLive } from '../protocol/audit-line';
import { AuditLiveEvent } from '../domain/events/event-bus';
import { formatCef } from './cef';
import { Channel, Chunk, FileChannel, StreamChannel, UdpChannel } from './channels';
import { DeliveryHealthChange, DeliveryQueue, describeError, QueueStats } from './delivery-queue';
import { eventNamespace } from './event-summary';
import { formatLeef } from './leef';
import { datagram, octetCountedFrame, syslogMessage, SyslogOrigin } from './rfc5424';
import { SinkSpec } from './sink-spec';
import { Timers } from '../common/timers';

export interface SinkStats extends QueueStats {
  readonly name: string;
  readonly transport: SinkSpec['transport'];
  readonly format: SinkSpec['format'];
  /** host:port, or the file's path. */
  readonly target: string;
  readonly connected: boolean;
  /** UDP datagrams cut to max_datagram. */
  readonly truncated: number;
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

  constructor(spec: SinkSpec, deps: SinkDeps) {
    super();
    this.spec = spec;
    this.version = deps.version;
    this.types = spec.types === null ? null : new Set(spec.types);
    this.origin = { hostname: spec.hostname ?? deps.hostname, procId: deps.procId, facility: spec.facility };
    this.channel = deps.channel ?? channelFor(spec, deps.timers);
    this.queue = new DeliveryQueue({
      capacity: spec.queueCapacity,
      ratePerSecond: spec.ratePerSecond,
      retryMaxMs: spec.retryMaxMs,
      clock: deps.clock,
      timers: deps.timers,
      send: (batch) => this.channel.send(batch.map((live) => this.encode(live))),
      onHealth: (change) => this.logHealth(deps.log ?? silentLogger, change),
    });
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
      log.warn('audit sink closed with events undelivered (strongroom audit export has them)', { ...where, undelivered: change.undelivered, stillFailing: change.stillFailing, lastError: this.queue.stats().lastError });
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
      if (info.live !== undefined && this.accepts(info.live)) this.queue.push(info.live);
    } finally {
      next();
    }
  }

  /** One event on this sink's wire: a JSON line, an octet-counted frame, or a datagram. */
  encode(live: AuditLiveEvent): Chunk {
    if (this.spec.transport === 'file') return `${auditLineOfLive(live)}\n`;
    const body = this.spec.format === 'cef' ? formatCef(live, this.version) : this.spec.format === 'leef' ? formatLeef(live, this.version) : auditLineOfLive(live);
    const message = syslogMessage(live, body, this.origin);
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
    };
  }

  /** Resolves true once all queued events are delivered, false after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean> {
    return this.queue.flush(timeoutMs);
  }

  /** Stops delivery (called by winston when the logger drops the transport); what is still queued counts as dropped. */
  override close(): void {
    this.queue.close();
    this.channel.close();
  }
}

function channelFor(spec: SinkSpec, timers: Timers): Channel {
  switch (spec.transport) {
    case 'file':
      return new FileChannel(spec.path as string);
    case 'syslog-udp':
      return new UdpChannel(spec.host as string, spec.port as number);
    case 'syslog-tcp':
      return new StreamChannel({ host: spec.host as string, port: spec.port as number, tls: null }, timers);
    case 'syslog-tls':
      return new StreamChannel({
        host: spec.host as string,
        port: spec.port as number,
        tls: {
          ca: spec.caFile === null ? undefined : readSinkFile(spec, 'ca', spec.caFile),
          cert: spec.certFile === null ? undefined : readSinkFile(spec, 'cert', spec.certFile),
          key: spec.keyFile === null ? undefined : readSinkFile(spec, 'key', spec.keyFile),
          // SNI carries names only (RFC 6066 §3): for an IP address the certificate is checked against the address.
          servername: spec.serverName ?? (isIP(spec.host as string) === 0 ? (spec.host as string) : undefined),
          rejectUnauthorized: true,
        },
      }, timers);
  }
}

/** Reads a PEM file of a TLS sink at start, so a wrong path fails the start, not every delivery. */
function readSinkFile(spec: SinkSpec, field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ConfigError(`audit sink "${spec.name}": ${field} file ${path} cannot be read`, { cause, details: { sink: spec.name, field } });
  }
}
