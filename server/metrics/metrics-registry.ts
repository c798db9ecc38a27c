/**
 * The building blocks of the appliance's metrics, shaped for the request
 * path: a histogram with fixed buckets (an observation is a short scan of
 * the bounds and three additions), and series keyed by up to three label
 * values through nested Maps, so that finding a request's series allocates
 * nothing once it exists (no label object, no joined key string). The cost
 * of turning them into text is paid at scrape time only.
 */
import { HistogramSample, Labels } from './prometheus-text';

/** Seconds: from 100 µs (a cached Get) to 10 s (an HSM or disk in trouble). */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Events per group commit, up to the writer's cap (MAX_EVENTS_PER_COMMIT, 5000). */
export const COMMIT_SIZE_BUCKETS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

export class Histogram {
  /** Per bucket, not cumulative (the encoder adds them up): the last one counts what is above every bound. */
  readonly counts: Float64Array;
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i] > bounds[i - 1])) throw new Error('histogram bounds must ascend');
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Prometheus buckets are "less than or equal": `value` goes in the first bucket whose bound is at least it. */
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
  }

  get count(): number {
    let total = 0;
    for (let i = 0; i < this.counts.length; i++) total += this.counts[i];
    return total;
  }

  sample(labels: Labels): HistogramSample {
    // A copy: a request observed while the page is written must not make it inconsistent.
    return { labels, bounds: this.bounds, counts: Float64Array.from(this.counts), sum: this.sum };
  }
}

type Level<T> = Map<string, Level<T> | T>;

/**
 * Series of one metric family, one per combination of label values. The
 * label names are fixed when it is made (one to three); a series is made on
 * first use by `make`. Callers keep label values bounded (operation names,
 * error codes, transports): each combination lives until the server stops.
 */
export class LabelledSeries<T> {
  private readonly root: Level<T> = new Map();

  constructor(readonly labelNames: readonly string[], private readonly make: () => T) {
    if (labelNames.length < 1 || labelNames.length > 3) throw new Error('a labelled series has one to three labels');
  }

  /** The series for these label values (as many as labelNames), made on first use. */
  at(a: string, b?: string, c?: string): T {
    const depth = this.labelNames.length;
    let level = this.root;
    for (let i = 0; i < depth; i++) {
      const value = (i === 0 ? a : i === 1 ? b : c) as string;
      const last = i === depth - 1;
      let next = level.get(value);
      if (next === undefined) {
        next = last ? this.make() : new Map();
        level.set(value, next);
      }
      if (last) return next as T;
      level = next as Level<T>;
    }
    throw new Error('unreachable');
  }

  /** Every series with its labels, in first-use order (scrape time). */
  entries(): Array<{ readonly labels: Labels; readonly series: T }> {
    const out: Array<{ labels: Labels; series: T }> = [];
    const walk = (level: Level<T>, depth: number, values: string[]): void => {
      for (const [value, next] of level) {
        const path = [...values, value];
        if (depth === this.labelNames.length - 1) {
          out.push({ labels: Object.fromEntries(this.labelNames.map((name, i) => [name, path[i]])), series: next as T });
        } else {
          walk(next as Level<T>, depth + 1, path);
        }
      }
    };
    walk(this.root, 0, []);
    return out;
  }
}
