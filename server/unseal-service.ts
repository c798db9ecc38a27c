/**
 * Split-knowledge unsealing at run time: custodians (officers) submit their
 * shares over the wire one at a time; at the threshold the shares are
 * combined, the keychain is unsealed with the HSM and that secret, and every
 * share and the secret are zeroed, whether it worked or not (a failed
 * attempt resets the progress: every custodian submits again).
 *
 * Shares live only here, in memory, as Uint8Arrays; never in a log, an
 * audit event or an error. A pending attempt is forgotten (and zeroed)
 * after PENDING_TTL_MS, so shares do not sit in memory for a custodian who
 * never comes; only an officer may reset it early. Submissions are rate
 * limited per client and over all clients, so guessing or flooding costs
 * time and is audited.
 *
 * Without shares configured (the demo and tests), the keychain unseals from
 * the HSM alone: `submit` without a share does that after a Seal.
 */
import { Clock } from '../common/clock';
import { KeychainError, StrongroomError, ValidationError } from '../common/errors';
import { wipe } from '../common/secret';
import { Keychain } from '../domain/keychain';
import { decodeShare, DecodedShare, SHARE_BYTES } from '../domain/unseal/share-codec';
import { combineShares } from '../domain/unseal/split-secret';
import { HsmPort } from '../hsm/hsm-port';
import { KeychainStore } from '../storage/keychain-store';
import { ClientIdentity } from './policy/identity';
import { RateLimiter } from './rate-limiter';

/** A pending attempt is zeroed this long after its first share (a ceremony takes minutes, not days). */
export const PENDING_TTL_MS = 15 * 60 * 1000;
/** Share submissions per client: a handful per minute is a custodian; more is a script guessing. */
export const SUBMISSIONS_PER_MINUTE_PER_CLIENT = 6;
/** Share submissions per minute over all clients: bounds the HSM unwraps failed attempts cost. */
export const SUBMISSIONS_PER_MINUTE_GLOBAL = 30;
const GLOBAL_BUCKET = '\u0000all';

export interface UnsealStatus {
  readonly sealed: boolean;
  /** 'hsm': the HSM alone unseals (PIN file or variable); 'hsm+shares': the HSM and `threshold` custodians. */
  readonly mode: 'hsm' | 'hsm+shares';
  readonly shares: number | null;
  readonly threshold: number | null;
  /** Shares held for the pending attempt (k of threshold). */
  readonly submitted: number;
  /** Custodian numbers of the shares held (not secret: printed beside each share). */
  readonly custodians: number[];
  /** When the pending attempt is forgotten (ISO), or null. */
  readonly pendingExpiresAt: string | null;
}

export interface UnsealEvents {
  /** A share was accepted, refused, or an attempt ended: for the audit trail (never the share). */
  readonly onEvent?: (event: { type: 'unseal-share' | 'unseal' | 'seal' | 'unseal-reset'; client: ClientIdentity; result: string; custom: Record<string, string> }) => void;
  readonly onUnsealed?: () => void;
  readonly onSealed?: () => void;
}

export class UnsealService {
  private pending: DecodedShare[] = [];
  private pendingSince: number | null = null;
  private expiry: NodeJS.Timeout | null = null;
  private attempt: Promise<void> | null = null;
  private readonly perClient: RateLimiter;
  private readonly global: RateLimiter;

  constructor(
    private readonly keychain: Keychain,
    private readonly store: KeychainStore,
    private readonly hsm: () => Promise<HsmPort>,
    private readonly clock: Clock,
    private readonly events: UnsealEvents = {},
  ) {
    this.perClient = new RateLimiter(clock, SUBMISSIONS_PER_MINUTE_PER_CLIENT / 60, SUBMISSIONS_PER_MINUTE_PER_CLIENT);
    this.global = new RateLimiter(clock, SUBMISSIONS_PER_MINUTE_GLOBAL / 60, SUBMISSIONS_PER_MINUTE_GLOBAL);
  }

  status(): UnsealStatus {
    this.expireIfDue();
    const policy = this.store.getUnsealPolicy();
    return {
      sealed: this.keychain.isSealed,
      mode: policy ? 'hsm+shares' : 'hsm',
      shares: policy?.shares ?? null,
      threshold: policy?.threshold ?? null,
      submitted: this.pending.length,
      custodians: this.pending.map((s) => s.custodian),
      pendingExpiresAt: this.pendingSince === null ? null : new Date(this.pendingSince + PENDING_TTL_MS).toISOString(),
    };
  }

  /**
   * Takes one share (text as printed by init) from `client`; at the
   * threshold, unseals. Without shares configured, `share` must be absent and
   * the HSM alone unseals.
   */
  async submit(client: ClientIdentity, share: string | undefined): Promise<UnsealStatus> {
    this.expireIfDue();
    if (!this.keychain.isSealed) throw new KeychainError('WRONG_STATE', 'the keychain is already unsealed');
    if (this.attempt !== null) throw new KeychainError('WRONG_STATE', 'an unseal attempt is running; ask for the status in a moment');
    this.rateLimit(client);
    const policy = this.store.getUnsealPolicy();
    if (policy === null) {
      if (share !== undefined) throw new KeychainError('WRONG_STATE', 'this keychain has no custodian shares: it unseals with the HSM alone (submit without a share)');
      await this.run(client, async () => this.keychain.unseal(await this.hsm()));
      return this.status();
    }
    if (share === undefined) throw new ValidationError(`this keychain needs ${policy.threshold} custodian shares: give one`, { details: { field: 'share' } });
    let decoded: DecodedShare;
    try {
      decoded = decodeShare(share);
    } catch (err) {
      this.record('unseal-share', client, (err as StrongroomError).code, {});
      throw err;
    }
    const x = decoded.bytes[SHARE_BYTES - 1];
    if (this.pending.some((held) => held.custodian === decoded.custodian || held.bytes[SHARE_BYTES - 1] === x)) {
      wipe(decoded.bytes);
      this.record('unseal-share', client, 'UNSEAL_SHARE_DUPLICATE', { custodian: String(decoded.custodian) });
      throw new KeychainError('UNSEAL_SHARE_DUPLICATE', `a share of custodian ${decoded.custodian} (or the same share) is already held for this attempt`, {
        details: { custodian: decoded.custodian, submitted: this.pending.length, threshold: policy.threshold },
      });
    }
    this.hold(decoded);
    this.record('unseal-share', client, 'ok', { custodian: String(decoded.custodian), submitted: String(this.pending.length), threshold: String(policy.threshold) });
    if (this.pending.length >= policy.threshold) {
      const shares = this.takePending();
      await this.run(client, async () => {
        let secret: Uint8Array | undefined;
        try {
          secret = await combineShares(shares.map((s) => s.bytes), policy.threshold);
          await this.keychain.unseal(await this.hsm(), secret);
        } finally {
          wipe(secret, ...shares.map((s) => s.bytes));
        }
      });
    }
    return this.status();
  }

  /** Forgets (zeroes) the pending shares. Officers only: the operation checks. */
  reset(client: ClientIdentity): UnsealStatus {
    const dropped = this.pending.length;
    this.clearPending();
    this.record('unseal-reset', client, 'ok', { dropped: String(dropped) });
    return this.status();
  }

  /** Seals now: zeroes the keychain keys and any pending shares. A no-op when sealed. */
  seal(client: ClientIdentity): UnsealStatus {
    const wasSealed = this.keychain.isSealed;
    this.clearPending();
    this.keychain.seal();
    if (!wasSealed) {
      this.record('seal', client, 'ok', {});
      this.events.onSealed?.();
    }
    return this.status();
  }

  /** Zeroes what is held (server shutdown). */
  close(): void {
    this.clearPending();
  }

  private async run(client: ClientIdentity, unseal: () => Promise<void>): Promise<void> {
    this.attempt = unseal();
    try {
      await this.attempt;
      this.record('unseal', client, 'ok', {});
      this.events.onUnsealed?.();
    } catch (err) {
      this.record('unseal', client, err instanceof StrongroomError ? err.code : 'INTERNAL_ERROR', {});
      throw err;
    } finally {
      this.attempt = null;
    }
  }

  private rateLimit(client: ClientIdentity): void {
    const wait = Math.max(this.perClient.take(client.name), this.global.take(GLOBAL_BUCKET));
    if (wait > 0) {
      this.record('unseal-share', client, 'RATE_LIMITED', {});
      throw new KeychainError('RATE_LIMITED', `too many unseal submissions; retry in ${Math.ceil(wait / 1000)} s`, { details: { retryAfterMs: wait } });
    }
  }

  private hold(share: DecodedShare): void {
    if (this.pending.length === 0) {
      this.pendingSince = this.clock.nowMs();
      this.expiry = setTimeout(() => this.clearPending(), PENDING_TTL_MS);
      this.expiry.unref();
    }
    this.pending.push(share);
  }

  private takePending(): DecodedShare[] {
    const taken = this.pending;
    this.pending = [];
    this.stopExpiry();
    return taken;
  }

  private clearPending(): void {
    for (const share of this.takePending()) wipe(share.bytes);
  }

  private stopExpiry(): void {
    if (this.expiry !== null) clearTimeout(this.expiry);
    this.expiry = null;
    this.pendingSince = null;
  }

  /** The timer does it too; this covers a clock that moved faster than timers (tests). */
  private expireIfDue(): void {
    if (this.pendingSince !== null && this.clock.nowMs() - this.pendingSince >= PENDING_TTL_MS) this.clearPending();
  }

  private record(type: 'unseal-share' | 'unseal' | 'seal' | 'unseal-reset', client: ClientIdentity, result: string, custom: Record<string, string>): void {
    this.events.onEvent?.({ type, client, result, custom });
  }
}
