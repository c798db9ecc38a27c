/**
 * The appliance's audit sinks: one winston logger whose transports are the
 * configured sinks, fed from the event bus with every durable audit event
 * in chain order. The bus listener only hands the event to the logger;
 * each transport filters and queues it (SiemTransport), so a dead or slow
 * SIEM never blocks or slows serving. Events another process appended to
 * the trail (they never cross this bus) are read back and forwarded in
 * their place, so a SIEM sees one gap-free chain; with cursors
 * (sinks/sink-cursor.ts) each sink resumes after a restart where it
 * stopped, the trail being its on-disk spool. stats() is what
 * `strongroom status` shows; close() flushes for a bounded time, then
 * gives up (never hangs). The server's logger (deps.log) hears of each
 * sink's outages: once when delivery starts failing, once when it recovers.
 */
import winston from 'winston';
import { EventBus, LiveEvent } from '../domain/events/event-bus';
import { SiemTransport, SinkDeps, SinkStats } from './siem-transport';
import { AuditHistory } from './trail-feed';
import { SinkSpec } from './sink-spec';

/** How long close() waits for the sinks to deliver what they hold. */
export const CLOSE_FLUSH_MS = 2_000;

export type { AuditHistory };
const AUDIT_LEVEL = 'audit';

export class SinkManager {
  private readonly transports: SiemTransport[];
  private readonly logger: winston.Logger | null;
  private unsubscribe: (() => void) | null = null;
  private started: Promise<void> = Promise.resolve();

  constructor(specs: readonly SinkSpec[], private readonly deps: SinkDeps) {
    this.transports = specs.map((spec) => new SiemTransport(spec, deps));
    this.logger =
      this.transports.length === 0
        ? null
        : winston.createLogger({
            levels: { [AUDIT_LEVEL]: 0 },
            level: AUDIT_LEVEL,
            // The transports encode the event themselves; the logger adds nothing.
            format: winston.format((info) => info)(),
            transports: this.transports,
            exitOnError: false,
          });
    // A transport never emits errors, but an unhandled 'error' would end the process: guard anyway.
    this.logger?.on('error', () => undefined);
  }

  get sinkCount(): number {
    return this.transports.length;
  }

  /**
   * Starts forwarding the bus's audit events (no-op without sinks, so the
   * bus stays listener-free). With a trail (`history`, else the deps'), each
   * sink reads back from it what the bus did not bring in order: events
   * another process appended, events it fell behind on, and, with cursors,
   * what it had not delivered when the appliance last stopped.
   */
  attach(bus: EventBus, history?: AuditHistory): void {
    const logger = this.logger;
    if (logger === null || this.unsubscribe !== null) return;
    this.unsubscribe = bus.subscribe((event: LiveEvent) => {
      if (event.kind === 'audit') logger.log({ level: AUDIT_LEVEL, message: '', live: event });
    });
    const trail = history ?? this.deps.trail ?? null;
    // A cursor load waits for the HSM; events meanwhile are read back from the trail once it is loaded.
    this.started = Promise.all(this.transports.map((transport) => transport.begin(trail))).then(() => undefined);
  }

  /** Resolves once every sink has loaded its cursor and started. */
  ready(): Promise<void> {
    return this.started;
  }

  stats(): SinkStats[] {
    return this.transports.map((transport) => transport.stats());
  }

  /**
   * Stops taking events, lets each sink deliver for up to `flushMs`, saves
   * each cursor, then closes them. Without cursors what is left counts as
   * dropped; with them it is sent after the next start.
   */
  async close(flushMs = CLOSE_FLUSH_MS): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    // Events already written to the logger reach the transports within a turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    await this.started;
    await Promise.all(this.transports.map((transport) => transport.flush(flushMs)));
    // Saved before the queues close: the cursor covers what was delivered, not what was left.
    await Promise.all(this.transports.map((transport) => transport.saveCursor()));
    // Removing the transports makes winston call close() on each.
    this.logger?.clear();
    for (const transport of this.transports) transport.close();
  }
}
