/**
 * The composition root of `strongroom serve`: from an opened Appliance, the
 * pieces start in a safe order and stop in the reverse one.
 *   1. audit pipeline (sinks checked before the HSM is touched)
 *   2. unseal, or open the HSM and wait sealed for the custodians
 *   3. background jobs (built, not started) and services with the dispatcher
 *   4. listeners (key server, KMIP, event stream, metrics), then the jobs start
 * The metrics (server/metrics/) are made first: the audit pipeline, the
 * dispatcher and the listeners count into them.
 * Close: listeners drain (in-flight answers and their events finish), jobs
 * stop, the server-stop event and everything before it is made durable,
 * then the final checkpoint is signed and the sinks flushed.
 */
import { HsmWatch } from './hsm-watch';
import { performance } from 'node:perf_hooks';
import { Clock, systemClock } from '../../common/clock';
import { systemTimers, Timers } from '../../common/timers';
import { setting } from '../../common/config';
import { Logger, silentLogger } from '../../common/logger';
import { applianceVersion } from '../../common/version';
import { lifecycleEvent, trustEstablishedEvent } from '../../domain/audit/audit-events';
import { AuditCheckpointer } from '../../domain/audit/audit-checkpointer';
import { Services } from '../../operations/context';
import { Dispatcher } from '../../operations/dispatcher';
import { EventServer } from '../events/event-server';
import { KeyServer } from '../tls/key-server';
import { openAuditPipeline } from './audit-pipeline';
import { makeBackgroundJobs } from './background-jobs';
import { RolloverService } from '../../domain/rollover-service';
import { BackupSchedule } from '../../domain/backup/backup-schedule';
import { startListeners } from './listeners';
import { Appliance } from './open-appliance';
import { composeServices } from './services';
import { ApplianceMetrics } from '../metrics/appliance-metrics';
import { MetricsServer } from '../metrics/metrics-server';

export interface RunningServer {
  readonly port: number;
  readonly keyServer: KeyServer;
  /** The live event stream's port (events_port; 0 in tests picks a free one). */
  readonly eventsPort: number;
  readonly eventServer: EventServer;
  /** The KMIP listener's port (kmip_port; 0 in tests picks a free one), or null when kmip_port is off. */
  readonly kmipPort: number | null;
  /** KMIP over HTTPS's port (kmip_https_port; 0 in tests picks a free one), or null when kmip_https_port is off. */
  readonly kmipHttpsPort: number | null;
  /** The metrics listener's port (metrics_port; 0 in tests picks a free one), or null when metrics_port is off. */
  readonly metricsPort: number | null;
  readonly metricsServer: MetricsServer | null;
  readonly metrics: ApplianceMetrics;
  readonly services: Services;
  /** The one dispatcher every entrance sends requests to. */
  readonly dispatcher: Dispatcher;
  readonly checkpointer: AuditCheckpointer;
  /** The scheduled rollovers (a sweep can be run now: tests, and the same code the timer runs). */
  readonly rollover: RolloverService;
  /** The server's own backups (backup_schedule), or null when off (a check can be run now: tests, and the same code the timer runs). */
  readonly backupSchedule: BackupSchedule | null;
  /**
   * Resolves when a backup restore is staged (docs/backup.md §5): the
   * keychain is sealed until the restart, and whoever runs the server
   * (`strongroom serve`) closes it and opens the data folder again, which
   * puts the restored keychain in place.
   */
  readonly restartRequested: Promise<{ readonly name: string; readonly keptAs: string }>;
  /** Watches the HSM: seals when it goes, unseals when it returns (a probe can be run now: tests, and the same code the timer runs). */
  readonly hsmWatch: HsmWatch;
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
  /** The KMIP listener's port (0: a free one; null: none); default kmip_port, or 0 when `port` is 0. */
  readonly kmipPort?: number | null;
  /** KMIP over HTTPS's port (0: a free one; null: none); default kmip_https_port, or 0 when `port` is 0. */
  readonly kmipHttpsPort?: number | null;
  /** The metrics listener's port (0: a free one; null: none); default metrics_port, or 0 when `port` is 0. */
  readonly metricsPort?: number | null;
  /** Append audit events on the server's own connection instead of the worker thread (for comparisons in benchmarks). */
  readonly auditInProcess?: boolean;
}

export async function startApplianceServer(appliance: Appliance, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const stamper = { clock, newId: () => appliance.ids.newId() };
  const log = options.log ?? silentLogger;
  const { config, store } = appliance;
  const metrics = new ApplianceMetrics(() => performance.now(), applianceVersion());
  const audit = openAuditPipeline(appliance, { clock, timers, log, inProcess: options.auditInProcess, forward: true, meterAppender: (append) => metrics.meterAppender(append) });
  try {
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
  } catch (err) {
    await audit.close();
    throw err;
  }
  const jobs = makeBackgroundJobs(appliance, { clock, timers, log, audit });
  // A first unseal that took the rows as it found them (no trust state yet) says so in the trail.
  const recordTrustEstablished = (): void => {
    const opened = appliance.keychain.trustOpened();
    if (opened?.established) audit.recordQuietly(trustEstablishedEvent(stamper, opened.rows));
  };
  // The last signed head is read before this run records anything (its start
  // checkpoint, below, is then verified from it).
  jobs.checkpointer.open();
  let requestRestart: (outcome: { readonly name: string; readonly keptAs: string }) => void = () => undefined;
  const restartRequested = new Promise<{ readonly name: string; readonly keptAs: string }>((resolve) => {
    requestRestart = resolve;
  });
  // What follows every unseal, by custodians or by the HSM watch (set once the services exist).
  let afterUnseal = (): void => undefined;
  // Seals the appliance when the HSM goes away and unseals it when it returns (hsm-watch.ts).
  const hsmWatch = new HsmWatch({
    appliance,
    clock,
    timers,
    log,
    stamper,
    record: (event) => audit.record(event),
    onSealed: () => void jobs.rollover.stop(),
    onUnsealed: () => afterUnseal(),
  });
  const { services, dispatcher, changes, connections, certificates } = composeServices(appliance, {
    clock,
    timers,
    log,
    audit,
    onOutcome: (outcome) => {
      metrics.requestDone(outcome);
      // A request the HSM failed may be the first sign that it is gone: the watch probes now.
      if (outcome.error?.code.startsWith('HSM_')) hsmWatch.noticeFailure();
    },
    monotonicMs: metrics.monotonicMs,
    hsmHealth: hsmWatch,
    hooks: {
      onUnsealed: () => afterUnseal(),
      onSealed: () => void jobs.rollover.stop(),
      onRestoreStaged: (outcome) => {
        // Sealed until the restart: the sweeps would only fail SEALED.
        void jobs.rollover.stop();
        requestRestart(outcome);
      },
      sinkStats: () => audit.sinks?.stats() ?? [],
    },
  });
  afterUnseal = () => {
    recordTrustEstablished();
    // Connections made while sealed could not verify their client rows: now they can, and forged ones end.
    connections.recheck();
    jobs.rollover.start();
    // Dual-control rows are authenticated with keys that exist only unsealed: their recovery waits for the unseal too.
    services.approvals.start();
  };
  if (!appliance.keychain.isSealed) services.approvals.start();
  metrics.watch({
    sealed: () => appliance.keychain.isSealed,
    stateCounts: () => store.countByState(),
    auditQueued: () => audit.writer.queued,
    sinks: () => audit.sinks?.stats() ?? [],
  });
  let listeners;
  try {
    listeners = await startListeners(appliance, {
      clock,
      timers,
      log,
      audit,
      services,
      dispatcher,
      connections,
      certificates,
      metrics,
      port: options.port,
      eventsPort: options.eventsPort,
      kmipPort: options.kmipPort,
      kmipHttpsPort: options.kmipHttpsPort,
      metricsPort: options.metricsPort,
    });
  } catch (err) {
    services.unsealing?.close();
    await audit.close();
    throw err;
  }
  jobs.start(changes, connections);
  hsmWatch.start();
  services.backups?.schedule?.start();
  // The CA's, the server's and clients' certificates near their end: warned of daily, once each.
  certificates.start();
  const { port, eventsPort, kmipPort, kmipHttpsPort, metricsPort } = listeners;
  audit.recordQuietly(lifecycleEvent(stamper, 'server-start', config, { version: applianceVersion(), port: String(port) }));
  if (!appliance.keychain.isSealed) recordTrustEstablished();
  // Every run signs its start: a trail that records a server start but holds
  // no checkpoint had its checkpoints deleted (domain/audit/audit-verify.ts).
  // The trail is verified from the last signed head first; a refusal alarms
  // and the server serves on.
  await audit.writer.drain();
  await jobs.checkpointer.checkpoint();
  log.info('serving', { address: setting(config, 'listen_address'), port, eventsPort, kmipPort, kmipHttpsPort, metricsPort, keys: store.countKeys() });
  let closing: Promise<void> | null = null;
  const serving = listeners;
  return {
    port,
    keyServer: serving.keyServer,
    eventsPort,
    eventServer: serving.eventServer,
    kmipPort,
    kmipHttpsPort,
    metricsPort,
    metricsServer: serving.metricsServer,
    metrics,
    services,
    dispatcher,
    checkpointer: jobs.checkpointer,
    rollover: jobs.rollover,
    backupSchedule: services.backups?.schedule ?? null,
    restartRequested,
    hsmWatch,
    close() {
      // Idempotent: a second close waits for the first.
      closing ??= (async () => {
        services.unsealing?.close();
        await hsmWatch.stop();
        await jobs.stop();
        await certificates.stop();
        await services.backups?.schedule?.stop();
        services.backups?.closeUploads?.();
        await serving.close();
        audit.recordQuietly(lifecycleEvent(stamper, 'server-stop', config));
        // After the last response: the final checkpoint covers every event served.
        await audit.writer.drain();
        await jobs.stopCheckpoints();
        await audit.close();
      })();
      return closing;
    },
  };
}
