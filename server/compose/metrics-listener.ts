/**
 * Starts the metrics listener of `serve` (server/metrics/metrics-server.ts)
 * from the settings: metrics_address, metrics_port (`off`: none) and
 * metrics_tls (on: the server's TLS identity, client certificates checked
 * like the other listeners').
 */
import { setting } from '../../common/config';
import { Logger } from '../../common/logger';
import { Timers } from '../../common/timers';
import { ClientIdentity } from '../../domain/policy/identity';
import { ApplianceConfig } from '../../common/config';
import { ApplianceMetrics } from '../metrics/appliance-metrics';
import { MetricsServer } from '../metrics/metrics-server';
import { PeerRefusal } from '../tls/peer-identity';
import { TlsIdentity } from '../tls/tls-identity';

/** The metrics port: `explicit` when given (null: none); else metrics_port, a free one when the key server's is 0, or null when off. */
export function metricsPortOf(config: ApplianceConfig, explicit: number | null | undefined, keyServerPort: number | undefined): number | null {
  if (explicit !== undefined) return explicit;
  if (config.values.metrics_port === 'off') return null;
  return keyServerPort === 0 ? 0 : Number(setting(config, 'metrics_port'));
}

export interface MetricsListenerOptions {
  readonly config: ApplianceConfig;
  readonly port: number;
  readonly metrics: ApplianceMetrics;
  readonly timers: Timers;
  readonly log: Logger;
  /** The server's identity, with a private key copy this listener zeroes (none needed when metrics_tls is off). */
  readonly credentials: TlsIdentity;
  readonly handshakeTimeoutMs: number;
  readonly resolveIdentity: (fingerprint256: string) => ClientIdentity | null;
  readonly onAuthFailure: (info: PeerRefusal) => void;
}

export async function startMetricsListener(options: MetricsListenerOptions): Promise<{ server: MetricsServer; port: number }> {
  const { config, credentials } = options;
  const tls =
    setting(config, 'metrics_tls') === 'on'
      ? {
          certificatePem: credentials.certificatePem,
          privateKeyPem: credentials.privateKeyPem,
          caPem: credentials.caPem,
          handshakeTimeoutMs: options.handshakeTimeoutMs,
          resolveIdentity: options.resolveIdentity,
          onAuthFailure: options.onAuthFailure,
        }
      : null;
  const server = new MetricsServer({
    host: setting(config, 'metrics_address'),
    port: options.port,
    timers: options.timers,
    render: () => options.metrics.render(),
    tls,
    onInternalError: (err) => options.log.error('metrics could not be read for a scrape', { error: String(err) }),
  });
  return { server, port: await server.listen() };
}
