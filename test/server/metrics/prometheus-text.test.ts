/**
 * The text exposition encoder and the histogram and labelled series it
 * is fed from: HELP and TYPE lines, escaping of HELP text and label values,
 * histograms as cumulative buckets ending at le="+Inf" with _sum and _count,
 * and names Prometheus would reject refused. The page is read back with the
 * tests' own parser (scrape-metrics.ts).
 */
import { encodeText, escapeLabelValue, formatValue, MetricFamily } from '../../../server/metrics/prometheus-text';
import { Histogram, LabelledSeries } from '../../../server/metrics/metrics-registry';
import { histograms, parsePage, valueOf } from './scrape-metrics';

describe('the Prometheus text encoder', () => {
  test('writes HELP, TYPE and samples, with label values and HELP text escaped', () => {
    const families: MetricFamily[] = [
      { name: 'demo_total', help: 'Lines\nand a back\\slash', type: 'counter', samples: [{ labels: { path: 'C:\\dir "quoted"\nnext' }, value: 3 }] },
      { name: 'demo_gauge', help: 'No labels.', type: 'gauge', samples: [{ labels: {}, value: 1.5 }] },
    ];
    const text = encodeText(families);
    expect(text).toBe(
      [
        '# HELP demo_total Lines\\nand a back\\\\slash',
        '# TYPE demo_total counter',
        'demo_total{path="C:\\\\dir \\"quoted\\"\\nnext"} 3',
        '# HELP demo_gauge No labels.',
        '# TYPE demo_gauge gauge',
        'demo_gauge 1.5',
        '',
      ].join('\n'),
    );
    const page = parsePage(text);
    expect(page.help.get('demo_total')).toBe('Lines\nand a back\\slash');
    expect(page.type.get('demo_gauge')).toBe('gauge');
    expect(valueOf(page, 'demo_total', { path: 'C:\\dir "quoted"\nnext' })).toBe(3);
  });

  test('spells out infinities and NaN as Go reads them', () => {
    expect([Infinity, -Infinity, NaN, 0.25, 12].map(formatValue)).toEqual(['+Inf', '-Inf', 'NaN', '0.25', '12']);
    expect(escapeLabelValue('plain')).toBe('plain');
  });

  test('a histogram is cumulative buckets ending at le="+Inf", then _sum and _count', () => {
    const h = new Histogram([0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 3, 3, 50]) h.observe(v);
    expect(h.count).toBe(6);
    const text = encodeText([{ name: 'demo_seconds', help: 'Demo.', type: 'histogram', samples: [h.sample({ op: 'Get' })] }]);
    expect(text).toBe(
      [
        '# HELP demo_seconds Demo.',
        '# TYPE demo_seconds histogram',
        'demo_seconds_bucket{op="Get",le="0.1"} 2',
        'demo_seconds_bucket{op="Get",le="1"} 3',
        'demo_seconds_bucket{op="Get",le="10"} 5',
        'demo_seconds_bucket{op="Get",le="+Inf"} 6',
        `demo_seconds_sum{op="Get"} ${0.05 + 0.1 + 0.5 + 3 + 3 + 50}`,
        'demo_seconds_count{op="Get"} 6',
        '',
      ].join('\n'),
    );
    const [series] = histograms(parsePage(text), 'demo_seconds');
    expect(series.labels).toEqual({ op: 'Get' });
    expect(series.buckets.map((b) => b.le)).toEqual([0.1, 1, 10, Infinity]);
  });

  test('a family with nothing observed yet still has its HELP and TYPE', () => {
    expect(encodeText([{ name: 'demo_total', help: 'Nothing yet.', type: 'counter', samples: [] }])).toBe('# HELP demo_total Nothing yet.\n# TYPE demo_total counter\n');
  });

  test('refuses names Prometheus would reject, a duplicate family and a histogram labelled le', () => {
    expect(() => encodeText([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }])).toThrow(/metric name/);
    expect(() => encodeText([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'bad-label': 'x' }, value: 1 }] }])).toThrow(/label name/);
    expect(() => encodeText([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { __reserved: 'x' }, value: 1 }] }])).toThrow(/label name/);
    expect(() => encodeText([{ name: 'twice', help: '', type: 'gauge', samples: [] }, { name: 'twice', help: '', type: 'gauge', samples: [] }])).toThrow(/twice/);
    expect(() => encodeText([{ name: 'h', help: '', type: 'histogram', samples: [new Histogram([1]).sample({ le: '1' })] }])).toThrow(/reserved/);
    expect(() => new Histogram([1, 1])).toThrow(/ascend/);
  });
});

describe('labelled series', () => {
  test('the same label values find the same series; entries list each with its labels', () => {
    const series = new LabelledSeries<{ value: number }>(['operation', 'code', 'transport'], () => ({ value: 0 }));
    series.at('Get', 'OK', 'tls').value++;
    series.at('Get', 'OK', 'tls').value++;
    series.at('Get', 'PERMISSION_DENIED', 'kmip').value++;
    expect(series.at('Get', 'OK', 'tls')).toBe(series.at('Get', 'OK', 'tls'));
    expect(series.entries().map(({ labels, series: cell }) => [labels, cell.value])).toEqual([
      [{ operation: 'Get', code: 'OK', transport: 'tls' }, 2],
      [{ operation: 'Get', code: 'PERMISSION_DENIED', transport: 'kmip' }, 1],
    ]);
  });
});
