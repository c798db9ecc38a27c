/**
 * The appliance's audit sinks: one winston logger whose transports are the
 * configured sinks, fed from the event bus with every durable audit event
 * in chain order. The bus listener only hands the event to the logger;
 * each transport filters and queues it (SiemTransport), so a dead or slow
 * SIEM never blocks or slows serving. Events another process appended to
 * the trail (they never cross this bus) are read back and forwarded in
 * their place, so a SIEM sees one gap-free chain. stats() is what
 * `strongroom status` shows; close() flushes for a bounded time, then
 * gives up (never hangs). The server's logger (deps.log) hears of each
 * sink's outages: once when delivery starts failing, once when it recovers.
 */
import winston from 'winston';
import { AuditLiveEvent, EventBus, LiveEvent } from '../domain/events/event-bus';
import { SiemTransport, SinkDeps, SinkStats } from './siem-transport';
import { SinkSpec } from './sink-spec';

/** How long close() waits for the sinks to deliver what they hold. */
export const CLOSE_FLUSH_MS = 2_000;
/**
 * Most events read back from the trail to fill one gap (events another
 * process appended): bounds the synchronous read in the publisher's turn.
 * A larger gap stays a gap, visible to the SIEM by its seq numbers.
 */
export const MAX_BACKFILL = 1_000;

/**
 * The local trail, for events the bus never carried: those another process
 * (the CLI in local mode) appended while this server runs.
 */
export interface AuditHistory {
  /** The last seq in the trail now (0: empty). */
  headSeq(): number;
  /** Up to `limit` records from `fromSeq` on, as live events. */
  read(fromSeq: number, limit: number): AuditLiveEvent[];
}
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

  /**
   * Starts forwarding the bus's audit events (no-op without sinks, so the
   * bus stays listener-free). With `history`, an event whose seq skips
   * ahead is preceded by the events in between, read back from the trail,
   * so each sink's stream stays gap-free when another process appends.
   */
  attach(bus: EventBus, history?: AuditHistory): void {
    const logger = this.logger;
    if (logger === null || this.unsubscribe !== null) return;
    const forward = (live: AuditLiveEvent): void => {
      logger.log({ level: AUDIT_LEVEL, message: '', live });
    };
    let last = history === undefined ? null : safeHead(history);
    this.unsubscribe = bus.subscribe((event: LiveEvent) => {
      if (event.kind !== 'audit') return;
      if (history !== undefined && last !== null && event.seq > last + 1) {
        for (const missed of safeRead(history, last + 1, Math.min(event.seq - last - 1, MAX_BACKFILL))) if (missed.seq < event.seq) forward(missed);
      }
      if (last === null || event.seq > last) last = event.seq;
      forward(event);
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

function safeHead(history: AuditHistory): number | null {
  try {
    return history.headSeq();
  } catch {
    return null;
  }
}

/** A failed read (the database busy) leaves the gap as it is: forwarding must never throw into serving. */
function safeRead(history: AuditHistory, fromSeq: number, limit: number): AuditLiveEvent[] {
  try {
    return history.read(fromSeq, limit);
  } catch {
    return [];
  }
}
