/**
 * GET /metrics from a real appliance (SoftHSM2 token, SQLite keychain, the
 * metrics listener on plain HTTP on a free loopback port), scraped with
 * node:http and read with the tests' own parser: the request counters move
 * by exactly the requests made, per operation, result code and transport
 * (native and KMIP, a refused one included); histograms are cumulative and
 * agree with their counts; the scrape-time gauges say what the appliance
 * holds; a file sink's counters match its file. No assertion is about time.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { structureItem } from '../../../protocol/kmip/operations/payload';
import { applianceVersion } from '../../../common/version';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { histograms, ParsedPage, parsePage, scrape, valueOf } from './scrape-metrics';

jest.setTimeout(60_000);

async function page(t: TestAppliance): Promise<ParsedPage> {
  const answer = await scrape(t.server.metricsPort!);
  expect(answer.status).toBe(200);
  expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePage(answer.body);
}

const requests = (p: ParsedPage, operation: string, code: string, transport: string): number => valueOf(p, 'strongroom_requests_total', { operation, code, transport }, true);

describe('the metrics endpoint', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let app: RawConnection;
  let stranger: RawConnection;
  let kmip: KmipTlsClient;

  beforeAll(async () => {
    t = await startTestAppliance({ audit_sinks: 'archive', 'audit_sink.archive': 'transport=file path=audit/trail.jsonl' });
    expect(t.server.metricsPort).toEqual(expect.any(Number));
    officer = await t.connect(t.officer);
    for (const name of ['m/alpha', 'm/beta']) expect((await officer.request('Create', { name })).error).toBeUndefined();
    const grant = await officer.request('PolicyGrant', { group: 'metrics', pattern: 'm/*', permissions: ['get'] });
    expect((await t.approve(grant)).state).toBe('executed');
    app = await t.connect(t.issue('metrics-app', 'app', { groups: ['metrics'] }));
    stranger = await t.connect(t.issue('metrics-stranger', 'app'));
    kmip = await KmipTlsClient.open(t.server.kmipPort!, t.issue('metrics-kmip', 'app'));
  });

  afterAll(async () => {
    kmip?.destroy();
    await t?.stop();
  });

  test('request counters move by exactly the requests made, per operation, result code and transport', async () => {
    const before = await page(t);
    for (let i = 0; i < 3; i++) expect((await app.request('Get', { name: 'm/alpha' })).error).toBeUndefined();
    const refused = await stranger.request('Get', { name: 'm/alpha' });
    expect(refused.error?.code).toBe('PERMISSION_DENIED');
    expect((await officer.request('Create', { name: 'm/gamma' })).error).toBeUndefined();
    // KMIP Query runs the native Query through the same dispatcher.
    expect((await kmip.call('Query', structureItem('RequestPayload', []))).batchItems[0].resultStatus).toBe('Success');
    const after = await page(t);

    expect(requests(after, 'Get', 'OK', 'tls') - requests(before, 'Get', 'OK', 'tls')).toBe(3);
    expect(requests(after, 'Get', 'PERMISSION_DENIED', 'tls') - requests(before, 'Get', 'PERMISSION_DENIED', 'tls')).toBe(1);
    expect(requests(after, 'Create', 'OK', 'tls') - requests(before, 'Create', 'OK', 'tls')).toBe(1);
    expect(requests(after, 'Query', 'OK', 'kmip') - requests(before, 'Query', 'OK', 'kmip')).toBe(1);
    // Nothing else moved: the scrapes themselves are not requests.
    const total = (p: ParsedPage): number => p.samples.filter((s) => s.name === 'strongroom_requests_total').reduce((sum, s) => sum + s.value, 0);
    expect(total(after) - total(before)).toBe(6);
  });

  test('histograms are cumulative, end at +Inf and agree with their counts', async () => {
    const p = await page(t);
    const check = (name: string): void => {
      const all = histograms(p, name);
      expect(all.length).toBeGreaterThan(0);
      for (const series of all) {
        const les = series.buckets.map((b) => b.le);
        expect(les[les.length - 1]).toBe(Infinity);
        expect([...les].sort((a, b) => a - b)).toEqual(les);
        series.buckets.forEach((bucket, i) => i > 0 && expect(bucket.count).toBeGreaterThanOrEqual(series.buckets[i - 1].count));
        expect(series.buckets[series.buckets.length - 1].count).toBe(series.count);
        expect(series.sum).toBeGreaterThanOrEqual(0);
      }
    };
    check('strongroom_request_duration_seconds');
    check('strongroom_audit_commit_events');
    check('strongroom_audit_commit_duration_seconds');
    for (const series of histograms(p, 'strongroom_request_duration_seconds')) {
      expect(series.count).toBe(valueOf(p, 'strongroom_requests_total', series.labels));
    }
    // Every request's outcome event was durable before its answer: the commits hold at least that many events.
    const requestCount = p.samples.filter((s) => s.name === 'strongroom_requests_total').reduce((sum, s) => sum + s.value, 0);
    expect(valueOf(p, 'strongroom_audit_commit_events_sum')).toBeGreaterThanOrEqual(requestCount);
    expect(valueOf(p, 'strongroom_audit_commit_failures_total')).toBe(0);
  });

  test('the gauges say what the appliance holds: sealed, keys by state, connections, certificate expiry', async () => {
    const p = await page(t);
    expect(valueOf(p, 'strongroom_sealed')).toBe(0);
    expect(valueOf(p, 'strongroom_build_info', { version: applianceVersion() })).toBe(1);
    expect(valueOf(p, 'strongroom_keys', { state: 'Active' })).toBe(3);
    expect(valueOf(p, 'strongroom_key_instances', { state: 'Active' })).toBe(3);
    expect(valueOf(p, 'strongroom_audit_queue_events')).toBeGreaterThanOrEqual(0);
    // Three native connections and one KMIP connection are open (others may be closing).
    expect(valueOf(p, 'strongroom_open_connections', { listener: 'native' })).toBeGreaterThanOrEqual(3);
    expect(valueOf(p, 'strongroom_open_connections', { listener: 'kmip' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(p, 'strongroom_open_connections', { listener: 'events' })).toBe(0);
    const notAfter = (validTo: string): number => Math.floor(Date.parse(validTo) / 1000);
    expect(valueOf(p, 'strongroom_certificate_expiry_timestamp_seconds', { certificate: 'server' })).toBe(notAfter(app.socket.getPeerCertificate().valid_to));
    expect(valueOf(p, 'strongroom_certificate_expiry_timestamp_seconds', { certificate: 'ca' })).toBe(notAfter(new X509Certificate(t.officer.caPem).validTo));
    // Every sample belongs to a family with HELP and TYPE.
    for (const sample of p.samples) {
      const family = sample.name.replace(/_(bucket|sum|count)$/, (suffix) => (p.type.get(sample.name.slice(0, -suffix.length)) === 'histogram' ? '' : suffix));
      expect(p.type.has(family)).toBe(true);
      expect(p.help.has(family)).toBe(true);
    }
  });

  test('the counters of a SIEM sink: what it delivered is what its file holds, nothing dropped', async () => {
    // Delivery is asynchronous: scrape until the sink's queue is empty (bounded), then compare with the file.
    let p = await page(t);
    for (let i = 0; i < 200 && valueOf(p, 'strongroom_audit_sink_queued_events', { sink: 'archive' }) > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      p = await page(t);
    }
    expect(valueOf(p, 'strongroom_audit_sink_queued_events', { sink: 'archive' })).toBe(0);
    const lines = readFileSync(join(t.dataDir, 'audit', 'trail.jsonl'), 'utf8').split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(0);
    expect(valueOf(p, 'strongroom_audit_sink_delivered_total', { sink: 'archive' })).toBe(lines.length);
    expect(valueOf(p, 'strongroom_audit_sink_dropped_total', { sink: 'archive' })).toBe(0);
    expect(valueOf(p, 'strongroom_audit_sink_connected', { sink: 'archive' })).toBe(1);
  });

  test('answers /metrics only, GET and HEAD only', async () => {
    const port = t.server.metricsPort!;
    expect((await scrape(port, { path: '/other' })).status).toBe(404);
    const post = await scrape(port, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await scrape(port, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });
});
