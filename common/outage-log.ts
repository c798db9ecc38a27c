/**
 * The log of a recurring background job (a poll, a scheduled sweep) whose
 * store may be out for a while: a PostgreSQL failover makes every call fail
 * for Patroni's ttl and a promotion, and a job that runs every 250 ms would
 * otherwise write the same error forty times a second. The first failure of
 * an outage is logged as an error (with the code and message of the store),
 * the failures after it are not, and the first success after it is logged
 * once as its end, with how long it lasted.
 */
import { Clock } from './clock';
import { Logger } from './logger';

export class OutageLog {
  /** When the current outage's first failure was seen; null while the job works. */
  private failingSinceMs: number | null = null;
  private failures = 0;

  /** `job` names the work in both lines ("the change watch", "the scheduled sweeps"); `consequence` says what holds meanwhile. */
  constructor(private readonly log: Logger, private readonly clock: Clock, private readonly job: string, private readonly consequence: string) {}

  get failing(): boolean {
    return this.failingSinceMs !== null;
  }

  failed(err: unknown): void {
    this.failures++;
    if (this.failingSinceMs !== null) return;
    this.failingSinceMs = this.clock.nowMs();
    const { code, message } = err as { code?: unknown; message?: unknown };
    this.log.error(`${this.job} failed: ${this.consequence}; tried again at each turn, logged again when it works`, {
      code: typeof code === 'string' ? code : 'INTERNAL_ERROR',
      message: String(message ?? err),
    });
  }

  succeeded(): void {
    if (this.failingSinceMs === null) return;
    const outageMs = this.clock.nowMs() - this.failingSinceMs;
    this.log.info(`${this.job} works again`, { outageMs, failedTurns: this.failures });
    this.failingSinceMs = null;
    this.failures = 0;
  }
}
