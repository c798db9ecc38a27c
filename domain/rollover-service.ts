/**
 * The server's rollover scheduler: sweeps once at start (catching up after
 * downtime) and then every check interval, rolling due keys in batches that
 * yield to the event loop so requests keep being answered. Before a key
 * rolls, a notice is logged once when it comes within the notice period
 * (an audit and live event once the audit trail exists). The same sweep
 * carries out scheduled destructions that are due.
 */
import { Clock } from '../common/clock';
import { Timer, Timers } from '../common/timers';
import { Keychain } from './keychain';
import { sweepDueDestructions } from './destruction-sweep';
import { sweepDueProcessStops } from './usage-period-sweep';
import { sweepDueRollovers, SweepResult } from './rollover-scheduler';
import { sweepExpiredRetention } from './retention-sweep';
import { Logger } from '../common/logger';

/** Most upcoming rollovers noticed per check: notices are a log line each. */
const MAX_NOTICES_PER_CHECK = 1000;

export interface RolloverServiceOptions {
  readonly keychain: Keychain;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly checkIntervalMs: number;
  readonly noticeMs: number;
  /** rollover_retention: replaced instances deactivated longer ago get their destruction scheduled; null keeps them. */
  readonly retentionMs: number | null;
  readonly destructionWaitMs: number;
  /**
   * Awaited before a sweep rolls anything (when a key is due): the audit
   * trail's intent. If it rejects, nothing is rolled (fail closed).
   */
  readonly beforeRollovers?: () => Promise<void>;
  /** Told of every scheduled rollover once committed (the audit trail); the sweep waits for each batch's events and stops if one cannot be written. */
  readonly onRolled?: (key: string, instance: string) => Promise<void> | void;
  /** Told once per upcoming rollover within the notice period (the live event stream). */
  readonly onNotice?: (key: string, dueAt: string) => void;
}

export class RolloverService {
  private timer: Timer | null = null;
  private running: Promise<SweepResult> | null = null;
  /** `keyId@due` already noticed, so each upcoming rollover is announced once per process. */
  private readonly noticed = new Set<string>();

  constructor(private readonly options: RolloverServiceOptions) {}

  start(): void {
    void this.sweep();
    this.timer = this.options.timers.every(this.options.checkIntervalMs, () => void this.sweep());
  }

  /** Runs a sweep now, or joins the one in progress. */
  sweep(): Promise<SweepResult> {
    this.running ??= this.runSweep().finally(() => {
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
    const { keychain, clock, log } = this.options;
    const now = clock.nowMs();
    this.notice(now);
    const result = await this.rollDue(now);
    if (result.rolled + result.failed > 0) log.info('rollover sweep done', { ...result });
    const destruction = await sweepDueDestructions(keychain, now, {
      onDestroyed: (instance) => log.info('destroyed', { instance, reason: 'scheduled destruction' }),
      onFailed: (instanceId, error) => log.error('scheduled destruction failed', { instanceId, code: error.code, message: error.message }),
    });
    if (destruction.destroyed + destruction.failed > 0) log.info('destruction sweep done', { ...destruction });
    await this.expireRetention(now);
    const stops = await sweepDueProcessStops(keychain, now, {
      onDeactivated: (instance) => log.info('deactivated', { instance, reason: 'process-stop date reached' }),
      onFailed: (instanceId, error) => log.error('process-stop deactivation failed', { instanceId, code: error.code, message: error.message }),
    });
    if (stops.deactivated + stops.failed > 0) log.info('usage-period sweep done', { ...stops });
    return result;
  }

  /**
   * The due rollovers, bound to the audit trail: an intent event durable
   * before the first, each batch's rollover events durable before the next
   * batch. When the trail cannot be written the sweep rolls nothing more
   * (the next check tries again).
   */
  private async rollDue(now: number): Promise<SweepResult> {
    const { keychain, log } = this.options;
    if (keychain.dueKeys(now, 1).length === 0) return { rolled: 0, failed: 0, batches: 0 };
    const recorded: Array<Promise<void>> = [];
    const batchRecorded = async (): Promise<void> => {
      await Promise.all(recorded.splice(0));
    };
    try {
      await this.options.beforeRollovers?.();
      const result = await sweepDueRollovers(keychain, now, {
        onRolled: (name, instance) => {
          log.info('rolled over', { key: name, instance, reason: 'cryptoperiod' });
          const pending = this.options.onRolled?.(name, instance);
          if (pending) recorded.push(pending);
        },
        onFailed: (keyId, error) => log.error('scheduled rollover failed', { keyId, code: error.code, message: error.message }),
        afterBatch: batchRecorded,
      });
      await batchRecorded();
      return result;
    } catch (err) {
      log.error('scheduled rollovers stopped: the audit trail could not record them', { code: (err as { code?: string }).code ?? 'INTERNAL_ERROR' });
      return { rolled: 0, failed: 0, batches: 0 };
    }
  }

  /** Schedules (cancellable) destruction of instances whose retention after deactivation is over, in yielding batches. */
  private async expireRetention(now: number): Promise<void> {
    const { keychain, log, retentionMs, destructionWaitMs } = this.options;
    if (retentionMs === null) return;
    await sweepExpiredRetention(keychain, now - retentionMs, now + destructionWaitMs, {
      onScheduled: (scheduled) => log.info('retention over: destruction scheduled', { instance: scheduled.name, at: scheduled.destroyAt }),
      onFailed: (instanceId, err) => log.error('retention expiry failed', { instanceId, error: String(err) }),
    });
  }

  private notice(now: number): void {
    const { keychain, log, noticeMs } = this.options;
    if (noticeMs <= 0) return;
    for (const due of keychain.dueKeys(now + noticeMs, MAX_NOTICES_PER_CHECK)) {
      const tag = `${due.keyId}@${due.nextRolloverAt}`;
      if (this.noticed.has(tag) || Date.parse(due.nextRolloverAt) <= now) continue;
      this.noticed.add(tag);
      const key = keychain.keyNameById(due.keyId);
      log.info('rollover coming', { key, at: due.nextRolloverAt });
      this.options.onNotice?.(key, due.nextRolloverAt);
    }
  }
}
