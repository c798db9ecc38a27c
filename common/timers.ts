/**
 * The injected timers, beside the injected clock (common/clock.ts): nothing
 * that waits for appliance time calls setTimeout or setInterval directly, so
 * that timeouts, back-offs and periodic sweeps can be driven by hand in tests
 * (a manual implementation in test/support/manual-timers.ts fires them as its
 * clock advances). `systemTimers` is the one real implementation. (The
 * rollover sweep's pause between batches shares the CPU in wall time and
 * says why; the client library keeps its own timers.)
 *
 * Every timer is unref'd: a pending deadline, back-off or periodic sweep
 * never keeps the process alive on its own.
 */

/** A pending timer. */
export interface Timer {
  /** Stops it; harmless once it has fired or was cancelled. */
  cancel(): void;
  /**
   * Starts its countdown again from now, with the same delay: a deadline that
   * activity pushes back (an idle timeout). Cheap: no new timer. A one-shot
   * timer that already fired is armed again.
   */
  restart(): void;
}

export interface Timers {
  /** Runs `fn` once, `ms` from now. */
  after(ms: number, fn: () => void): Timer;
  /** Runs `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Timer;
}

function handle(timeout: NodeJS.Timeout, clear: (timeout: NodeJS.Timeout) => void): Timer {
  timeout.unref();
  return {
    cancel: () => clear(timeout),
    restart: () => void timeout.refresh(),
  };
}

export const systemTimers: Timers = {
  after: (ms, fn) => handle(setTimeout(fn, ms), clearTimeout),
  every: (ms, fn) => handle(setInterval(fn, ms), clearInterval),
};
