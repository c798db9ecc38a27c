/**
 * Bounds what a flood of refused connections writes to the audit trail.
 * Every refusal from a source is recorded on its own up to
 * MAX_EVENTS_PER_SOURCE in a window; past that, the source's further
 * refusals in the window are counted and recorded as one
 * `auth-failure-suppressed` event when the window closes (nothing is lost
 * from the record: the count says how many). Without this, anyone who can
 * reach the port could grow the trail by an fsync'd event per handshake.
 */
import { Clock } from '../../common/clock';

/** Refusals of one source recorded individually per window. */
export const MAX_EVENTS_PER_SOURCE = 20;
/** Length of a window. */
export const WINDOW_MS = 60_000;
/** Sources tracked at once: past it, further sources share one bucket ('*'), so memory stays bounded under a spoofed-address flood. */
export const MAX_TRACKED_SOURCES = 10_000;

export interface SuppressedRefusals {
  readonly source: string;
  readonly count: number;
  readonly windowStart: string;
}

export class AuthFailureThrottle {
  private windowStart: number;
  private readonly seen = new Map<string, number>();

  constructor(private readonly clock: Clock) {
    this.windowStart = clock.nowMs();
  }

  /**
   * True: record this refusal as its own event. False: it was counted, and
   * comes out of closeWindow(). A closed window is rolled over first.
   */
  admit(source: string | null, onWindowClosed: (suppressed: SuppressedRefusals[]) => void): boolean {
    if (this.clock.nowMs() - this.windowStart >= WINDOW_MS) onWindowClosed(this.closeWindow());
    let key = source ?? 'unknown';
    if (!this.seen.has(key) && this.seen.size >= MAX_TRACKED_SOURCES) key = '*';
    const count = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, count);
    return count <= MAX_EVENTS_PER_SOURCE;
  }

  /** Ends the window: the sources whose refusals were counted beyond the limit, and how many. */
  closeWindow(): SuppressedRefusals[] {
    const windowStart = new Date(this.windowStart).toISOString();
    const suppressed = [...this.seen].filter(([, count]) => count > MAX_EVENTS_PER_SOURCE).map(([source, count]) => ({ source, count: count - MAX_EVENTS_PER_SOURCE, windowStart }));
    this.seen.clear();
    this.windowStart = this.clock.nowMs();
    return suppressed;
  }
}
