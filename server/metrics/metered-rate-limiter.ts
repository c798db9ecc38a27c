/**
 * The per-client rate limiter, counting its refusals for the metrics. A
 * refused request never reaches the dispatcher (it is refused before it is
 * decoded), so its outcome is counted here, where the refusal is decided;
 * each wire asks take() again only after a first success, so one refused
 * request counts once.
 */
import { Clock } from '../../common/clock';
import { RateLimiter } from '../../common/rate-limiter';

export class MeteredRateLimiter extends RateLimiter {
  constructor(clock: Clock, perSecond: number, burst: number, private readonly onRefused: () => void) {
    super(clock, perSecond, burst);
  }

  override take(client: string, cost = 1, alreadyPaid = 0): number {
    const waitMs = super.take(client, cost, alreadyPaid);
    if (waitMs > 0) this.onRefused();
    return waitMs;
  }
}
