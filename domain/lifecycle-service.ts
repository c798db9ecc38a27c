/**
 * Lifecycle operations on instances, after KMIP 1.4 §4.19–4.21 (Activate,
 * Revoke, Destroy): the transitions come from domain/instance-states.ts and
 * the dates from the injected clock. The full lifecycle (usage periods,
 * scheduled destruction) builds on this.
 */
import { Clock, isoNow } from '../common/clock';
import { KeychainError, ValidationError } from '../common/errors';
import { REVOCATION_REASONS } from '../protocol/op-schemas';
import { ActivationRecord, Keychain, KeyRef } from './keychain';
import { InstanceView } from './views';

/** KMIP Revocation Reason Codes: the wire's vocabulary (protocol/op-schemas.ts). */
export { REVOCATION_REASONS };
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export class LifecycleService {
  constructor(private readonly keychain: Keychain, private readonly clock: Clock) {}

  /** `capture` receives what the activation changed, for a KMIP batch's undo (undoActivation). */
  activate(ref: KeyRef, capture?: (record: ActivationRecord) => void): InstanceView {
    return this.keychain.transitionInstance(ref, 'Active', { activatedAt: isoNow(this.clock) }, false, capture);
  }

  /** Reverses an activation captured by `activate` in this process; WRONG_STATE (and nothing changed) if its rows changed since. */
  undoActivation(record: ActivationRecord): InstanceView {
    return this.keychain.undoActivation(record);
  }

  /** Compromise reasons make the instance Compromised; any other reason Deactivates it. */
  revoke(ref: KeyRef, reason: RevocationReason, compromiseDate?: string): InstanceView {
    if (!REVOCATION_REASONS.includes(reason)) throw new ValidationError(`unknown revocation reason "${reason}"; use one of ${REVOCATION_REASONS.join(', ')}`);
    const now = isoNow(this.clock);
    if (reason === 'keyCompromise' || reason === 'caCompromise') {
      if (compromiseDate !== undefined && Number.isNaN(Date.parse(compromiseDate))) throw new ValidationError('compromiseDate is not an ISO 8601 date');
      // Compromise Date (compromisedAt) is when it was found; the occurrence date is the one given, else now.
      const compromised = { revocationReason: reason, compromisedAt: now, compromiseOccurredAt: compromiseDate ?? now };
      if (this.keychain.describeInstance(ref).state === 'Destroyed') return this.keychain.transitionInstance(ref, 'DestroyedCompromised', compromised);
      return this.keychain.transitionInstance(ref, 'Compromised', { deactivatedAt: compromiseDate ?? now, ...compromised });
    }
    return this.keychain.transitionInstance(ref, 'Deactivated', { deactivatedAt: now, revocationReason: reason });
  }

  /**
   * Schedules the destruction of an instance `waitMs` from now (SP 800-57's
   * destroy after a grace period); 0 destroys at once. The instance refuses
   * use while the destruction is pending; cancelDestruction undoes it.
   */
  scheduleDestruction(ref: KeyRef, waitMs: number): InstanceView {
    if (waitMs <= 0) return this.destroy(ref);
    return this.keychain.scheduleDestruction(ref, new Date(this.clock.nowMs() + waitMs).toISOString());
  }

  cancelDestruction(ref: KeyRef): InstanceView {
    return this.keychain.scheduleDestruction(ref, null);
  }

  /** Destroys the material (zeroed, then removed from the keychain); the metadata stays. */
  destroy(ref: KeyRef): InstanceView {
    const now = isoNow(this.clock);
    const current = this.keychain.describeInstance(ref);
    if (current.state === 'Active') {
      throw new KeychainError('WRONG_STATE', `instance ${current.name} is Active: revoke (deactivate) it before destroying it`);
    }
    const to = current.state === 'Compromised' ? 'DestroyedCompromised' : 'Destroyed';
    return this.keychain.transitionInstance(ref, to, { destroyedAt: now, destroyAt: null }, true);
  }
}
