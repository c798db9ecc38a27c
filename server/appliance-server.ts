/**
 * Assembles a serving appliance from an opened Appliance: unseals the
 * keychain (the HSM's only work), builds the services and the dispatch table,
 * loads the TLS credentials from the sealed PKI, and starts the listener.
 * A change made by another process (the CLI revoking a client) is picked up
 * by watching the store's change stamp.
 */
import { randomUUID } from 'node:crypto';
import { Clock, isoNow, systemClock } from '../common/clock';
import { durationMs, numberSetting, retentionMs, setting } from '../common/config';
import { applianceVersion } from '../common/version';
import { CryptoService } from '../domain/crypto-service';
import { LifecycleService } from '../domain/lifecycle-service';
import { Dispatcher } from './dispatcher';
import { KeyServer } from './key-server';
import { Logger, silentLogger } from './logger';
import { Appliance } from './open-appliance';
import { Services } from './operations/context';
import { allOperations } from './operations/table';
import { PkiService } from './pki-service';
import { ClientIdentity } from './policy/identity';
import { PolicyIndex } from './policy/policy-index';
import { MAX_BATCH_ITEMS } from './protocol/op-schemas';
import { RateLimiter } from './rate-limiter';
import { RolloverService } from './rollover-service';
import { AuditWriter } from '../domain/audit/audit-writer';
import { AuditEvent } from '../domain/audit/audit-event';
import { adminEvent, authFailureEvent, operationEvent } from './audit-events';
import { EventBus } from '../domain/events/event-bus';
import { auditLiveEvents } from './audit-live';
import { EventServer } from './events/event-server';
import { eventServerFromConfig } from './events/event-server-config';

/**
 * How often the server looks for changes made by other processes (a CLI in
 * local mode revoking a client, granting, rolling a key over). The server's
 * caches see its own writes at once; other processes' within this interval.
 * Checking the database's change counter per request instead cost a quarter
 * of the server's time in the socket benchmark.
 */
const WATCH_INTERVAL_MS = 250;

export interface RunningServer {
  readonly port: number;
  readonly keyServer: KeyServer;
  /** The live event stream's port (events_port; 0 in tests picks a free one). */
  readonly eventsPort: number;
  readonly eventServer: EventServer;
  readonly services: Services;
  close(): Promise<void>;
}

export async function startApplianceServer(appliance: Appliance, options: { clock?: Clock; log?: Logger; port?: number; eventsPort?: number } = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const config = appliance.config;
  await appliance.unseal();
  const { keychain, store } = appliance;
  const pki = new PkiService(keychain, store.directory, clock);
  let external = store.changeStamp();
  const cheapStamp = (): string => `${external}|${store.ownCommitCount()}`;
  keychain.useChangeStamp(cheapStamp);
  const policy = new PolicyIndex(store.directory, cheapStamp);
  let keyServer: KeyServer | null = null;
  let eventServer: EventServer | null = null;
  const events = new EventBus();

  const services: Services = {
    keychain,
    crypto: new CryptoService(keychain, clock),
    lifecycle: new LifecycleService(keychain, clock),
    pki,
    directory: store.directory,
    policy,
    clock,
    version: applianceVersion(),
    limits: {
      maxFrameBytes: numberSetting(config, 'max_frame_bytes'),
      maxJsonDepth: 16,
      maxJsonElements: 10_000,
      maxBatchItems: MAX_BATCH_ITEMS,
      maxInFlight: 64,
      rateLimitPerSecond: numberSetting(config, 'rate_limit_per_second'),
    },
    disconnectClient: (name) => {
      keyServer?.disconnectClient(name);
      eventServer?.disconnectClient(name);
    },
    newId: () => randomUUID(),
    destructionWaitMs: durationMs(config, 'destruction_wait'),
    events,
    recordAudit: (event) => audit.record(event),
  };
  const operations = allOperations(() => dispatcher.operationNames());
  // Every operation, allowed or refused, is recorded; its response waits until the event is durable.
  const audit = new AuditWriter(store.audit, undefined, (records) => {
    // Parsing every event costs the hot path: only when someone listens.
    if (events.listenerCount > 0) for (const live of auditLiveEvents(records)) events.publish(live);
  });
  const recordQuietly = (event: AuditEvent): void => {
    audit.record(event).catch((err: unknown) => log.error('audit event not written', { type: event.type, error: String(err) }));
  };
  const dispatcher: Dispatcher = new Dispatcher(services, operations, (outcome) => audit.record(operationEvent(clock, outcome)));

  const resolveIdentity = (fingerprint256: string): ClientIdentity | null => {
    const client = store.directory.getClientByFingerprint(fingerprint256);
    if (!client || client.revokedAt !== null) return null;
    return { name: client.name, role: client.role, groups: client.groups, fingerprint256, subject: `CN=${client.name}` };
  };

  const credentials = pki.serverCredentials();
  // The event stream's copy of the key, taken before the key server zeroes its own.
  const eventsKey = Buffer.from(credentials.privateKeyPem);
  keyServer = new KeyServer({
    host: setting(config, 'listen_address'),
    port: options.port ?? numberSetting(config, 'listen_port'),
    certificatePem: credentials.certificatePem,
    privateKeyPem: Buffer.from(credentials.privateKeyPem),
    caPem: credentials.caPem,
    handshakeTimeoutMs: numberSetting(config, 'handshake_timeout_ms'),
    maxConnections: numberSetting(config, 'max_connections'),
    maxConnectionsPerClient: numberSetting(config, 'max_connections_per_client'),
    clock,
    limits: services.limits,
    idleTimeoutMs: numberSetting(config, 'idle_timeout_ms'),
    frameTimeoutMs: numberSetting(config, 'frame_timeout_ms'),
    dispatcher,
    rateLimiter: new RateLimiter(clock, services.limits.rateLimitPerSecond, services.limits.rateLimitPerSecond * 2),
    resolveIdentity,
    onAuthFailure: (info) => recordQuietly(authFailureEvent(clock, info)),
    onInternalError: (err) => log.error('internal error while serving a request', { error: String(err), stack: (err as Error)?.stack }),
  });
  const port = await keyServer.listen();
  // The event stream starts after the key server and closes before it.
  eventServer = eventServerFromConfig(
    config,
    {
      certificatePem: credentials.certificatePem,
      privateKeyPem: eventsKey,
      caPem: credentials.caPem,
      clock,
      bus: events,
      resolveIdentity,
      onAuthFailure: (info) => recordQuietly(authFailureEvent(clock, info)),
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
    await keyServer.close();
    throw err;
  }
  const rollover = new RolloverService({
    keychain,
    clock,
    log,
    checkIntervalMs: numberSetting(config, 'rollover_check_interval_ms'),
    noticeMs: durationMs(config, 'rollover_notice'),
    onRolled: (key, instance) => recordQuietly(adminEvent(clock, 'rollover', key, instance)),
    onNotice: (key, dueAt) => events.publish({ kind: 'rollover-notice', key, namespace: key.split('/')[0], dueAt, time: isoNow(clock) }),
    retentionMs: retentionMs(config),
    destructionWaitMs: durationMs(config, 'destruction_wait'),
  });
  rollover.start();

  const watcher = setInterval(() => {
    const now = store.changeStamp();
    if (now !== external) {
      external = now;
      keyServer?.recheckClients();
      eventServer?.recheckClients();
    }
  }, WATCH_INTERVAL_MS);
  watcher.unref();

  log.info('serving', { address: setting(config, 'listen_address'), port, eventsPort, keys: store.countKeys() });
  const server = keyServer;
  const streams = eventServer;
  return {
    port,
    keyServer: server,
    eventsPort,
    eventServer: streams,
    services,
    async close() {
      clearInterval(watcher);
      await rollover.stop();
      await streams.close();
      await server.close();
    },
  };
}
