/**
 * The CLI's line for server-side work it cannot measure: while the appliance
 * snapshots a keychain (`backup create`) or verifies a backup in full before
 * it stores a restore request (`backup restore`), one request is
 * outstanding and the native protocol has no progress frames (one request,
 * one response: docs/protocol.md §3), so there is no fraction to draw. What
 * is honest is what the operator can see: what the server is doing (with
 * the size of the work when the CLI could learn it first), a spinner that
 * shows the CLI is alive, and the time elapsed. Like the progress bar
 * (progress.ts): on stderr, rewritten in place, only when stderr is a
 * terminal and --json is off, so scripts, pipes and tests see nothing.
 */
import { Clock, systemClock } from '../common/clock';
import { systemTimers, Timers } from '../common/timers';

/** How often the elapsed time is redrawn. */
export const WAIT_REDRAW_MS = 250;
const SPINNER = ['|', '/', '-', '\\'];

export interface WaitLine {
  /** Ends the line (nothing when nothing was drawn). */
  end(): void;
}

export interface WaitLineDeps {
  readonly stream?: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>;
  readonly clock?: Clock;
  readonly timers?: Timers;
}

/** "12s", "3m 05s": elapsed time as a person reads it. */
export function elapsedText(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
}

/** Whether a wait line would be drawn: worth a request to learn the size of the work only then. */
export function waitLineShown(options: { json: boolean }, stream: Pick<NodeJS.WriteStream, 'isTTY'> = process.stderr): boolean {
  return !options.json && stream.isTTY === true;
}

export function waitLine(label: string, options: { json: boolean }, deps: WaitLineDeps = {}): WaitLine {
  const stream = deps.stream ?? process.stderr;
  if (!waitLineShown(options, stream)) return { end: () => undefined };
  const clock = deps.clock ?? systemClock;
  const started = clock.nowMs();
  let turn = 0;
  const draw = (): void => {
    stream.write(`\r${label} ${SPINNER[turn++ % SPINNER.length]} ${elapsedText(clock.nowMs() - started)}`);
  };
  draw();
  const timer = (deps.timers ?? systemTimers).every(WAIT_REDRAW_MS, draw);
  let ended = false;
  return {
    end() {
      if (ended) return;
      ended = true;
      timer.cancel();
      stream.write(`\r${label}: ${elapsedText(clock.nowMs() - started)}\n`);
    },
  };
}

/** Runs `work` with a wait line up while it is outstanding; the line ends whatever the outcome. */
export async function whileServerWorks<T>(label: string, options: { json: boolean }, work: () => Promise<T>, deps: WaitLineDeps = {}): Promise<T> {
  const line = waitLine(label, options, deps);
  try {
    return await work();
  } finally {
    line.end();
  }
}
