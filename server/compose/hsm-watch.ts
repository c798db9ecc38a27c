/**
 * Watches the HSM while the server runs, and seals the appliance when the HSM
 * goes away (module failing, token removed, its folder unreadable) instead of
 * serving keys it can no longer vouch for.
 *
 * Why seal although the keychain key is already in memory: the HSM is the
 * root of the appliance's trust (it signs audit checkpoints and holds the
 * freshness anchor of the database rows). Without it nothing the server
 * decides from the untrusted database file can be anchored, and a token
 * pulled out of the machine is an operator's way of saying "stop". So the
 * watch drops the keychain key (keychain.seal(), which zeroes it) and every
 * request is refused SEALED with details.reason 'hsm-unavailable'.
 *
 * How it notices: a probe every HSM_CHECK_INTERVAL_MS on the injected timers
 * (C_GetTokenInfo, then the token's master-key versions), and at once when
 * a request fails with an HSM_* code (noticeFailure; tests call check()
 * directly: it is the code the timer runs).
 *
 * How it recovers: while the HSM is gone each probe closes the dead session
 * and opens a new one (a lost SoftHSM2 token stays broken on its old
 * session). When the token answers again, a keychain the HSM alone unseals
 * is unsealed again by the watch; one bound to custodian shares stays sealed
 * until the custodians submit their shares again (nothing else holds their
 * secret), and the status says so. A keychain sealed on request (Seal) is
 * never unsealed by the watch, whether before the HSM went or while it was
 * gone (test/security/32-seal-undone-by-hsm-return.test.ts), nor one an
 * integrity failure or a restore sealed meanwhile.
 */
import { Clock } from '../../common/clock';
import { Timer, Timers } from '../../common/timers';
import { Logger } from '../../common/logger';
import { AuditEvent } from '../../domain/audit/audit-event';
import { unsealAuditEvent } from '../../domain/unseal/unseal-audit';
import { HsmHealth, HsmHealthView, SealReason } from '../../domain/unseal/hsm-health';
import { HsmPort } from '../../hsm/hsm-port';
import { Appliance } from './open-appliance';

/** How often the HSM is probed: a removed token stops key service within this long. */
export const HSM_CHECK_INTERVAL_MS = 10_000;

export interface HsmWatchOptions {
  readonly appliance: Appliance;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly stamper: { clock: Clock; newId: () => string };
  /** Appends an event to the audit trail (resolves once durable). */
  readonly record: (event: AuditEvent) => Promise<void>;
  /** Run after the watch sealed / unsealed the keychain (the server's own hooks: rollover sweeps, approvals). */
  readonly onSealed?: () => void;
  readonly onUnsealed?: () => void;
}

function describe(err: unknown): string {
  const { code, details } = (err ?? {}) as { code?: unknown; details?: { ckr?: unknown } };
  const name = typeof code === 'string' ? code : 'HSM_ERROR';
  return typeof details?.ckr === 'string' ? `${name} (${details.ckr})` : name;
}

export class HsmWatch implements HsmHealthView {
  private timer: Timer | null = null;
  private running: Promise<void> | null = null;
  private lostAt: number | null = null;
  private lastError: string | null = null;
  /** The watch sealed an unsealed keychain: only then does it unseal it again. */
  private sealedByWatch = false;
  /** The keychain's seal generation right after the watch's own seal: any later seal (a Seal request, an integrity failure, a restore's hold) outranks the watch. */
  private watchSealGeneration = -1;
  private stopped = false;

  constructor(private readonly options: HsmWatchOptions) {}

  start(): void {
    this.timer ??= this.options.timers.every(HSM_CHECK_INTERVAL_MS, () => void this.check());
  }

  /** Stops probing and waits for a probe under way (the server closes the HSM session next). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }

  /** The reason the appliance is sealed, when the watch sealed it; else null. */
  sealReason(): SealReason | null {
    return this.lostAt !== null && this.options.appliance.keychain.isSealed ? 'hsm-unavailable' : null;
  }

  status(): HsmHealth {
    if (this.lostAt === null) return { state: 'ok', since: null, error: null, recovery: null };
    return {
      state: 'unavailable',
      since: new Date(this.lostAt).toISOString(),
      error: this.lastError,
      recovery: this.options.appliance.store.getUnsealPolicy() === null ? 'automatic' : 'custodians',
    };
  }

  /** An operation failed with an HSM_* code: probe now rather than at the next tick (the probe decides). */
  noticeFailure(): void {
    void this.check();
  }

  /** Resolves when the probe under way (if any) has finished; starts none. */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Probes the HSM once (one probe at a time: a second caller waits for the first). */
  check(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.probeOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async probeOnce(): Promise<void> {
    const { appliance } = this.options;
    if (this.lostAt !== null) await appliance.resetHsm(); // the old session died with the token
    let hsm: HsmPort;
    try {
      hsm = await appliance.hsm();
      await hsm.tokenInfo();
      if ((await hsm.listMasterKeyVersions()).length === 0) {
        throw Object.assign(new Error('no master key in the token'), { code: 'HSM_MASTER_KEY_MISSING' });
      }
    } catch (err) {
      // A probe cut short by the server's own shutdown closing the session is no loss of the HSM.
      if (this.stopped) return;
      this.lastError = describe(err);
      if (this.lostAt === null) await this.lost();
      return;
    }
    if (this.lostAt !== null && !this.stopped) await this.returned(hsm);
  }

  private async lost(): Promise<void> {
    const { appliance, clock, log } = this.options;
    this.lostAt = clock.nowMs();
    const wasUnsealed = !appliance.keychain.isSealed;
    this.sealedByWatch = wasUnsealed;
    appliance.keychain.seal();
    this.watchSealGeneration = appliance.keychain.sealGeneration;
    log.error('the HSM is unavailable: the appliance is sealed and serves no key until it returns', { error: this.lastError, wasUnsealed });
    if (wasUnsealed) this.options.onSealed?.();
    // The result is the code alone, as every event's; the CKR name goes beside it.
    const error = this.lastError ?? 'HSM_ERROR';
    await this.audit('seal', error.split(' ')[0], { reason: 'hsm-unavailable', error });
  }

  private async returned(hsm: HsmPort): Promise<void> {
    const { appliance, log } = this.options;
    const downSince = new Date(this.lostAt!).toISOString();
    this.lostAt = null;
    this.lastError = null;
    // Sealed again while the HSM was gone (an officer's Seal changes nothing visible then): that seal stands.
    if (this.sealedByWatch && appliance.keychain.sealGeneration !== this.watchSealGeneration) this.sealedByWatch = false;
    if (!this.sealedByWatch) {
      log.info('the HSM is back; the keychain was sealed before it went, or while it was gone, and stays sealed', { downSince });
      await this.audit('hsm-returned', 'ok', { reason: 'hsm-returned', downSince, recovery: 'none' });
      return;
    }
    if (appliance.store.getUnsealPolicy() !== null) {
      this.sealedByWatch = false;
      log.warn('the HSM is back; the keychain stays sealed until the custodians unseal it (strongroom unseal)', { downSince });
      await this.audit('hsm-returned', 'ok', { reason: 'hsm-returned', downSince, recovery: 'custodians' });
      return;
    }
    try {
      await appliance.keychain.unseal(hsm);
    } catch (err) {
      this.lastError = describe(err);
      this.lostAt = this.options.clock.nowMs();
      log.error('the HSM answers again but the keychain did not unseal: still sealed', { error: this.lastError });
      return;
    }
    this.sealedByWatch = false;
    log.info('the HSM is back: the keychain is unsealed again', { downSince });
    this.options.onUnsealed?.();
    await this.audit('unseal', 'ok', { reason: 'hsm-returned', downSince });
  }

  /** The seal and the return are recorded; a trail that cannot take them is logged (the seal itself must not wait on it). */
  private async audit(type: string, result: string, custom: Record<string, string>): Promise<void> {
    try {
      await this.options.record(unsealAuditEvent(this.options.stamper, type, null, result, custom));
    } catch (err) {
      this.options.log.error('audit event not written', { type, error: String(err) });
    }
  }
}
