/**
 * The appliance's audit sinks: one winston logger whose transports are the
 * configured sinks, fed from the event bus with every durable audit event
 * in chain order. The bus listener only hands the event to the logger;
 * each transport filters and queues it (SiemTransport), so a dead or slow
 * SIEM never blocks or slows serving. stats() is what `strongroom status`
 * shows; close() flushes for a bounded time, then gives up (never hangs).
 */
import winston from 'winston';
import { EventBus, LiveEvent } from '../../domain/events/event-bus';
import { SiemTransport, SinkDeps, SinkStats } from './siem-transport';
import { SinkSpec } from './sink-spec';

/** How long close() waits for the sinks to deliver what they hold. */
export const CLOSE_FLUSH_MS = 2_000;
const AUDIT_LEVEL = 'audit';

export class SinkManager {
  private readonly transports: SiemTransport[];
  private readonly logger: winston.Logger | null;
  private unsubscribe: (() => void) | null = null;

  constructor(specs: readonly SinkSpec[], deps: SinkDeps) {
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

  /** Starts forwarding the bus's audit events (no-op without sinks, so the bus stays listener-free). */
  attach(bus: EventBus): void {
    const logger = this.logger;
    if (logger === null || this.unsubscribe !== null) return;
    this.unsubscribe = bus.subscribe((event: LiveEvent) => {
      if (event.kind === 'audit') logger.log({ level: AUDIT_LEVEL, message: '', live: event });
    });
  }

  stats(): SinkStats[] {
    return this.transports.map((transport) => transport.stats());
  }

  /** Stops taking events, lets each sink deliver for up to `flushMs`, then closes them (what is left counts as dropped). */
  async close(flushMs = CLOSE_FLUSH_MS): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    // Events already written to the logger reach the transports within a turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all(this.transports.map((transport) => transport.flush(flushMs)));
    // Removing the transports makes winston call close() on each.
    this.logger?.clear();
    for (const transport of this.transports) transport.close();
  }
}
