/**
 * The cluster harness's one way of waiting: poll an observable state (a REST
 * status, a health answer, a process's exit) until it holds, bounded in time
 * and in polls, failing fast when a watched process died. Never a fixed sleep
 * standing in for synchronisation: the pause between two polls only spaces
 * them out.
 */
import { ClusterHarnessError } from './harness-error';

export interface WaitOptions {
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** Space between two polls. */
  readonly intervalMs?: number;
  /** Called before each poll: a reason to stop at once (a member exited), or undefined. */
  readonly failFast?: () => string | undefined;
}

/**
 * Polls `probe` until it returns a value other than undefined, and returns it.
 * `probe` must be bounded itself (HTTP and SQL probes carry their own deadlines).
 * Throws ClusterHarnessError naming `what`, how long it waited and what the
 * last poll said (`lastState`).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: WaitOptions,
  lastState: () => string = () => 'no detail',
): Promise<T> {
  const interval = options.intervalMs ?? 200;
  const started = Date.now();
  const maxPolls = Math.ceil(options.timeoutMs / interval) + 1;
  for (let poll = 1; poll <= maxPolls; poll++) {
    const fatal = options.failFast?.();
    if (fatal !== undefined) throw new ClusterHarnessError(`${fatal} (while waiting for ${what})`);
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started + interval > options.timeoutMs) break;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  throw new ClusterHarnessError(`timed out after ${((Date.now() - started) / 1000).toFixed(1)} s waiting for ${what}; last seen: ${lastState()}`);
}
