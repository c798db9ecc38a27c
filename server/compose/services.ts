/**
 * The services every entrance shares, and the one dispatcher in front of
 * them: the keychain's services, PKI, policy index, unseal ceremony,
 * master-key rotation and dual control, over an opened appliance and its
 * audit pipeline. `strongroom serve` puts listeners in front of it; the
 * CLI's local mode an in-process transport (server/local/). Nothing here
 * listens or runs on a timer: background jobs are told of unseal and seal
 * through the hooks.
 */
import type { HsmHealthView } from '../../domain/unseal/hsm-health';
import { Clock } from '../../common/clock';
import { Timers } from '../../common/timers';
import { EventStamper } from '../../domain/audit/audit-event';
import { clearKeyImport, durationMs, numberSetting } from '../../common/config';
import { Logger } from '../../common/logger';
import { applianceVersion } from '../../common/version';
import { CryptoService } from '../../domain/crypto-service';
import { GcmInvocations } from '../../domain/gcm-invocations';
import { UsageBudgets } from '../../domain/usage-limits';
import { DEFAULT_GCM_STREAM_LIMITS, GcmStreams } from '../../domain/gcm-streams';
import { LifecycleService } from '../../domain/lifecycle-service';
import { masterKeyStatus, rotateMasterKey } from '../../domain/master-key-rotation';
import { PkiService } from '../../domain/pki/pki-service';
import { IdentityConfirmation } from '../../domain/policy/identity-confirmation';
import { PolicyIndex } from '../../domain/policy/policy-index';
import { unsealAuditEvent } from '../../domain/unseal/unseal-audit';
import { UnsealService } from '../../domain/unseal/unseal-service';
import { INTENT_EVENT, intentEvent, operationEvent } from '../../domain/audit/audit-events';
import { AuditEvent } from '../../domain/audit/audit-event';
import { SinkStats } from '../../sinks/siem-transport';
import { approvalExecutor } from '../../operations/approval-executor';
import { Services } from '../../operations/context';
import { Dispatcher, Outcome } from '../../operations/dispatcher';
import { allOperations } from '../../operations/table';
import { MAX_BATCH_ITEMS } from '../../protocol/op-schemas';
import { makeApprovalService } from './approval-wiring';
import { backupService } from './backup-wiring';
import { AuditPipeline } from './audit-pipeline';
import { ChangeWatch } from './change-watch';
import { ClientConnections } from './client-connections';
import { ServerCertificates } from './server-certificates';
import { Appliance } from './open-appliance';
import { clusterStatus } from '../cluster/cluster-status';
import { makePatroniProbe } from '../../storage/postgres/patroni-rest';

/** JSON nesting and element caps of one request (docs/protocol.md §3.1). */
const MAX_JSON_DEPTH = 16;
const MAX_JSON_ELEMENTS = 10_000;
/** Requests one connection may have in flight (pipelining). */
const MAX_IN_FLIGHT = 64;

export interface ServiceHooks {
  /** The keychain was unsealed by the custodians' shares (background jobs start). */
  readonly onUnsealed?: () => void;
  /** The keychain was sealed on request (background jobs stop). */
  readonly onSealed?: () => void;
  /** A backup restore is staged (docs/backup.md §5): the server restarts to open it. */
  readonly onRestoreStaged?: (outcome: { readonly name: string; readonly keptAs: string }) => void;
  /** Delivery counters of the SIEM sinks, for Query. */
  readonly sinkStats?: () => readonly SinkStats[];
}

export interface ComposedServices {
  readonly services: Services;
  readonly dispatcher: Dispatcher;
  readonly changes: ChangeWatch;
  readonly connections: ClientConnections;
  /** Server-certificate renewal and the expiry check: listeners attach to it, the server starts its watch. */
  readonly certificates: ServerCertificates;
}

export interface ComposeOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly audit: AuditPipeline;
  readonly hooks?: ServiceHooks;
  /** The HSM watch (hsm-watch.ts), for Query and the sealed gate. */
  readonly hsmHealth?: HsmHealthView;
  /** Told of every dispatcher outcome before its audit event is recorded (the server's metrics); must be cheap and not throw. */
  readonly onOutcome?: (outcome: Outcome) => void;
  /** The dispatcher's monotonic clock (ms), stamping each outcome's start; default none. */
  readonly monotonicMs?: () => number;
}

export function composeServices(appliance: Appliance, options: ComposeOptions): ComposedServices {
  const { clock, timers, log, audit } = options;
  const { keychain, store, config } = appliance;
  const stamper: EventStamper = { clock, newId: () => appliance.ids.newId() };
  const hooks = options.hooks ?? {};
  const changes = new ChangeWatch(keychain.changes, log, clock);
  const connections = new ClientConnections();
  const operations = allOperations(() => dispatcher.operationNames());
  const certificates = new ServerCertificates(appliance, { clock, timers, log, stamper, events: audit.events, record: (event) => audit.record(event) });
  // Awaited by whoever made the change (through ctx.awaitAudit, or here); logged as well, for the events a background path records.
  const recordAwaited = (event: AuditEvent): Promise<void> => {
    const pending = audit.record(event);
    pending.catch((err: unknown) => log.error('audit event not written', { type: event.type, error: String(err) }));
    return pending;
  };
  const services: Services = {
    keychain,
    crypto: new CryptoService(
      keychain,
      clock,
      new GcmInvocations(keychain.invocations, { limit: numberSetting(config, 'gcm_invocation_limit') }, (near) =>
        // Time to roll the key over: past the limit its protect operations are refused.
        log.warn('key instance nears its AES-GCM invocation limit: roll the key over', { instance: near.instanceName, used: near.used, limit: near.limit }),
      ),
      new UsageBudgets(keychain.invocations),
    ),
    // In memory only; a stream of an earlier seal is dropped at the next stream operation (domain/gcm-streams.ts). Dropped streams are logged, not audited: no request is behind them.
    gcmStreams: new GcmStreams(clock, () => keychain.sealGeneration, DEFAULT_GCM_STREAM_LIMITS, (dropped) => {
      if (dropped.reason !== 'finished') log.info('streamed encryption dropped', { client: dropped.client, instance: dropped.instance, stream: dropped.stream, reason: dropped.reason });
    }),
    lifecycle: new LifecycleService(keychain, clock),
    pki: new PkiService(keychain, keychain.directory, clock),
    directory: keychain.directory,
    policy: new PolicyIndex(keychain.directory, changes.stamp),
    identities: new IdentityConfirmation(keychain.directory, changes.stamp, () => keychain.isSealed),
    clock,
    version: applianceVersion(),
    limits: {
      maxFrameBytes: numberSetting(config, 'max_frame_bytes'),
      maxJsonDepth: MAX_JSON_DEPTH,
      maxJsonElements: MAX_JSON_ELEMENTS,
      maxBatchItems: MAX_BATCH_ITEMS,
      maxInFlight: MAX_IN_FLIGHT,
      rateLimitPerSecond: numberSetting(config, 'rate_limit_per_second'),
    },
    disconnectClient: (name) => connections.disconnect(name),
    newId: stamper.newId,
    destructionWaitMs: durationMs(config, 'destruction_wait'),
    interopServed: config.values.kmip_interop === 'on',
    clearKeyImport: clearKeyImport(config),
    events: audit.events,
    recordAudit: (event) => audit.record(event),
    recordWithin: (events) => audit.appendWithin(events),
    recordFlushedLater: (events) => audit.appendWithinDurableLater(events),
    auditTrail: store.audit,
    auditTrust: async () => {
      const keychainId = store.getMeta()!.keychainId;
      // The cluster's other signers (docs/cluster/join.md), only from a list whose rows authenticate (a row that does not
      // is INTEGRITY_FAILURE, thrown: never a verdict with fewer checks); while sealed, none.
      const clusterSigners = keychain.isSealed ? [] : keychain.auditSigners().map((signer) => signer.publicKey);
      try {
        return { keychainId, publicKeyPem: await (await appliance.hsm()).signingPublicKey(), source: 'hsm', clusterSigners };
      } catch {
        // No signing key in the token (or no HSM): checkpoints' signatures go unchecked, and the verdict says so.
        return { keychainId, publicKeyPem: null, source: 'none' };
      }
    },
    auditSinkStats: hooks.sinkStats,
    hsmHealth: options.hsmHealth,
    unsealing: new UnsealService(keychain, store, () => appliance.hsm(), clock, timers, {
      onEvent: (event) => recordAwaited(unsealAuditEvent(stamper, event.type, event.client, event.result, event.custom)),
      onUnsealed: () => {
        log.info('unsealed');
        hooks.onUnsealed?.();
      },
      onSealed: () => {
        log.info('sealed on request');
        hooks.onSealed?.();
      },
    }),
    cluster: { status: () => clusterStatus({ appliance, probe: makePatroniProbe(timers), clock }) },
    masterKeys: {
      status: async () => masterKeyStatus(store, await appliance.hsm()),
      rotate: async (rotation) => {
        // Fail closed: no rotation starts unless the trail holds its intent, and none reports done before its event is durable.
        await audit.record({ ...unsealAuditEvent(stamper, INTENT_EVENT, null, 'ok', { destroyOld: String(rotation.destroyOld === true) }), operation: 'MasterKeyRotate' });
        const result = await rotateMasterKey(store, await appliance.hsm(), rotation).catch(async (err: unknown) => {
          await audit.record(unsealAuditEvent(stamper, 'master-key-rotation', null, (err as { code?: string }).code ?? 'INTERNAL_ERROR', {}));
          throw err;
        });
        await audit.record(unsealAuditEvent(stamper, 'master-key-rotation', null, 'ok', { from: result.from.join(','), to: String(result.to), destroyed: result.destroyed.join(',') }));
        log.info('master key rotated', { from: result.from, to: result.to, destroyed: result.destroyed });
        return result;
      },
    },
    certificates,
    backups: backupService(appliance, {
      clock,
      timers,
      log,
      stamper,
      record: recordAwaited,
      drain: () => audit.writer.drain(),
      onRestoreStaged: (outcome) => hooks.onRestoreStaged?.(outcome),
    }),
    // Pending requests are in the keychain: they survive restarts (start() fails those a stop interrupted).
    approvals: makeApprovalService({
      config,
      store,
      directory: keychain.directory,
      approvals: keychain.approvals,
      clock,
      newId: stamper.newId,
      events: audit.events,
      recordAudit: recordAwaited,
      // A vote, a request's state and its event commit together.
      recordWithin: (event) => audit.appendWithin(event),
      execute: (record) => approvalExecutor(operations, () => services)(record),
    }),
  };
  // Every operation, allowed or refused, is recorded; its response waits until the event is durable.
  // A state-changing one runs only once its intent event is durable (fail closed: AUDIT_UNAVAILABLE, nothing changed).
  const onOutcome = options.onOutcome;
  const dispatcher: Dispatcher = new Dispatcher(
    services,
    operations,
    onOutcome === undefined
      ? (outcome) => audit.record(operationEvent(stamper, outcome))
      : (outcome) => {
          onOutcome(outcome);
          return audit.record(operationEvent(stamper, outcome));
        },
    (intent) => audit.record(intentEvent(stamper, intent)),
    options.monotonicMs,
    // A change and its outcome event in one transaction; the metrics hear of it once it committed.
    (change, outcomeOf) => {
      const committed: { outcome?: Outcome } = {};
      const result = audit.commitWithEvent(change, (changed) => operationEvent(stamper, (committed.outcome = outcomeOf(changed))));
      if (committed.outcome !== undefined) onOutcome?.(committed.outcome);
      return result;
    },
  );
  return { services, dispatcher, changes, connections, certificates };
}
