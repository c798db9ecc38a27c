/**
 * The limits of the unseal ceremony's wire operations (domain/unseal/unseal-service.ts):
 *
 * - share submissions: a per-client bucket, checked FIRST; only a request it
 *   lets through is charged to the global bucket. Charging both at once
 *   (as a max of two takes) let one officer who kept submitting drain the
 *   global bucket with requests its own limit already refused, and so lock
 *   every custodian out of the ceremony.
 * - resets of a pending attempt that hold other officers' shares: a few per
 *   client per window, so one officer cannot keep clearing the custodians'
 *   progress (withdrawing one's own share is never limited).
 * - the audit trail of refusals: the first few refusals of a client in a
 *   window are events; the rest are counted, and one event with the count
 *   is written when that client's window has passed (or at close), so a
 *   script hammering the ceremony cannot flood the trail.
 *
 * All time comes from the injected clock; the maps are keyed by officer
 * names (only officers reach these operations) and bounded by RateLimiter.
 */
import { Clock } from '../../common/clock';
import { KeychainError } from '../../common/errors';
import { RateLimiter } from '../../common/rate-limiter';

/** Share submissions per client: a handful per minute is a custodian; more is a script guessing. */
export const SUBMISSIONS_PER_MINUTE_PER_CLIENT = 6;
/** Share submissions per minute over all clients: bounds the HSM unwraps failed attempts cost. */
export const SUBMISSIONS_PER_MINUTE_GLOBAL = 30;
/** Resets of others' shares per client per RESET_WINDOW_MS: a mistake corrected, not a ceremony blocked. */
export const RESETS_OF_OTHERS_PER_WINDOW = 2;
export const RESET_WINDOW_MS = 15 * 60 * 1000;
/** Refusals of one client written to the audit trail per window; the rest are counted into one event. */
export const AUDITED_REFUSALS_PER_WINDOW = 3;
export const REFUSAL_WINDOW_MS = 60 * 1000;
/** Most clients whose refusals are being counted: officers only, but a bound all the same. */
const MAX_COUNTED_CLIENTS = 1_000;
const GLOBAL_BUCKET = '\u0000all';

interface RefusalWindow<W> {
  who: W;
  startedMs: number;
  recorded: number;
  suppressed: number;
}

/** What the caller writes: an event for this refusal (or not), and a summary of a closed window's suppressed ones. */
export interface RefusalAudit {
  readonly record: boolean;
  readonly suppressedBefore: number;
}

/** `W`: whatever the caller needs to write a summary event for a client later (its identity). */
export class UnsealThrottle<W> {
  private readonly perClient: RateLimiter;
  private readonly global: RateLimiter;
  private readonly resets: RateLimiter;
  private readonly refusals = new Map<string, RefusalWindow<W>>();

  constructor(private readonly clock: Clock) {
    this.perClient = new RateLimiter(clock, SUBMISSIONS_PER_MINUTE_PER_CLIENT / 60, SUBMISSIONS_PER_MINUTE_PER_CLIENT);
    this.global = new RateLimiter(clock, SUBMISSIONS_PER_MINUTE_GLOBAL / 60, SUBMISSIONS_PER_MINUTE_GLOBAL);
    this.resets = new RateLimiter(clock, RESETS_OF_OTHERS_PER_WINDOW / (RESET_WINDOW_MS / 1000), RESETS_OF_OTHERS_PER_WINDOW);
  }

  /** Throws RATE_LIMITED when `client` may not submit now; the global bucket is charged only past the client's own. */
  admitSubmission(client: string): void {
    const own = this.perClient.take(client);
    if (own > 0) throw rateLimited('too many unseal submissions from this certificate', own);
    const all = this.global.take(GLOBAL_BUCKET);
    if (all > 0) throw rateLimited('too many unseal submissions over all custodians', all);
  }

  /** Throws RATE_LIMITED when `client` has reset other officers' shares too often lately. */
  admitResetOfOthers(client: string): void {
    const wait = this.resets.take(client);
    if (wait > 0) throw rateLimited('too many resets of other custodians\' shares from this certificate', wait);
  }

  /** Decides whether this refusal of `client` is written, and hands over the count a closed window suppressed. */
  refusal(client: string, who: W): RefusalAudit {
    const now = this.clock.nowMs();
    let window = this.refusals.get(client);
    let suppressedBefore = 0;
    if (window !== undefined && now - window.startedMs >= REFUSAL_WINDOW_MS) {
      suppressedBefore = window.suppressed;
      window = undefined;
    }
    if (window === undefined) {
      if (this.refusals.size >= MAX_COUNTED_CLIENTS) this.refusals.delete(this.refusals.keys().next().value as string);
      window = { who, startedMs: now, recorded: 0, suppressed: 0 };
      this.refusals.set(client, window);
    }
    if (window.recorded < AUDITED_REFUSALS_PER_WINDOW) {
      window.recorded++;
      return { record: true, suppressedBefore };
    }
    window.suppressed++;
    return { record: false, suppressedBefore };
  }

  /** Every count not yet written (at close, or when asked), and forgets them. */
  drainSuppressed(): Array<{ who: W; suppressed: number }> {
    const out = [...this.refusals.values()].filter((w) => w.suppressed > 0).map((w) => ({ who: w.who, suppressed: w.suppressed }));
    this.refusals.clear();
    return out;
  }
}

function rateLimited(what: string, waitMs: number): KeychainError {
  return new KeychainError('RATE_LIMITED', `${what}; retry in ${Math.ceil(waitMs / 1000)} s`, { details: { retryAfterMs: waitMs } });
}
