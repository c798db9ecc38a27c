/**
 * The server's rollover scheduler: sweeps once at start (catching up after
 * downtime) and then every check interval, rolling due keys in batches that
 * yield to the event loop so requests keep being answered. The same sweep
 * first activates instances whose activation date came; after the
 * rollovers, each key that comes within the notice period gets its notice,
 * once, in the audit trail (rollover-notices.ts). It also carries out
 * scheduled destructions that are due, ends of retention and process-stop
 * deactivations. Each of the five acts only after its intent
 * is durable in the audit trail and waits for each batch's events before
 * the next batch (the rollover sweep: each batch commits with its events
 * and is flushed off the event loop while the next batches run, at most
 * sweep-due.ts MAX_BATCHES_AHEAD of them), so no scheduled change outlives
 * by more than that a disk that cannot make it durable, none is without
 * its event, and none happens that its durable intent does not announce.
 *
 * A sweep that fails (its store is out: a PostgreSQL failover) resolves as
 * having done nothing: it runs from a timer, where a rejection would end
 * the process. The next check sweeps again; the outage and its end are
 * logged once each.
 */
import { Clock } from '../common/clock';
import { OutageLog } from '../common/outage-log';
import { Timer, Timers } from '../common/timers';
import { Keychain } from './keychain';
import { sweepDueDestructions } from './destruction-sweep';
import { sweepDueProcessStops } from './usage-period-sweep';
import { sweepDueActivations } from './activation-sweep';
import { RolledKey, sweepDueRollovers, SweepResult, yieldToEventLoop } from './rollover-scheduler';
import { sweepExpiredRetention } from './retention-sweep';
import { sweepIdempotencyRecords } from './idempotency-sweep';
import { Logger } from '../common/logger';
import { SchedulerLease, SchedulerLeaseView } from './scheduler-lease';

/** The scheduled sweeps, each bound to the audit trail on its own. */
export type ScheduledSweep = 'activation' | 'rollover' | 'destruction' | 'retention' | 'process-stop';

/** What a sweep did to an instance: activated it on its activation date, destroyed it, deactivated it at its process-stop date, or scheduled its destruction at the end of its retention. */
export interface InstanceChange {
  readonly type: 'activated' | 'destroyed' | 'deactivated' | 'destruction-scheduled';
  readonly instance: string;
}

/** A change a sweep made, as its audit event names it. */
export type SweptChange = { readonly type: 'rollover'; readonly key: string; readonly instance: string } | InstanceChange;

export interface RolloverServiceOptions {
  readonly keychain: Keychain;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly checkIntervalMs: number;
  /** rollover_retention: replaced instances deactivated longer ago get their destruction scheduled; null keeps them. */
  readonly retentionMs: number | null;
  readonly destructionWaitMs: number;
  /** idempotency_retention: idempotency records older than it are deleted by each sweep (idempotency-sweep.ts); absent keeps them (tests of the other sweeps). */
  readonly idempotencyRetentionMs?: number;
  /**
   * Awaited before a scheduled sweep acts (when something is due): the audit
   * trail's intent. If it rejects, that sweep acts on nothing (fail closed).
   */
  readonly beforeSweep?: (sweep: ScheduledSweep) => Promise<void>;
  /** Told of every scheduled rollover once committed (the audit trail); the sweep waits for each batch's events and stops if one cannot be written. */
  readonly onRolled?: (key: string, instance: string) => Promise<void> | void;
  /** Told of every instance a sweep changed, once committed; awaited per batch like onRolled. */
  readonly onInstanceChanged?: (change: InstanceChange) => Promise<void> | void;
  /**
   * Appends the audit events of a sweep batch's changes inside the batch's
   * own transaction (the audit pipeline's writer), returning what publishes
   * them once it committed: each batch and its events commit together, so a
   * crash never leaves a rolled key or a changed instance without its event.
   * The trail's recorder of a server; without it (tests, local drills)
   * onRolled and onInstanceChanged are the only reports.
   */
  readonly recordWithin?: (changes: readonly SweptChange[]) => () => void;
  /**
   * recordWithin for the rollover sweep, the one that runs to tens of
   * thousands of keys at once: its batches commit without their own fsync,
   * and the function returned flushes a batch with its events off the event
   * loop, resolving once both are durable (rollover-scheduler.ts
   * recordFlushedLater). Without it the rollover sweep uses recordWithin.
   */
  readonly recordRolloversFlushedLater?: (changes: readonly SweptChange[]) => () => Promise<void>;
  /** The notices of rollovers within rollover_notice, recorded once each (rollover-notices.ts); checked after the rollovers of each sweep. */
  readonly notices?: { check(nowMs: number): Promise<number> };
  /**
   * The scheduler's lease (scheduler-lease.ts): when given, a sweep does not
   * start while another node's lease is valid, and every batch of every
   * sweep takes or renews it in its own transaction, acting on nothing once
   * another node took it over. Without it (tests of one keychain) the sweeps
   * act unconditionally.
   */
  readonly lease?: SchedulerLease;
  /**
   * Awaited before every sweep: rejects when this node may not act under the
   * name it holds the lease by (server/cluster/node-identity.ts); the sweep
   * then acts on nothing, and the outage log says why once.
   */
  readonly nodeIdentity?: () => Promise<void>;
  /**
   * The trail's record of the lease changing holder (docs/cluster/scheduler-lease.md):
   * `announce` is awaited before a sweep whose batch would take the lease
   * over from another node (its expired lease), an intent durable before
   * the act, and the batch then takes over only the lease announced;
   * `taken` is told once a batch that took it over has committed (read back
   * from the store), and awaited with that batch's events before the next
   * batch. A renewal records nothing. Without it, takeovers are not
   * announced (tests of one keychain).
   */
  readonly leaseTakeovers?: {
    announce(from: SchedulerLeaseView): Promise<void>;
    taken(from: SchedulerLeaseView, held: SchedulerLeaseView): Promise<void> | void;
  };
}

export class RolloverService {
  private timer: Timer | null = null;
  private running: Promise<SweepResult> | null = null;
  private readonly outage: OutageLog;
  /** The epoch of the lease this node last acted under: a change is logged (this node took the lease). */
  private actingEpoch: number | null = null;
  /** The other node's expired lease whose takeover is durable in the trail: the one claims may take over. */
  private announced: SchedulerLeaseView | null = null;
  /** A takeover a batch made in its transaction, told once the batch is seen committed. */
  private claimedTakeover: { readonly from: SchedulerLeaseView; readonly held: SchedulerLeaseView } | null = null;

  constructor(private readonly options: RolloverServiceOptions) {
    this.outage = new OutageLog(options.log, options.clock, 'the scheduled sweeps (activation, rollover, notices, destruction, retention, process-stop)', 'nothing due is acted on until a check succeeds');
  }

  start(): void {
    void this.sweep();
    this.timer = this.options.timers.every(this.options.checkIntervalMs, () => void this.sweep());
  }

  /** Runs a sweep now, or joins the one in progress. Never rejects: a sweep that failed did nothing (and was logged). */
  sweep(): Promise<SweepResult> {
    this.running ??= this.runSweep()
      .then(
        (result) => {
          this.outage.succeeded();
          return result;
        },
        (err: unknown) => {
          this.outage.failed(err);
          return { rolled: 0, failed: 0, batches: 0 };
        },
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private async runSweep(): Promise<SweepResult> {
    const { keychain, clock, log, retentionMs, destructionWaitMs } = this.options;
    const now = clock.nowMs();
    const none: SweepResult = { rolled: 0, failed: 0, batches: 0 };
    await this.options.nodeIdentity?.();
    if (this.ledByAnother()) return { ...none, refused: true };
    const mayAct = this.options.lease === undefined ? undefined : () => this.claimLease();
    // Activations first: a successor whose date has come is current before the rollover sweep looks at its key.
    const activations = await this.audited('activation', keychain.dueActivations(now, 1).length > 0, { activated: 0, failed: 0 }, (report, afterBatch) =>
      sweepDueActivations(keychain, now, {
        onActivated: (instance) => {
          log.info('activated', { instance, reason: 'activation date reached' });
          report(this.options.onInstanceChanged?.({ type: 'activated', instance }));
        },
        onFailed: (instanceId, error) => log.error('scheduled activation failed', { instanceId, code: error.code, message: error.message }),
        afterBatch,
        mayAct,
        recordWithin: this.instancesWithin('activated'),
      }),
    );
    if (activations.activated + activations.failed > 0) log.info('activation sweep done', { ...activations });
    const result = await this.audited('rollover', keychain.dueKeys(now, 1).length > 0, none, (report, afterBatch) =>
      sweepDueRollovers(keychain, now, {
        onRolled: (name, instance) => {
          log.info('rolled over', { key: name, instance, reason: 'cryptoperiod' });
          report(this.options.onRolled?.(name, instance));
        },
        onFailed: (keyId, error) => log.error('scheduled rollover failed', { keyId, code: error.code, message: error.message }),
        afterBatch,
        auditedBatches: this.options.onRolled !== undefined,
        mayAct,
        recordWithin: this.options.recordWithin === undefined ? undefined : (rolled) => this.options.recordWithin!(rolloverChanges(rolled)),
        recordFlushedLater: this.options.recordRolloversFlushedLater === undefined ? undefined : (rolled) => this.options.recordRolloversFlushedLater!(rolloverChanges(rolled)),
      }),
    );
    if (result.rolled + result.failed > 0) log.info('rollover sweep done', { ...result });
    // After the rollovers: a key rolled just now has its next rollover a cryptoperiod away, not a notice.
    await this.options.notices?.check(now);
    const destruction = await this.audited('destruction', keychain.dueDestructions(now, 1).length > 0, { destroyed: 0, failed: 0 }, (report, afterBatch) =>
      sweepDueDestructions(keychain, now, {
        onDestroyed: (instance) => {
          log.info('destroyed', { instance, reason: 'scheduled destruction' });
          report(this.options.onInstanceChanged?.({ type: 'destroyed', instance }));
        },
        onFailed: (instanceId, error) => log.error('scheduled destruction failed', { instanceId, code: error.code, message: error.message }),
        yieldBetweenBatches: async () => {
          await afterBatch();
          await yieldToEventLoop();
        },
        mayAct,
        recordWithin: this.instancesWithin('destroyed'),
      }),
    );
    if (destruction.destroyed + destruction.failed > 0) log.info('destruction sweep done', { ...destruction });
    if (retentionMs !== null) {
      // Schedules (cancellable) destruction of instances whose retention after deactivation is over.
      const cutoff = now - retentionMs;
      await this.audited('retention', keychain.retentionExpired(cutoff, 1).length > 0, { scheduled: 0, failed: 0 }, (report, afterBatch) =>
        sweepExpiredRetention(keychain, cutoff, now + destructionWaitMs, {
          onScheduled: (scheduled) => {
            log.info('retention over: destruction scheduled', { instance: scheduled.name, at: scheduled.destroyAt });
            report(this.options.onInstanceChanged?.({ type: 'destruction-scheduled', instance: scheduled.name }));
          },
          onFailed: (instanceId, err) => log.error('retention expiry failed', { instanceId, error: String(err) }),
          afterBatch,
          mayAct,
          recordWithin: this.instancesWithin('destruction-scheduled'),
        }),
      );
    }
    const stops = await this.audited('process-stop', keychain.dueProcessStops(now, 1).length > 0, { deactivated: 0, failed: 0 }, (report, afterBatch) =>
      sweepDueProcessStops(keychain, now, {
        onDeactivated: (instance) => {
          log.info('deactivated', { instance, reason: 'process-stop date reached' });
          report(this.options.onInstanceChanged?.({ type: 'deactivated', instance }));
        },
        onFailed: (instanceId, error) => log.error('process-stop deactivation failed', { instanceId, code: error.code, message: error.message }),
        afterBatch,
        mayAct,
        recordWithin: this.instancesWithin('deactivated'),
      }),
    );
    if (stops.deactivated + stops.failed > 0) log.info('usage-period sweep done', { ...stops });
    if (this.options.idempotencyRetentionMs !== undefined) {
      const deleted = await sweepIdempotencyRecords(keychain, now, this.options.idempotencyRetentionMs, yieldToEventLoop);
      if (deleted > 0) log.info('idempotency records past their retention deleted', { deleted });
    }
    return result;
  }

  /** recordWithin for a sweep over instances: each name its change of `type`. */
  private instancesWithin(type: InstanceChange['type']): ((names: readonly string[]) => () => void) | undefined {
    const record = this.options.recordWithin;
    return record === undefined ? undefined : (names) => record(names.map((instance) => ({ type, instance })));
  }

  /** Another node's lease is valid now; a lease that fails authentication counts as not ours (fail closed), and is logged. */
  private ledByAnother(): boolean {
    const { lease, log } = this.options;
    if (lease === undefined) return false;
    try {
      return lease.heldByAnother();
    } catch (err) {
      log.error("scheduled sweeps stopped: the scheduler's lease could not be read", { code: (err as { code?: string }).code ?? 'INTERNAL_ERROR', message: String((err as Error).message) });
      return true;
    }
  }

  /** Inside a batch's transaction: takes or renews the lease; false when another node holds it. */
  private claimLease(): boolean {
    const takeovers = this.options.leaseTakeovers;
    const held = this.options.lease!.claim(takeovers === undefined ? undefined : this.announced);
    if (held === null) return false;
    if (takeovers !== undefined && this.announced !== null && held.epoch === this.announced.epoch + 1) this.claimedTakeover = { from: this.announced, held };
    if (held.epoch !== this.actingEpoch) this.options.log.info("scheduler's lease taken", { node: held.holder, epoch: held.epoch, expiresAt: held.expiresAt });
    this.actingEpoch = held.epoch;
    return true;
  }

  /** Before a sweep acts: the takeover its batch would make, durable in the trail first (once per lease taken over). */
  private async announceTakeover(): Promise<void> {
    const { lease, leaseTakeovers } = this.options;
    if (lease === undefined || leaseTakeovers === undefined) return;
    const from = lease.expiredLeaseOfAnother();
    if (from === null || (this.announced !== null && this.announced.holder === from.holder && this.announced.epoch === from.epoch)) return;
    await leaseTakeovers.announce(from);
    this.announced = from;
  }

  /**
   * After a batch: if it took the lease over, whether its commit kept it is
   * read back (the lease row holds this node at that epoch), and only then
   * is the takeover told. A read that fails leaves the announcement
   * standing: the next batch, renewing that epoch, tells it then.
   */
  private confirmTakeover(report: (pending: Promise<void> | void) => void): void {
    const claimed = this.claimedTakeover;
    if (claimed === null) return;
    this.claimedTakeover = null;
    const stored = this.options.lease!.current();
    if (stored === null || stored.holder !== claimed.held.holder || stored.epoch !== claimed.held.epoch) return;
    this.announced = null;
    report(this.options.leaseTakeovers!.taken(claimed.from, claimed.held));
  }

  /**
   * One scheduled sweep, bound to the audit trail: when something is due, an
   * intent event durable before it acts, and each batch's events durable
   * before the next batch (the rollover sweep: before the batch after next,
   * rollover-scheduler.ts). When the trail cannot be written the sweep acts
   * on nothing more (the next check tries again), and answers `none`.
   */
  private async audited<R>(
    sweep: ScheduledSweep,
    due: boolean,
    none: R,
    run: (report: (pending: Promise<void> | void) => void, afterBatch: () => Promise<void>) => Promise<R>,
  ): Promise<R> {
    if (!due) return none;
    const recorded: Array<Promise<void>> = [];
    const report = (pending: Promise<void> | void): void => {
      if (pending) recorded.push(pending);
    };
    const afterBatch = async (): Promise<void> => {
      this.confirmTakeover(report);
      await Promise.all(recorded.splice(0));
    };
    try {
      await this.announceTakeover();
      await this.options.beforeSweep?.(sweep);
      const result = await run(report, afterBatch);
      await afterBatch();
      return result;
    } catch (err) {
      // The trail that could not record it, or a scheduler's lease that failed authentication: either way the sweep acts on nothing more.
      this.options.log.error(`scheduled ${sweep} sweep stopped`, { code: (err as { code?: string }).code ?? 'INTERNAL_ERROR', message: String((err as Error).message) });
      return none;
    }
  }
}

/** The changes a batch of scheduled rollovers made, as the trail's recorders take them. */
function rolloverChanges(rolled: readonly RolledKey[]): SweptChange[] {
  return rolled.map(({ key, instance }) => ({ type: 'rollover', key, instance }));
}
