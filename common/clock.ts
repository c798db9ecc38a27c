/**
 * The injected clock. Nothing in Strongroom reads `Date.now()` directly: every
 * service receives a Clock, so that lifecycle and rollover tests can move time.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock that only moves when told to: for tests and `--at` simulations. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date | number) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  nowMs(): number {
    return this.current;
  }

  set(to: Date | number): void {
    this.current = typeof to === 'number' ? to : to.getTime();
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

/**
 * The last millisecond isoNow formatted, and its text: every audit event
 * and record stamps the time, and under load many fall in one millisecond.
 * Formatting a Date anew cost about a microsecond per request. A memo of a
 * pure function of its argument: it never changes what is answered.
 */
let lastMs = Number.NaN;
let lastIso = '';

export function isoNow(clock: Clock): string {
  const ms = clock.nowMs();
  if (ms !== lastMs) {
    // Formatted first: a time Date cannot format throws, as it always did, and is not remembered.
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
