/**
 * Assembles a serving appliance from an opened Appliance: unseals the
 * keychain (the HSM's only work), builds the services and the dispatch table,
 * loads the TLS credentials from the sealed PKI, and starts the listener.
 * A change made by another process (the CLI revoking a client) is picked up
 * by watching the store's change stamp.
 */
import { Clock, isoNow, systemClock } from '../../common/clock';
import { systemTimers, Timers } from '../../common/timers';
import { durationMs, numberSetting, retentionMs, setting } from '../../common/config';
import { applianceVersion } from '../../common/version';
import { CryptoService } from '../../domain/crypto-service';
import { LifecycleService } from '../../domain/lifecycle-service';
import { Dispatcher } from '../../operations/dispatcher';
import { KeyServer } from '../tls/key-server';
import { Logger, silentLogger } from '../../common/logger';
import { Appliance } from './open-appliance';
import { Services } from '../../operations/context';
import { allOperations } from '../../operations/table';
import { PkiService } from '../../domain/pki/pki-service';
import { ClientIdentity } from '../../domain/policy/identity';
import { PolicyIndex } from '../../domain/policy/policy-index';
import { MAX_BATCH_ITEMS } from '../../protocol/op-schemas';
import { RateLimiter } from '../../common/rate-limiter';
import { RolloverService } from '../../domain/rollover-service';
import { AuditWriter } from '../../domain/audit/audit-writer';
import { AuditEvent, EventStamper } from '../../domain/audit/audit-event';
import { adminEvent, authFailureEvent, lifecycleEvent, operationEvent, suppressedAuthFailuresEvent } from '../../domain/audit/audit-events';
import { AuthFailureThrottle, SuppressedRefusals, WINDOW_MS } from '../tls/auth-failure-throttle';
import { EventBus } from '../../domain/events/event-bus';
import { auditLiveEvents } from '../../domain/audit/audit-live';
import { AuditCheckpointer } from '../../domain/audit/audit-checkpointer';
import { WorkerAuditAppender } from '../../storage/audit-worker/worker-appender';
import { hostname } from 'node:os';
import { SinkManager } from '../../sinks/sink-manager';
import { sinkSpecsOf } from '../../sinks/sink-spec';
import { loadTlsIdentity } from '../tls/tls-identity';
import { UnsealService } from '../../domain/unseal/unseal-service';
import { unsealAuditEvent } from '../../domain/unseal/unseal-audit';
import { masterKeyStatus, rotateMasterKey } from '../../domain/master-key-rotation';
import { approvalExecutor } from '../../operations/approval-executor';
import { makeApprovalService } from './approval-wiring';
import { EventServer } from '../events/event-server';
import { eventServerFromConfig } from '../events/event-server-config';

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
  readonly checkpointer: AuditCheckpointer;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  /** Default: the system's (unref'd) timers. */
  readonly timers?: Timers;
  readonly log?: Logger;
  readonly port?: number;
  /** The live event stream's port (0: a free one); default events_port, or 0 when `port` is 0. */
  readonly eventsPort?: number;
  /** Append audit events on the server's own connection instead of the worker thread (for comparisons in benchmarks). */
  readonly auditInProcess?: boolean;
}

export async function startApplianceServer(appliance: Appliance, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const stamper: EventStamper = { clock, newId: () => appliance.ids.newId() };
  const log = options.log ?? silentLogger;
  const config = appliance.config;
  // Checked before the HSM is touched: a bad sink line is CONFIG_INVALID at start, not a silent gap later.
  const sinks = new SinkManager(sinkSpecsOf(config.values, config.dataDir), { clock, timers, version: applianceVersion(), hostname: hostname(), procId: String(process.pid) });
  const { keychain, store } = appliance;
  // With custodian shares the server starts sealed and listens for them;
  // without, the HSM alone (PIN file or variable) unseals it now.
  const unsealPolicy = store.getUnsealPolicy();
  if (unsealPolicy === null) {
    await appliance.unseal();
    log.warn('the keychain unsealed from the HSM alone (PIN file or STRONGROOM_HSM_PIN): not split knowledge; for production, make the keychain with `strongroom init --shares N --threshold M`');
  } else {
    await appliance.hsm();
    log.info('sealed: waiting for custodian shares (strongroom unseal)', { threshold: unsealPolicy.threshold, shares: unsealPolicy.shares });
  }
  const pki = new PkiService(keychain, store.directory, clock);
  let external = store.changeStamp();
  const cheapStamp = (): string => `${external}|${store.ownCommitCount()}`;
  keychain.useChangeStamp(cheapStamp);
  const policy = new PolicyIndex(store.directory, cheapStamp);
  let keyServer: KeyServer | null = null;
  let eventServer: EventServer | null = null;
  const events = new EventBus();
  // The trail fills gaps in the forwarded stream: events another process (a local-mode CLI) appended.
  sinks.attach(events, { headSeq: () => store.audit.auditHead()?.seq ?? 0, read: (from, limit) => auditLiveEvents(store.audit.readAuditRecords(from, limit)) });

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
    newId: stamper.newId,
    destructionWaitMs: durationMs(config, 'destruction_wait'),
    events,
    recordAudit: (event) => audit.record(event),
    auditTrail: store.audit,
    auditTrust: async () => {
      const keychainId = store.getMeta()!.keychainId;
      try {
        return { keychainId, publicKeyPem: await (await appliance.hsm()).signingPublicKey(), source: 'hsm' };
      } catch {
        // No signing key in the token (or no HSM): checkpoints' signatures go unchecked, and the verdict says so.
        return { keychainId, publicKeyPem: null, source: 'none' };
      }
    },
    auditSinkStats: () => sinks.stats(),
    unsealing: new UnsealService(keychain, store, () => appliance.hsm(), clock, timers, {
      onEvent: (event) => recordQuietly(unsealAuditEvent(stamper, event.type, event.client, event.result, event.custom)),
      onUnsealed: () => {
        log.info('unsealed');
        rollover.start();
      },
      onSealed: () => {
        log.info('sealed on request');
        void rollover.stop();
      },
    }),
    masterKeys: {
      status: async () => masterKeyStatus(store, await appliance.hsm()),
      rotate: async (options) => {
        const result = await rotateMasterKey(store, await appliance.hsm(), options).catch((err: unknown) => {
          recordQuietly(unsealAuditEvent(stamper, 'master-key-rotation', null, (err as { code?: string }).code ?? 'INTERNAL_ERROR', {}));
          throw err;
        });
        recordQuietly(unsealAuditEvent(stamper, 'master-key-rotation', null, 'ok', { from: result.from.join(','), to: String(result.to), destroyed: result.destroyed.join(',') }));
        log.info('master key rotated', { from: result.from, to: result.to, destroyed: result.destroyed });
        return result;
      },
    },
    // Pending requests are in the keychain: they survive restarts (start() fails those a stop interrupted).
    approvals: makeApprovalService({
      config,
      store,
      clock,
      newId: stamper.newId,
      events,
      recordAudit: (event) => recordQuietly(event),
      execute: (record) => approvalExecutor(operations, () => services)(record),
    }),
  };
  const operations = allOperations(() => dispatcher.operationNames());
  // Every operation, allowed or refused, is recorded; its response waits until the event is durable.
  // Group commits go to a worker thread with its own connection, so their fsync never holds the event loop.
  const appender = options.auditInProcess ? null : new WorkerAuditAppender({ keychainPath: setting(config, 'keychain_path') });
  const audit = new AuditWriter(store.audit, undefined, (records) => {
    // Parsing every event costs the hot path: only when someone listens.
    if (events.listenerCount > 0) for (const live of auditLiveEvents(records)) events.publish(live);
  }, appender === null ? undefined : (batch) => appender.append(batch));
  const recordQuietly = (event: AuditEvent): void => {
    audit.record(event).catch((err: unknown) => log.error('audit event not written', { type: event.type, error: String(err) }));
  };
  const dispatcher: Dispatcher = new Dispatcher(services, operations, (outcome) => audit.record(operationEvent(stamper, outcome)));
  services.approvals.start();

  const resolveIdentity = (fingerprint256: string): ClientIdentity | null => {
    const client = store.directory.getClientByFingerprint(fingerprint256);
    if (!client || client.revokedAt !== null) return null;
    return { name: client.name, role: client.role, groups: client.groups, fingerprint256, subject: `CN=${client.name}` };
  };

  const refusals = new AuthFailureThrottle(clock);
  const recordSuppressed = (suppressed: SuppressedRefusals[]): void => {
    for (const entry of suppressed) recordQuietly(suppressedAuthFailuresEvent(stamper, entry));
  };
  const refusalWindow = timers.every(WINDOW_MS, () => recordSuppressed(refusals.closeWindow()));

  const credentials = await loadTlsIdentity(appliance, clock);
  // The event stream's copy of the key, taken before the key server zeroes its own.
  const eventsKey = Buffer.from(credentials.privateKeyPem);
  keyServer = new KeyServer({
    host: setting(config, 'listen_address'),
    port: options.port ?? numberSetting(config, 'listen_port'),
    certificatePem: credentials.certificatePem,
    privateKeyPem: credentials.privateKeyPem,
    caPem: credentials.caPem,
    handshakeTimeoutMs: numberSetting(config, 'handshake_timeout_ms'),
    maxConnections: numberSetting(config, 'max_connections'),
    maxConnectionsPerClient: numberSetting(config, 'max_connections_per_client'),
    clock,
    timers,
    limits: services.limits,
    idleTimeoutMs: numberSetting(config, 'idle_timeout_ms'),
    frameTimeoutMs: numberSetting(config, 'frame_timeout_ms'),
    dispatcher,
    rateLimiter: new RateLimiter(clock, services.limits.rateLimitPerSecond, services.limits.rateLimitPerSecond * 2),
    resolveIdentity,
    onAuthFailure: (info) => {
      if (refusals.admit(info.source, recordSuppressed)) recordQuietly(authFailureEvent(stamper, info));
    },
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
      timers,
      newId: stamper.newId,
      bus: events,
      resolveIdentity,
      onAuthFailure: (info) => {
        if (refusals.admit(info.source, recordSuppressed)) recordQuietly(authFailureEvent(stamper, info));
      },
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
    timers,
    log,
    checkIntervalMs: numberSetting(config, 'rollover_check_interval_ms'),
    noticeMs: durationMs(config, 'rollover_notice'),
    onRolled: (key, instance) => recordQuietly(adminEvent(stamper, 'rollover', key, instance)),
    onNotice: (key, dueAt) => events.publish({ kind: 'rollover-notice', key, namespace: key.split('/')[0], dueAt, time: isoNow(clock) }),
    retentionMs: retentionMs(config),
    destructionWaitMs: durationMs(config, 'destruction_wait'),
  });
  if (!keychain.isSealed) rollover.start();
  const checkpointer = new AuditCheckpointer({
    audit: store.audit,
    hsm: () => appliance.hsm(),
    keychainId: store.getMeta()!.keychainId,
    clock,
    timers,
    intervalMs: numberSetting(config, 'audit_checkpoint_interval_ms'),
    log,
  });
  checkpointer.start();

  const watcher = timers.every(WATCH_INTERVAL_MS, () => {
    const now = store.changeStamp();
    if (now !== external) {
      external = now;
      keyServer?.recheckClients();
      eventServer?.recheckClients();
    }
  });

  recordQuietly(lifecycleEvent(stamper, 'server-start', config, { version: applianceVersion(), port: String(port) }));
  log.info('serving', { address: setting(config, 'listen_address'), port, eventsPort, keys: store.countKeys() });
  const server = keyServer;
  const streams = eventServer;
  let closing: Promise<void> | null = null;
  return {
    port,
    keyServer: server,
    eventsPort,
    eventServer: streams,
    services,
    checkpointer,
    close() {
      // Idempotent: a second close waits for the first.
      closing ??= (async () => {
        watcher.cancel();
        services.unsealing?.close();
        await rollover.stop();
        await streams.close();
        await server.close();
        refusalWindow.cancel();
        recordSuppressed(refusals.closeWindow());
        recordQuietly(lifecycleEvent(stamper, 'server-stop', config));
        // After the last response: the final checkpoint covers every event served.
        await audit.drain();
        await appender?.close();
        await checkpointer.stop();
        // Last: the server-stop event is durable and published; a dead SIEM costs at most the flush bound.
        await sinks.close();
      })();
      return closing;
    },
  };
}
