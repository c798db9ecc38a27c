/**
 * The appliance's network entrances, started last and closed first: the
 * native protocol's mutual-TLS key server, the KMIP listeners (the same
 * listener with a KMIP wire: TTLV, and HTTPS; kmip-listeners.ts), the live event stream and the metrics
 * listener (metrics-listener.ts). All but the metrics (unless metrics_tls
 * is on) resolve a certificate to its client record and record refused
 * connections (throttled per source, the rest counted per window). The
 * first three register with ClientConnections, so a revocation closes
 * their streams; the metrics count their connections.
 */
import { Clock } from '../../common/clock';
import { Timers } from '../../common/timers';
import { numberSetting, setting } from '../../common/config';
import { Logger } from '../../common/logger';
import { authFailureEvent, suppressedAuthFailuresEvent } from '../../domain/audit/audit-events';
import { ClientIdentity } from '../../domain/policy/identity';
import { Dispatcher } from '../../operations/dispatcher';
import { Services } from '../../operations/context';
import { EventServer } from '../events/event-server';
import { eventServerFromConfig } from '../events/event-server-config';
import { AuthFailureThrottle, SuppressedRefusals, WINDOW_MS } from '../tls/auth-failure-throttle';
import { KeyServer } from '../tls/key-server';
import { PeerRefusal } from '../tls/peer-identity';
import { loadTlsIdentity } from '../tls/tls-identity';
import { CredentialHolder, ServerCertificates } from './server-certificates';
import { ApplianceMetrics, certificateExpiry } from '../metrics/appliance-metrics';
import { MeteredRateLimiter } from '../metrics/metered-rate-limiter';
import { MetricsServer } from '../metrics/metrics-server';
import { metricsPortOf, startMetricsListener } from './metrics-listener';
import { AuditPipeline } from './audit-pipeline';
import { ClientConnections } from './client-connections';
import { KmipListeners, kmipPortsOf, startKmipListeners } from './kmip-listeners';
import { Appliance } from './open-appliance';

export interface ListenerOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly audit: AuditPipeline;
  readonly services: Services;
  readonly dispatcher: Dispatcher;
  readonly connections: ClientConnections;
  /** The key server's port (0: a free one); default listen_port. */
  readonly port?: number;
  /** The event stream's port; default events_port, or a free one when `port` is 0. */
  readonly eventsPort?: number;
  /** The KMIP listener's port; default kmip_port, or a free one when `port` is 0; null: none. */
  readonly kmipPort?: number | null;
  /** KMIP over HTTPS's port; default kmip_https_port, or a free one when `port` is 0; null: none. */
  readonly kmipHttpsPort?: number | null;
  /** The metrics listener's port; default metrics_port, or a free one when `port` is 0; null: none. */
  readonly metricsPort?: number | null;
  readonly metrics: ApplianceMetrics;
  /** Told of each listener, so a renewed server certificate reaches them all (server-certificates.ts). */
  readonly certificates?: ServerCertificates;
}

export interface Listeners {
  readonly keyServer: KeyServer;
  readonly eventServer: EventServer;
  readonly port: number;
  readonly eventsPort: number;
  /** The KMIP listener, or null when kmip_port is off. */
  readonly kmipServer: KeyServer | null;
  readonly kmipPort: number | null;
  /** The KMIP over HTTPS listener, or null when kmip_https_port is off. */
  readonly kmipHttpsServer: KeyServer | null;
  readonly kmipHttpsPort: number | null;
  /** The metrics listener, or null when metrics_port is off. */
  readonly metricsServer: MetricsServer | null;
  readonly metricsPort: number | null;
  /** No new connections; in-flight requests finish (their audit events durable), then sockets close. */
  close(): Promise<void>;
}

export async function startListeners(appliance: Appliance, options: ListenerOptions): Promise<Listeners> {
  const { clock, timers, log, audit, services, connections, metrics } = options;
  const { keychain, config } = appliance;
  const stamper = { clock, newId: () => appliance.ids.newId() };
  const resolveIdentity = (fingerprint256: string): ClientIdentity | null => {
    let client;
    try {
      client = keychain.directory.getClientByFingerprint(fingerprint256);
    } catch (err) {
      // A client row that fails authentication (written into the file) names nobody: the peer is refused and audited.
      log.error('a client record failed authentication; the peer is refused', { error: String(err) });
      return null;
    }
    if (!client || client.revokedAt !== null) return null;
    return { name: client.name, role: client.role, groups: client.groups, fingerprint256, subject: `CN=${client.name}` };
  };
  const refusals = new AuthFailureThrottle(clock);
  const recordSuppressed = (suppressed: SuppressedRefusals[]): void => {
    for (const entry of suppressed) audit.recordQuietly(suppressedAuthFailuresEvent(stamper, entry));
  };
  const onAuthFailure = (info: PeerRefusal): void => {
    if (refusals.admit(info.source, recordSuppressed)) audit.recordQuietly(authFailureEvent(stamper, info));
  };
  const refusalWindow = timers.every(WINDOW_MS, () => recordSuppressed(refusals.closeWindow()));

  const credentials = await loadTlsIdentity(appliance, clock);
  options.certificates?.serving(credentials.certificatePem);
  // The event stream's and KMIP listener's copies of the key, taken before the key server zeroes its own.
  const eventsKey = Buffer.from(credentials.privateKeyPem);
  const kmipPorts = kmipPortsOf(config, options);
  const kmipKeys = { ttlv: kmipPorts.ttlv === null ? null : Buffer.from(credentials.privateKeyPem), https: kmipPorts.https === null ? null : Buffer.from(credentials.privateKeyPem) };
  const metricsPort = metricsPortOf(config, options.metricsPort, options.port);
  // Plain HTTP metrics need no key.
  const metricsKey = metricsPort === null || setting(config, 'metrics_tls') !== 'on' ? null : Buffer.from(credentials.privateKeyPem);
  metrics.setCertificates([certificateExpiry('ca', credentials.caPem), certificateExpiry('server', credentials.certificatePem)]);
  // One request rate per client, whichever wire it uses.
  const rateLimiter = new MeteredRateLimiter(clock, services.limits.rateLimitPerSecond, services.limits.rateLimitPerSecond * 2, () => metrics.rateLimited());
  const onInternalError = (err: unknown): void => void log.error('internal error while serving a request', { error: String(err), stack: (err as Error)?.stack });
  const common = {
    host: setting(config, 'listen_address'),
    certificatePem: credentials.certificatePem,
    caPem: credentials.caPem,
    handshakeTimeoutMs: numberSetting(config, 'handshake_timeout_ms'),
    maxConnections: numberSetting(config, 'max_connections'),
    maxConnectionsPerClient: numberSetting(config, 'max_connections_per_client'),
    clock,
    timers,
    limits: services.limits,
    idleTimeoutMs: numberSetting(config, 'idle_timeout_ms'),
    frameTimeoutMs: numberSetting(config, 'frame_timeout_ms'),
    dispatcher: options.dispatcher,
    rateLimiter,
    resolveIdentity,
    onAuthFailure,
    onInternalError,
  };
  const keyServer = new KeyServer({ ...common, port: options.port ?? numberSetting(config, 'listen_port'), privateKeyPem: credentials.privateKeyPem });
  let port: number;
  try {
    port = await keyServer.listen();
  } catch (err) {
    eventsKey.fill(0);
    kmipKeys.ttlv?.fill(0);
    kmipKeys.https?.fill(0);
    metricsKey?.fill(0);
    refusalWindow.cancel();
    throw err;
  }
  const unregisterKeys = connections.register(keyServer);
  let kmip: KmipListeners;
  try {
    kmip = await startKmipListeners({ ports: kmipPorts, keys: kmipKeys, common, connections, metrics, newId: stamper.newId });
  } catch (err) {
    eventsKey.fill(0);
    metricsKey?.fill(0);
    unregisterKeys();
    refusalWindow.cancel();
    await keyServer.close();
    throw err;
  }
  // The event stream starts after the key server and closes before it.
  const eventServer = eventServerFromConfig(
    config,
    {
      certificatePem: credentials.certificatePem,
      privateKeyPem: eventsKey,
      caPem: credentials.caPem,
      clock,
      timers,
      newId: stamper.newId,
      bus: audit.events,
      resolveIdentity,
      onAuthFailure,
      recordAudit: (event) => audit.record(event),
      onInternalError: (err) => log.error('event stream audit event not written', { error: String(err) }),
    },
    // A key server on a free port (tests, benchmarks, `serve --port 0`) gets its event stream on a free port too.
    options.eventsPort ?? (options.port === 0 ? 0 : undefined),
  );
  let eventsPort: number;
  try {
    eventsPort = await eventServer.listen();
  } catch (err) {
    metricsKey?.fill(0);
    unregisterKeys();
    refusalWindow.cancel();
    await kmip.close();
    await keyServer.close();
    throw err;
  }
  const unregisterEvents = connections.register(eventServer);
  // Scraped last, closed first: it only reads what the others count.
  let metricsListening: { server: MetricsServer; port: number } | null = null;
  if (metricsPort !== null) {
    try {
      metricsListening = await startMetricsListener({
        config,
        port: metricsPort,
        metrics,
        timers,
        log,
        credentials: { ...credentials, privateKeyPem: metricsKey ?? Buffer.alloc(0) },
        handshakeTimeoutMs: common.handshakeTimeoutMs,
        resolveIdentity,
        onAuthFailure,
      });
    } catch (err) {
      unregisterEvents();
      unregisterKeys();
      refusalWindow.cancel();
      await eventServer.close();
      await kmip.close();
      await keyServer.close();
      throw err;
    }
  }
  // A renewed server certificate reaches every listener, and the expiry gauges.
  const gauges: CredentialHolder = { renewCredentials: (identity) => metrics.setCertificates([certificateExpiry('ca', identity.caPem), certificateExpiry('server', identity.certificatePem)]) };
  const holders = [keyServer, kmip.ttlv, kmip.https, eventServer, metricsListening?.server ?? null, gauges].filter((h): h is CredentialHolder => h !== null);
  const detach = holders.map((holder) => options.certificates?.attach(holder) ?? (() => undefined));
  const unwatch = [
    metrics.watchListener('native', () => keyServer.connectionCount),
    metrics.watchListener('events', () => eventServer.stats.subscribers),
    ...detach.map((stop) => () => void stop()),
  ];
  return {
    keyServer,
    eventServer,
    port,
    eventsPort,
    kmipServer: kmip.ttlv,
    kmipPort: kmip.ttlvPort,
    kmipHttpsServer: kmip.https,
    kmipHttpsPort: kmip.httpsPort,
    metricsServer: metricsListening?.server ?? null,
    metricsPort: metricsListening?.port ?? null,
    async close() {
      await metricsListening?.server.close();
      for (const stop of unwatch) stop();
      await eventServer.close();
      unregisterEvents();
      await kmip.close();
      await keyServer.close();
      unregisterKeys();
      refusalWindow.cancel();
      recordSuppressed(refusals.closeWindow());
    },
  };
}
