/**
 * The rollover benchmark's Get load (scripts/bench-rollover.ts): a closed
 * loop on the native protocol's lanes, one request in flight per
 * connection, with its completions recorded for the window statistics and
 * printed as a table.
 */
import { performance } from 'node:perf_hooks';
import { FRAME_HEADER_BYTES } from '../protocol/frame-codec';
import { decodeResponse } from '../protocol/response';
import { Lane } from './bench-socket-load';
import { ID_DIGITS, ID_OFFSET } from './bench-socket-servers';

/** After the load stops, its in-flight requests must be answered within this. */
const DRAIN_TIMEOUT_MS = 10_000;
/** Most Get completions recorded (16 bytes each): bounds memory on a very long run. */
const MAX_RECORDS = 20_000_000;
/** Payload offset of `r` (result) or `e` (error) after `{"id":"NNNNNNNN","`. */
const KIND_OFFSET = ID_OFFSET + ID_DIGITS + 3;
const RESULT_LETTER = 0x72;
const ID_MODULUS = 100_000_000;
const RING_SIZE = 4096;

/** Completion time and latency of every Get, so any window of the run can be summarised afterwards. */
export class Records {
  private done: Float64Array = new Float64Array(1 << 20);
  private latency: Float64Array = new Float64Array(1 << 20);
  count = 0;

  add(doneAt: number, latencyMs: number): void {
    if (this.count === this.done.length) {
      if (this.count >= MAX_RECORDS) throw new RangeError(`more than ${MAX_RECORDS} requests recorded: the run is too long`);
      const grow = (old: Float64Array): Float64Array => {
        const bigger = new Float64Array(Math.min(old.length * 2, MAX_RECORDS));
        bigger.set(old);
        return bigger;
      };
      this.done = grow(this.done);
      this.latency = grow(this.latency);
    }
    this.done[this.count] = doneAt;
    this.latency[this.count++] = latencyMs;
  }

  /** Requests completed in [from, to) (performance.now() ms). */
  window(from: number, to: number): WindowStats {
    const picked: number[] = [];
    for (let i = 0; i < this.count; i++) if (this.done[i] >= from && this.done[i] < to) picked.push(this.latency[i]);
    const sorted = Float64Array.from(picked).sort();
    const at = (q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]);
    const seconds = (to - from) / 1000;
    return { seconds, requests: sorted.length, opsPerSecond: sorted.length / seconds, p50ms: at(0.5), p99ms: at(0.99), p999ms: at(0.999), maxMs: sorted.length ? sorted[sorted.length - 1] : NaN };
  }
}

export interface WindowStats {
  readonly seconds: number;
  readonly requests: number;
  readonly opsPerSecond: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly p999ms: number;
  readonly maxMs: number;
}

/**
 * A closed-loop Get load on `lanes` (one request in flight per connection,
 * a random key each time) that runs until stop(). The first failure (an
 * error answer, a closed connection) is kept and fails stop().
 */
export class GetLoad {
  readonly records = new Records();
  private stopping = false;
  private failure: Error | null = null;
  private drained: (() => void) | null = null;

  constructor(private readonly lanes: readonly Lane[], private readonly requests: readonly Buffer[]) {}

  start(): void {
    for (const lane of this.lanes) {
      lane.onFrames = (l, frames) => this.onFrames(l, frames);
      lane.onClose = (err) => this.fail(err);
      this.send(lane);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.lanes.some((lane) => lane.inFlight > 0)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.fail(new Error(`Gets still unanswered ${DRAIN_TIMEOUT_MS} ms after the load stopped`));
          resolve();
        }, DRAIN_TIMEOUT_MS);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const lane of this.lanes) {
      lane.onFrames = null;
      lane.onClose = null;
    }
    if (this.failure) throw this.failure;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.stopping = true;
    this.drained?.();
  }

  private send(lane: Lane): void {
    const template = this.requests[(Math.random() * this.requests.length) | 0];
    const out = Buffer.from(template);
    const id = lane.nextId;
    lane.nextId = (id + 1) % ID_MODULUS;
    let digits = id;
    for (let d = ID_DIGITS - 1; d >= 0; d--) {
      out[FRAME_HEADER_BYTES + ID_OFFSET + d] = 0x30 + (digits % 10);
      digits = Math.floor(digits / 10);
    }
    lane.sentAt[id % RING_SIZE] = performance.now();
    lane.inFlight++;
    lane.socket.write(out);
  }

  private onFrames(lane: Lane, frames: Buffer[]): void {
    const now = performance.now();
    for (const frame of frames) {
      if (frame[KIND_OFFSET] !== RESULT_LETTER) {
        const response = decodeResponse(frame);
        return this.fail(new Error(`a Get was answered ${response.error?.code ?? 'something unexpected'}: ${response.error?.message ?? ''}`));
      }
      lane.inFlight--;
      let id = 0;
      for (let d = 0; d < ID_DIGITS; d++) id = id * 10 + (frame[ID_OFFSET + d] - 0x30);
      try {
        this.records.add(now, now - lane.sentAt[id % RING_SIZE]);
      } catch (err) {
        return this.fail(err as Error);
      }
    }
    if (!this.stopping) this.send(lane);
    else if (this.lanes.every((l) => l.inFlight === 0)) this.drained?.();
  }
}

function fixed(value: number, digits: number, width: number): string {
  return (Number.isFinite(value) ? value.toFixed(digits) : '-').padStart(width);
}

export function table(rows: ReadonlyArray<[string, WindowStats]>): string {
  const head = `${'phase'.padEnd(14)}${'seconds'.padStart(9)}${'Gets'.padStart(10)}${'ops/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'p99.9 ms'.padStart(10)}${'max ms'.padStart(9)}`;
  const lines = rows.map(
    ([phase, s]) =>
      `${phase.padEnd(14)}${fixed(s.seconds, 1, 9)}${String(s.requests).padStart(10)}${fixed(s.opsPerSecond, 0, 9)}${fixed(s.p50ms, 2, 9)}${fixed(s.p99ms, 2, 9)}${fixed(s.p999ms, 2, 10)}${fixed(s.maxMs, 1, 9)}`,
  );
  return [head, ...lines].join('\n');
}
