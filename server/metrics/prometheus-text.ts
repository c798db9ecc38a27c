/**
 * The Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): each
 * family as `# HELP`, `# TYPE`, then its samples; a histogram as cumulative
 * `_bucket{le="…"}` lines ending with `le="+Inf"`, then `_sum` and `_count`.
 * Written here rather than taken from a client library: the format is a few
 * escaping rules, and the appliance takes no dependency it does not need.
 * Names are checked, so a typo in a metric's name fails its first scrape in a
 * test instead of producing a page Prometheus rejects.
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export interface HistogramSample {
  readonly labels: Labels;
  /** Upper bounds, ascending, without +Inf. */
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative: counts[i] for (bounds[i-1], bounds[i]]; the last one for above every bound. */
  readonly counts: ArrayLike<number>;
  readonly sum: number;
}

export type MetricFamily =
  | { readonly name: string; readonly help: string; readonly type: 'counter' | 'gauge'; readonly samples: readonly Sample[] }
  | { readonly name: string; readonly help: string; readonly type: 'histogram'; readonly samples: readonly HistogramSample[] };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** HELP text: backslash and line feed escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as Go's ParseFloat reads it: +Inf, -Inf and NaN spelled out. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels, extra?: readonly [string, string]): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`invalid Prometheus label name "${name}"`);
    parts.push(`${name}="${escapeLabelValue(value)}"`);
  }
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function encodeHistogram(name: string, sample: HistogramSample, lines: string[]): void {
  if (sample.counts.length !== sample.bounds.length + 1) throw new Error(`histogram ${name}: ${sample.bounds.length} bounds need ${sample.bounds.length + 1} bucket counts`);
  if ('le' in sample.labels) throw new Error(`histogram ${name}: "le" is reserved for its buckets`);
  let cumulative = 0;
  sample.bounds.forEach((bound, i) => {
    cumulative += sample.counts[i];
    lines.push(`${name}_bucket${formatLabels(sample.labels, ['le', formatValue(bound)])} ${cumulative}`);
  });
  cumulative += sample.counts[sample.bounds.length];
  lines.push(`${name}_bucket${formatLabels(sample.labels, ['le', '+Inf'])} ${cumulative}`);
  lines.push(`${name}_sum${formatLabels(sample.labels)} ${formatValue(sample.sum)}`);
  lines.push(`${name}_count${formatLabels(sample.labels)} ${cumulative}`);
}

/** The page for `families`, in their order; a family without samples still has its HELP and TYPE (the metric exists, nothing observed yet). */
export function encodeText(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new Error(`invalid Prometheus metric name "${family.name}"`);
    if (seen.has(family.name)) throw new Error(`metric ${family.name} appears twice`);
    seen.add(family.name);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      for (const sample of family.samples) encodeHistogram(family.name, sample, lines);
    } else {
      for (const sample of family.samples) lines.push(`${family.name}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
