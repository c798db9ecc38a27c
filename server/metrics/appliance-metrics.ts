/**
 * What the appliance tells Prometheus (docs/metrics.md lists each metric).
 * Two kinds of numbers:
 *   - counted as things happen, on paths that must stay cheap: each
 *     dispatcher outcome (one series lookup, one histogram bucket), each
 *     audit group commit, each rate-limit refusal;
 *   - read at scrape time from their owners: sealed state, key and instance
 *     counts by state (one GROUP BY each), connections per listener, SIEM
 *     sink counters, the audit queue, certificate expiry.
 * Durations use the injected monotonic clock, never the wall clock.
 */
import { X509Certificate } from 'node:crypto';
import { EventAppender } from '../../domain/audit/audit-writer';
import { Outcome } from '../../operations/dispatcher';
import { SinkStats } from '../../sinks/siem-transport';
import { COMMIT_SIZE_BUCKETS, DURATION_BUCKETS_SECONDS, Histogram, LabelledSeries } from './metrics-registry';
import { encodeText, MetricFamily, Sample } from './prometheus-text';

/** The result code label of a request that succeeded (the others are error codes, common/error-codes.ts). */
export const OK_CODE = 'OK';

/** Read at scrape time; each must be cheap and bounded (no scan per request). */
export interface MetricsSources {
  readonly sealed: () => boolean;
  /** Keys by their current instance's state, and instances by state. */
  readonly stateCounts: () => { readonly keys: Readonly<Record<string, number>>; readonly instances: Readonly<Record<string, number>> };
  /** Audit events recorded and waiting for the next group commit. */
  readonly auditQueued: () => number;
  readonly sinks: () => readonly SinkStats[];
}

export interface CertificateExpiry {
  /** `ca` or `server`. */
  readonly certificate: string;
  readonly notAfterSeconds: number;
}

/** A certificate's notAfter as Unix seconds. */
export function certificateExpiry(certificate: string, pem: string): CertificateExpiry {
  return { certificate, notAfterSeconds: Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000) };
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export class ApplianceMetrics {
  /** One histogram per (operation, code, transport): its count is the request count too. */
  private readonly requests = new LabelledSeries<Histogram>(['operation', 'code', 'transport'], () => new Histogram(DURATION_BUCKETS_SECONDS));
  private readonly commitEvents = new Histogram(COMMIT_SIZE_BUCKETS);
  private readonly commitSeconds = new Histogram(DURATION_BUCKETS_SECONDS);
  private commitFailures = 0;
  private rateLimitRefusals = 0;
  private sources: MetricsSources | null = null;
  private readonly listeners = new Map<string, () => number>();
  private certificates: readonly CertificateExpiry[] = [];

  /** `monotonicMs`: performance.now in the server; the dispatcher stamps each request's start with the same clock. */
  constructor(readonly monotonicMs: () => number, private readonly version: string) {}

  /** One dispatcher outcome (a Batch item counts as one): allocates nothing once its series exists. */
  requestDone(outcome: Pick<Outcome, 'op' | 'error' | 'transport' | 'startedMs'>): void {
    const code = outcome.error === null ? OK_CODE : outcome.error.code;
    this.requests.at(outcome.op, code, outcome.transport).observe((this.monotonicMs() - outcome.startedMs) / 1000);
  }

  /** A request refused by the per-client rate limit (before it was decoded, so it has no outcome). */
  rateLimited(): void {
    this.rateLimitRefusals++;
  }

  /** Group commits so far, the events they carried and the seconds they took (the socket benchmark's per-cell audit figures). */
  auditCommitTotals(): { commits: number; events: number; seconds: number } {
    return { commits: this.commitSeconds.count, events: this.commitEvents.sum, seconds: this.commitSeconds.sum };
  }

  /** The audit writer's appender, timed and counted per group commit. */
  meterAppender(append: EventAppender): EventAppender {
    return (events) => {
      const started = this.monotonicMs();
      const done = (): void => {
        this.commitEvents.observe(events.length);
        this.commitSeconds.observe((this.monotonicMs() - started) / 1000);
      };
      const failed = (err: unknown): never => {
        this.commitFailures++;
        throw err;
      };
      let result;
      try {
        result = append(events);
      } catch (err) {
        return failed(err);
      }
      if (!isPromise(result)) {
        done();
        return result;
      }
      return result.then((records) => {
        done();
        return records;
      }, failed);
    };
  }

  watch(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** Open connections of a listener (`native`, `kmip`, `events`), read at scrape time; returns the unwatch. */
  watchListener(listener: string, connections: () => number): () => void {
    this.listeners.set(listener, connections);
    return () => void this.listeners.delete(listener);
  }

  setCertificates(certificates: readonly CertificateExpiry[]): void {
    this.certificates = certificates;
  }

  render(): string {
    return encodeText(this.families());
  }

  families(): MetricFamily[] {
    const requests = this.requests.entries();
    const families: MetricFamily[] = [
      { name: 'strongroom_build_info', help: 'Always 1; the appliance version is its label.', type: 'gauge', samples: [{ labels: { version: this.version }, value: 1 }] },
      {
        name: 'strongroom_requests_total',
        help: 'Requests run by the dispatcher (each Batch item counts), by operation, result code (OK or the error code) and transport (tls: native protocol, kmip, local).',
        type: 'counter',
        samples: requests.map(({ labels, series }) => ({ labels, value: series.count })),
      },
      {
        name: 'strongroom_request_duration_seconds',
        help: 'Time from the dispatcher taking a request to its outcome (identity, access, dual control, the operation; for a state change also its durable intent). The wait for the outcome event to be durable is strongroom_audit_commit_duration_seconds.',
        type: 'histogram',
        samples: requests.map(({ labels, series }) => series.sample(labels)),
      },
      { name: 'strongroom_audit_commit_events', help: 'Audit events per group commit (one transaction, one fsync).', type: 'histogram', samples: [this.commitEvents.sample({})] },
      { name: 'strongroom_audit_commit_duration_seconds', help: 'Time one audit group commit took, from the append starting to its transaction committed.', type: 'histogram', samples: [this.commitSeconds.sample({})] },
      { name: 'strongroom_audit_commit_failures_total', help: 'Audit group commits that failed (every request waiting on one was refused AUDIT_UNAVAILABLE).', type: 'counter', samples: [{ labels: {}, value: this.commitFailures }] },
      { name: 'strongroom_rate_limited_total', help: 'Requests refused RATE_LIMITED by the per-client request rate (rate_limit_per_second), all wires.', type: 'counter', samples: [{ labels: {}, value: this.rateLimitRefusals }] },
      {
        name: 'strongroom_open_connections',
        help: 'Open authenticated connections per listener (native, kmip; events: event stream subscribers).',
        type: 'gauge',
        samples: [...this.listeners].map(([listener, count]) => ({ labels: { listener }, value: count() })),
      },
      {
        name: 'strongroom_certificate_expiry_timestamp_seconds',
        help: 'When the appliance CA and the server certificate the listeners present expire (notAfter, Unix seconds).',
        type: 'gauge',
        samples: this.certificates.map(({ certificate, notAfterSeconds }) => ({ labels: { certificate }, value: notAfterSeconds })),
      },
    ];
    if (this.sources !== null) families.push(...scrapedFamilies(this.sources));
    return families;
  }
}

function byState(counts: Readonly<Record<string, number>>): Sample[] {
  return Object.keys(counts)
    .sort()
    .map((state) => ({ labels: { state }, value: counts[state] }));
}

/** The gauges read from their owners at scrape time. */
function scrapedFamilies(sources: MetricsSources): MetricFamily[] {
  const counts = sources.stateCounts();
  const sinks = sources.sinks();
  const perSink = (value: (sink: SinkStats) => number): Sample[] => sinks.map((sink) => ({ labels: { sink: sink.name }, value: value(sink) }));
  return [
    { name: 'strongroom_sealed', help: '1 while the keychain is sealed (no key served until custodians unseal it), else 0.', type: 'gauge', samples: [{ labels: {}, value: sources.sealed() ? 1 : 0 }] },
    { name: 'strongroom_keys', help: "Keys by their current instance's state (PreActive, Active, Deactivated, Compromised, Destroyed…).", type: 'gauge', samples: byState(counts.keys) },
    { name: 'strongroom_key_instances', help: 'Key instances (versions) by state.', type: 'gauge', samples: byState(counts.instances) },
    { name: 'strongroom_audit_queue_events', help: 'Audit events recorded and waiting for the next group commit (the commit under way not included).', type: 'gauge', samples: [{ labels: {}, value: sources.auditQueued() }] },
    { name: 'strongroom_audit_sink_delivered_total', help: 'Audit events a SIEM sink delivered.', type: 'counter', samples: perSink((s) => s.delivered) },
    { name: 'strongroom_audit_sink_dropped_total', help: "Audit events a SIEM sink skipped beyond its spool bound (the local trail keeps them; each skip is a sink-dropped audit event).", type: 'counter', samples: perSink((s) => s.dropped) },
    { name: 'strongroom_audit_sink_queued_events', help: 'Audit events in a SIEM sink\'s in-memory queue, waiting for delivery (the rest of its backlog waits in the trail).', type: 'gauge', samples: perSink((s) => s.queued) },
    { name: 'strongroom_audit_sink_backlog_events', help: "Audit events of the trail a SIEM sink has not delivered yet (its spool: in its queue or still on disk).", type: 'gauge', samples: perSink((s) => s.backlog) },
    { name: 'strongroom_audit_sink_spool_events', help: 'The most audit events a SIEM sink may fall behind beyond its queue before the oldest are skipped.', type: 'gauge', samples: perSink((s) => s.spool) },
    { name: 'strongroom_audit_sink_retries_total', help: 'Delivery retries of a SIEM sink (a failed send, a reconnect).', type: 'counter', samples: perSink((s) => s.retries) },
    { name: 'strongroom_audit_sink_in_doubt_total', help: 'RELP: audit events sent in a session that broke before the SIEM acknowledged them, and so sent again (the SIEM may hold them twice; 0 for other transports).', type: 'counter', samples: perSink((s) => s.inDoubt) },
    { name: 'strongroom_audit_sink_unacknowledged_events', help: 'RELP: audit events sent and waiting for the SIEM\'s acknowledgement (0 for other transports).', type: 'gauge', samples: perSink((s) => s.unacknowledged) },
    { name: 'strongroom_audit_sink_cursor_resets_total', help: 'Starts of a SIEM sink without a cursor it could trust (missing or rejected): each resent from the oldest event its spool allows, with a sink-cursor-missing or sink-cursor-rejected audit event.', type: 'counter', samples: perSink((s) => s.cursorResets) },
    { name: 'strongroom_audit_sink_connected', help: '1 while a SIEM sink has its connection (file and UDP sinks: 1 while open).', type: 'gauge', samples: perSink((s) => (s.connected ? 1 : 0)) },
  ];
}
