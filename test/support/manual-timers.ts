/**
 * Timers (common/timers.ts) that fire only when a test advances them, on the
 * ManualClock they share: advance(ms) moves the clock to each due timer in
 * turn (earliest first; equal times in the order they were set), fires it,
 * lets promise callbacks settle, and ends at now + ms. Timeouts, back-offs
 * and periodic work are then tested without real time passing.
 */
import { ManualClock } from '../../common/clock';
import { Timer, Timers } from '../../common/timers';

interface Pending {
  at: number;
  /** Order among timers due at the same time: the order they were (re)set. */
  seq: number;
  readonly ms: number;
  readonly repeat: boolean;
  readonly fn: () => void;
}

export class ManualTimers implements Timers {
  private pending: Pending[] = [];
  private nextSeq = 0;

  constructor(readonly clock: ManualClock) {}

  after(ms: number, fn: () => void): Timer {
    return this.schedule(ms, fn, false);
  }

  every(ms: number, fn: () => void): Timer {
    return this.schedule(ms, fn, true);
  }

  get count(): number {
    return this.pending.length;
  }

  /** The delays of the pending timers from now. */
  delays(): number[] {
    return this.pending.map((t) => t.at - this.clock.nowMs());
  }

  /** Moves the clock by `ms`, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.nowMs() + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      await settle();
      const due = this.pending.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.remove(due);
      if (due.at > this.clock.nowMs()) this.clock.set(due.at);
      if (due.repeat) this.arm(due, due.at + Math.max(1, due.ms));
      due.fn();
    }
    this.clock.set(end);
    await settle();
  }

  private schedule(ms: number, fn: () => void, repeat: boolean): Timer {
    const timer: Pending = { at: 0, seq: 0, ms, repeat, fn };
    let cancelled = false;
    this.arm(timer, this.clock.nowMs() + ms);
    return {
      cancel: () => {
        cancelled = true;
        this.remove(timer);
      },
      restart: () => {
        if (cancelled) return;
        this.remove(timer);
        this.arm(timer, this.clock.nowMs() + ms);
      },
    };
  }

  private arm(timer: Pending, at: number): void {
    timer.at = at;
    timer.seq = this.nextSeq++;
    this.pending.push(timer);
  }

  private remove(timer: Pending): void {
    this.pending = this.pending.filter((t) => t !== timer);
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
