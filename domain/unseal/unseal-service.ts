/**
 * Split-knowledge unsealing at run time: custodians (officers) submit their
 * shares over the wire one at a time; at the threshold the shares are
 * combined, the keychain is unsealed with the HSM and that secret, and every
 * share and the secret are zeroed, whether it worked or not (a failed
 * attempt resets the progress: every custodian submits again).
 *
 * A ceremony one officer cannot sabotage:
 * - each share is checked on its own at submission against the commitment
 *   init stored for its custodian number (domain/unseal/share-commitments.ts):
 *   a forged share is refused (UNSEAL_SHARE_INVALID) and never held, so it
 *   cannot block the genuine custodian as a "duplicate" nor fail the attempt;
 * - the shares of one attempt come from distinct certificates: one officer
 *   holding several shares still cannot submit them all alone;
 * - an officer may always withdraw the shares they submitted; clearing
 *   other officers' shares (UnsealReset) is rate limited and audited;
 * - submissions are rate limited per client first, then over all clients
 *   (domain/unseal/unseal-throttle.ts), and refusals beyond a few per window are
 *   counted rather than each written to the trail.
 *
 * Shares live only here, in memory, as Uint8Arrays; never in a log, an
 * audit event or an error. A pending attempt is forgotten (and zeroed)
 * after PENDING_TTL_MS, so shares do not sit in memory for a custodian who
 * never comes.
 *
 * Without shares configured (the demo and tests), the keychain unseals from
 * the HSM alone: `submit` without a share does that after a Seal.
 */
import { Clock } from '../../common/clock';
import { Timer, Timers } from '../../common/timers';
import { KeychainError, StrongroomError, ValidationError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { Keychain } from '../keychain';
import { decodeShare, DecodedShare, SHARE_BYTES } from './share-codec';
import { loadShareCommitments, matchesCommitment, SHARE_COMMITMENTS_NAME, ShareCommitments } from './share-commitments';
import { combineShares } from './split-secret';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainRootStore } from '../../storage/keychain-root-store';
import { ClientIdentity } from '../policy/identity';
import { UnsealThrottle } from './unseal-throttle';
import type { PublicUnsealStatus, UnsealStatus } from './unseal-status';

export type { PublicUnsealStatus, UnsealStatus } from './unseal-status';

export { SUBMISSIONS_PER_MINUTE_GLOBAL, SUBMISSIONS_PER_MINUTE_PER_CLIENT } from './unseal-throttle';

/** A pending attempt is zeroed this long after its first share (a ceremony takes minutes, not days). */
export const PENDING_TTL_MS = 15 * 60 * 1000;



type UnsealEventType = 'unseal-share' | 'unseal' | 'seal' | 'unseal-reset' | 'unseal-refusals-suppressed';

export interface UnsealEvents {
  /** A share was accepted, refused, or an attempt ended: for the audit trail (never the share). */
  readonly onEvent?: (event: { type: UnsealEventType; client: ClientIdentity; result: string; custom: Record<string, string> }) => Promise<void> | void;
  readonly onUnsealed?: () => void;
  readonly onSealed?: () => void;
}

interface HeldShare {
  readonly share: DecodedShare;
  /** The client name that submitted it: the only one that may withdraw it. */
  readonly submitter: string;
}

export class UnsealService {
  private pending: HeldShare[] = [];
  /** Audit events recorded and not yet handed to a caller (takeAudits). */
  private audits: Array<Promise<void>> = [];
  private pendingSince: number | null = null;
  private expiry: Timer | null = null;
  private attempt: Promise<void> | null = null;
  /** Loaded once from the HSM-sealed store (they never change); undefined until then, null for a keychain without them. */
  private commitments: ShareCommitments | null | undefined = undefined;
  private readonly throttle: UnsealThrottle<ClientIdentity>;

  constructor(
    private readonly keychain: Keychain,
    private readonly store: KeychainRootStore,
    private readonly hsm: () => Promise<HsmPort>,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly events: UnsealEvents = {},
  ) {
    this.throttle = new UnsealThrottle(clock);
  }

  /** The full progress (officers, auditors, Query). */
  status(): UnsealStatus {
    this.expireIfDue();
    const policy = this.store.getUnsealPolicy();
    return {
      sealed: this.keychain.isSealed,
      mode: policy ? 'hsm+shares' : 'hsm',
      shares: policy?.shares ?? null,
      threshold: policy?.threshold ?? null,
      shareCheck: policy ? (this.store.getHsmSealedSecret(SHARE_COMMITMENTS_NAME) !== null ? 'each-share' : 'at-threshold') : null,
      submitted: this.pending.length,
      custodians: this.pending.map((held) => held.share.custodian),
      pendingExpiresAt: this.pendingSince === null ? null : new Date(this.pendingSince + PENDING_TTL_MS).toISOString(),
    };
  }

  /** The status as `viewer` may see it: an app learns only sealed or not (who has submitted is the ceremony's business). */
  statusFor(viewer: ClientIdentity): UnsealStatus | PublicUnsealStatus {
    const status = this.status();
    return viewer.role === 'app' ? { sealed: status.sealed } : status;
  }

  /**
   * Takes one share (text as printed by init) from `client`; at the
   * threshold, unseals. Without shares configured, `share` must be absent and
   * the HSM alone unseals.
   */
  async submit(client: ClientIdentity, share: string | undefined): Promise<UnsealStatus> {
    this.expireIfDue();
    this.assertCanSubmit();
    try {
      this.throttle.admitSubmission(client.name);
    } catch (err) {
      throw this.refused(client, err as StrongroomError, {});
    }
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
      throw this.refused(client, err as StrongroomError, {});
    }
    try {
      await this.checkCommitment(client, decoded, policy.shares);
      // The HSM call above yielded: look again at what may have changed meanwhile.
      this.assertCanSubmit();
      this.checkNotHeld(client, decoded, policy.threshold);
    } catch (err) {
      wipe(decoded.bytes);
      throw err;
    }
    this.hold({ share: decoded, submitter: client.name });
    this.record('unseal-share', client, 'ok', { custodian: String(decoded.custodian), submitted: String(this.pending.length), threshold: String(policy.threshold) });
    if (this.pending.length >= policy.threshold) {
      const shares = this.takePending().map((held) => held.share);
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

  /**
   * Forgets (zeroes) pending shares; officers only (the operation checks).
   * `own`: only the shares `client` submitted, always allowed (a custodian
   * withdrawing). Otherwise all of them: free when they are all the
   * caller's, rate limited (and audited with the count) when they include
   * other officers' shares.
   */
  reset(client: ClientIdentity, own = false): UnsealStatus {
    this.expireIfDue();
    const mine = this.pending.filter((held) => held.submitter === client.name);
    const others = this.pending.length - mine.length;
    if (own) {
      this.pending = this.pending.filter((held) => held.submitter !== client.name);
      for (const held of mine) wipe(held.share.bytes);
      if (this.pending.length === 0) this.stopExpiry();
      this.record('unseal-reset', client, 'ok', { scope: 'own', dropped: String(mine.length) });
      return this.status();
    }
    if (others > 0) {
      try {
        this.throttle.admitResetOfOthers(client.name);
      } catch (err) {
        throw this.refused(client, err as StrongroomError, { scope: 'all', others: String(others) }, 'unseal-reset');
      }
    }
    const dropped = this.pending.length;
    this.clearPending();
    this.record('unseal-reset', client, 'ok', { scope: 'all', dropped: String(dropped), others: String(others) });
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

  /** Zeroes what is held (server shutdown) and writes the refusal counts not yet written. */
  close(): void {
    this.clearPending();
    for (const { who, suppressed } of this.throttle.drainSuppressed()) this.record('unseal-refusals-suppressed', who, 'ok', { suppressed: String(suppressed) });
  }

  private assertCanSubmit(): void {
    if (!this.keychain.isSealed) throw new KeychainError('WRONG_STATE', 'the keychain is already unsealed');
    if (this.attempt !== null) throw new KeychainError('WRONG_STATE', 'an unseal attempt is running; ask for the status in a moment');
  }

  /** UNSEAL_SHARE_INVALID when the keychain has commitments and this share is not the one made for its custodian. */
  private async checkCommitment(client: ClientIdentity, share: DecodedShare, shares: number): Promise<void> {
    if (this.commitments === undefined) this.commitments = await loadShareCommitments(this.store, await this.hsm());
    const commitments = this.commitments;
    const meta = this.store.getMeta();
    if (commitments === null || meta === null) return;
    if (share.custodian > shares || !matchesCommitment(commitments, meta.keychainId, share)) {
      throw this.refused(
        client,
        new KeychainError('UNSEAL_SHARE_INVALID', `that is not custodian ${share.custodian}'s share of this keychain: it was not counted and nobody's progress was lost; submit the genuine share`, {
          details: { custodian: share.custodian, submitted: this.pending.length },
        }),
        { custodian: String(share.custodian) },
      );
    }
  }

  /** One share per certificate and per custodian (x coordinate) in an attempt. */
  private checkNotHeld(client: ClientIdentity, share: DecodedShare, threshold: number): void {
    if (this.pending.some((held) => held.submitter === client.name)) {
      throw this.refused(
        client,
        new KeychainError('UNSEAL_CLIENT_ALREADY_SUBMITTED', `"${client.name}" already submitted a share in this attempt: the next share comes from another custodian's certificate (or withdraw yours: strongroom unseal --withdraw)`, {
          details: { custodian: share.custodian, submitted: this.pending.length, threshold },
        }),
        { custodian: String(share.custodian) },
      );
    }
    const x = share.bytes[SHARE_BYTES - 1];
    if (this.pending.some((held) => held.share.custodian === share.custodian || held.share.bytes[SHARE_BYTES - 1] === x)) {
      throw this.refused(
        client,
        new KeychainError('UNSEAL_SHARE_DUPLICATE', `a share of custodian ${share.custodian} (or the same share) is already held for this attempt`, {
          details: { custodian: share.custodian, submitted: this.pending.length, threshold },
        }),
        { custodian: String(share.custodian) },
      );
    }
  }

  /** Records a refusal (the first few per window; the rest are counted) and gives the error back to throw. */
  private refused(client: ClientIdentity, err: StrongroomError, custom: Record<string, string>, type: UnsealEventType = 'unseal-share'): StrongroomError {
    const audit = this.throttle.refusal(client.name, client);
    if (audit.suppressedBefore > 0) this.record('unseal-refusals-suppressed', client, 'ok', { suppressed: String(audit.suppressedBefore) });
    if (audit.record) this.record(type, client, err.code, custom);
    return err;
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

  private hold(held: HeldShare): void {
    if (this.pending.length === 0) {
      this.pendingSince = this.clock.nowMs();
      this.expiry = this.timers.after(PENDING_TTL_MS, () => this.clearPending());
    }
    this.pending.push(held);
  }

  private takePending(): HeldShare[] {
    const taken = this.pending;
    this.pending = [];
    this.stopExpiry();
    return taken;
  }

  private clearPending(): void {
    for (const held of this.takePending()) wipe(held.share.bytes);
  }

  private stopExpiry(): void {
    this.expiry?.cancel();
    this.expiry = null;
    this.pendingSince = null;
  }

  /** The timer does it too; this covers a clock that moved faster than timers (tests). */
  private expireIfDue(): void {
    if (this.pendingSince !== null && this.clock.nowMs() - this.pendingSince >= PENDING_TTL_MS) this.clearPending();
  }

  private record(type: UnsealEventType, client: ClientIdentity, result: string, custom: Record<string, string>): void {
    const pending = this.events.onEvent?.({ type, client, result, custom });
    if (pending) this.audits.push(pending);
  }

  /**
   * The audit events recorded since the last call (a share taken, an unseal,
   * a seal), for the operation to wait on before it answers: the ceremony's
   * steps are reported done only once their events are durable.
   */
  takeAudits(): Array<Promise<void>> {
    const taken = this.audits;
    this.audits = [];
    return taken;
  }
}
