/**
 * The timers a sink waits with (back-off, rate limit, flush deadline),
 * injected so that unit tests drive them by hand. The system timers are
 * unref'd: a pending retry to a dead SIEM never keeps the process alive.
 */
export interface SinkTimers {
  /** Runs `fn` after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemTimers: SinkTimers = {
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
