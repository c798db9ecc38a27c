/**
 * What runs on its own while the appliance serves: scheduled rollovers,
 * their notices and the other sweeps (only while unsealed), the signed audit checkpoints, and the watch
 * for changes another process made (which closes connections of clients it
 * revoked). Built before the listeners, started after them; stopped before
 * the audit pipeline closes, except the checkpointer, whose final checkpoint
 * comes after the last event is durable (stopCheckpoints).
 */
import { Clock, isoNow } from '../../common/clock';
import { Timer, Timers } from '../../common/timers';
import { durationMs, idempotencyRetentionMs, numberSetting, retentionMs, setting } from '../../common/config';
import { Logger } from '../../common/logger';
import { StrongroomError } from '../../common/errors';
import { adminEvent, auditIntegrityFailureEvent, INTENT_EVENT, keychainIntegrityFailureEvent } from '../../domain/audit/audit-events';
import { AuditEvent } from '../../domain/audit/audit-event';
import { AuditCheckpointer } from '../../domain/audit/audit-checkpointer';
import { workerHeadVerifier } from '../../storage/audit-worker/worker-verifier';
import { RolloverService, SweptChange } from '../../domain/rollover-service';
import { leaseTakenEvent, leaseTakeoverIntentEvent } from '../../domain/audit/scheduler-lease-events';
import { RolloverNotices } from '../../domain/rollover-notices';
import { AuditPipeline } from './audit-pipeline';
import { ChangeWatch, WATCH_INTERVAL_MS } from './change-watch';
import { ClientConnections } from './client-connections';
import { Appliance } from './open-appliance';
import { configuredNodeName } from '../cluster/node-name';
import { assertOwnNodeName } from '../cluster/node-identity';
import { publicKeyFingerprint } from '../../domain/audit/audit-checkpoint';

/**
 * How long the scheduler's lease lasts past a batch that renewed it, in
 * check intervals: long enough that the holder's next check renews it
 * (a slow sweep, a loaded machine), short enough that a dead holder's work
 * waits a few checks for another node.
 */
export const LEASE_CHECK_INTERVALS = 3;

export interface BackgroundJobs {
  readonly rollover: RolloverService;
  readonly checkpointer: AuditCheckpointer;
  /** Starts the rollover sweeps (if unsealed), the checkpoints and the change watch. */
  start(changes: ChangeWatch, connections: ClientConnections): void;
  /** Stops the sweeps and the change watch (the checkpointer goes on: stopCheckpoints). */
  stop(): Promise<void>;
  /** Signs the final checkpoint and stops the checkpointer. */
  stopCheckpoints(): Promise<void>;
}

export function makeBackgroundJobs(appliance: Appliance, options: { clock: Clock; timers: Timers; log: Logger; audit: AuditPipeline }): BackgroundJobs {
  const { clock, timers, log, audit } = options;
  const { keychain, store, config } = appliance;
  const stamper = { clock, newId: () => appliance.ids.newId() };
  // Awaited by the sweep; logged too, since no client waits on a scheduled rollover.
  const recorded = (event: AuditEvent): Promise<void> => {
    const pending = audit.record(event);
    pending.catch((err: unknown) => log.error('audit event not written', { type: event.type, error: String(err) }));
    return pending;
  };
  /** The audit event of one change a sweep made. */
  const sweptEvent = (change: SweptChange): AuditEvent =>
    change.type === 'rollover' ? adminEvent(stamper, 'rollover', change.key, change.instance) : adminEvent(stamper, change.type, keychain.keyNameOfInstance(change.instance), change.instance);
  const checkIntervalMs = numberSetting(config, 'rollover_check_interval_ms');
  const node = configuredNodeName(config);
  const rollover = new RolloverService({
    keychain,
    clock,
    timers,
    log,
    checkIntervalMs,
    // On SQLite the one appliance always holds it; on PostgreSQL it keeps the sweeps on one node at a time.
    lease: keychain.schedulerLease(node, LEASE_CHECK_INTERVALS * checkIntervalMs),
    // A takeover is announced (durable) before the batch that makes it, and recorded once that batch committed.
    // On PostgreSQL the lease is held by name: a name another node has (or not the one this node joined as) acts on nothing.
    nodeIdentity:
      appliance.storage === 'postgres'
        ? async () => {
            const own = await (await appliance.hsm()).signingPublicKey().then(publicKeyFingerprint, () => null);
            assertOwnNodeName(node, own, keychain.auditSigners());
          }
        : undefined,
    leaseTakeovers: {
      announce: (from) => recorded(leaseTakeoverIntentEvent(stamper, node, from)),
      taken: (from, held) => recorded(leaseTakenEvent(stamper, from, held)),
    },
    notices: new RolloverNotices({
      keychain,
      audit: store.audit,
      stamper,
      log,
      noticeMs: durationMs(config, 'rollover_notice'),
      noticePeriod: setting(config, 'rollover_notice'),
      // Awaited: a notice is marked given only once the trail holds it.
      record: recorded,
      // The live stream keeps its own kind of event, told once the notice is durable.
      onRecorded: (notice) => audit.events.publish({ kind: 'rollover-notice', key: notice.key, namespace: notice.key.split('/')[0], dueAt: notice.dueAt, time: isoNow(clock) }),
      pause: () => new Promise((resolve) => setImmediate(resolve)),
    }),
    // Fail closed like an operation: a sweep acts only once its intent is durable, and stops when a batch's events cannot be written.
    beforeSweep: (sweep) => recorded({ ...adminEvent(stamper, INTENT_EVENT, null, null), custom: { sweep } }),
    // Each batch and its events in one transaction: no rolled key or changed instance without its event, whenever a kill comes.
    recordWithin: (changes) => audit.appendWithin(changes.map(sweptEvent)),
    // The rollover sweep's batches commit without an fsync on the event loop; each is flushed, with its events, off it.
    recordRolloversFlushedLater: (changes) => audit.appendWithinDurableLater(changes.map(sweptEvent)),
    retentionMs: retentionMs(config),
    idempotencyRetentionMs: idempotencyRetentionMs(config),
    destructionWaitMs: durationMs(config, 'destruction_wait'),
  });
  const checkpointer = new AuditCheckpointer({
    audit: store.audit,
    hsm: () => appliance.hsm(),
    keychainId: store.getMeta()!.keychainId,
    clock,
    timers,
    intervalMs: numberSetting(config, 'audit_checkpoint_interval_ms'),
    log,
    // Re-reading and re-hashing the events since the last checkpoint takes no time from the event loop on SQLite
    // (a worker opens the file read-only). On PostgreSQL it runs on the store, in this thread (the default).
    verify: appliance.storage === 'sqlite' ? workerHeadVerifier(setting(config, 'keychain_path')) : undefined,
    // The alarm goes into the trail (and so to the SIEM sinks and the event stream), awaited like an operation's event.
    onIntegrityFailure: (failure) => audit.record(auditIntegrityFailureEvent(stamper, failure)),
    // The other nodes' checkpoints (docs/cluster/join.md): the keys on the keychain's authenticated signer list.
    clusterSigners: () => keychain.auditSigners().map((signer) => signer.publicKey),
    beforeCheckpoint: async () => {
      if (keychain.isSealed) return;
      try {
        // setImmediate, not a timer: the walk only gives requests waiting on the event loop their turn.
        await keychain.checkAndAnchorTrust(await appliance.hsm(), () => new Promise((resolve) => setImmediate(resolve)));
      } catch (err) {
        if (!(err instanceof StrongroomError) || err.code !== 'INTEGRITY_FAILURE') throw err;
        // Fail closed: nothing more is served from rows that are not the ones the appliance wrote.
        keychain.seal();
        // As a Seal does (onSealed): the scheduler would only fail SEALED at each check.
        void rollover.stop();
        log.error('the keychain database was altered outside the appliance: sealed', { reason: err.message });
        await audit.record(keychainIntegrityFailureEvent(stamper, err.message));
      }
    },
  });
  let watcher: Timer | null = null;
  return {
    rollover,
    checkpointer,
    start(changes, connections) {
      if (!keychain.isSealed) rollover.start();
      checkpointer.start();
      // A recheck reads the directory: should the store go out between the poll and it, the recheck is owed
      // to the next poll rather than thrown out of this timer (each request is still checked on its own).
      let recheckOwed = false;
      watcher = timers.every(WATCH_INTERVAL_MS, () => {
        if (!changes.poll() && !recheckOwed) return;
        try {
          connections.recheck();
          recheckOwed = false;
        } catch (err) {
          if (!recheckOwed) log.warn('connections of revoked clients not rechecked: tried again at the next poll', { code: (err as { code?: string }).code ?? 'INTERNAL_ERROR', message: String((err as Error).message ?? err) });
          recheckOwed = true;
        }
      });
    },
    async stop() {
      watcher?.cancel();
      watcher = null;
      await rollover.stop();
    },
    stopCheckpoints: () => checkpointer.stop(),
  };
}
