/** SinkTimers that fire only when a test advances them, with the ManualClock they share. */
import { ManualClock } from '../../common/clock';
import { SinkTimers } from '../../sinks/timers';

export class ManualTimers implements SinkTimers {
  private pending: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 0;

  constructor(readonly clock: ManualClock) {}

  after(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.pending.push({ at: this.clock.nowMs() + ms, fn, id });
    return () => {
      this.pending = this.pending.filter((t) => t.id !== id);
    };
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
      const due = this.pending.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((t) => t !== due);
      if (due.at > this.clock.nowMs()) this.clock.set(due.at);
      due.fn();
    }
    this.clock.set(end);
    await settle();
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
