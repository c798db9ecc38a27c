/**
 * The per-instance AES-GCM invocation marks as the appliance may trust them
 * (storage/invocation-store.ts underneath): each mark carries a row MAC over
 * the instance id and the count, checked before it is used or raised, and
 * the row is journaled into the trust set-hash like every authenticated row.
 * A mark lowered in the file, or copied from another instance, is
 * INTEGRITY_FAILURE instead of buying an instance's random IVs a second
 * budget. Protect operations run only unsealed; a sealed keychain reads and
 * writes no mark (SEALED).
 */
import { KeychainError } from '../../common/errors';
import { InvocationMark, InvocationStore } from '../../storage/invocation-store';
import { InvocationCounts } from '../gcm-invocations';
import { UsageCounts } from '../usage-limits';
import { assertRowMac, invocationRowMac } from './authorisation-row-macs';
import { TrustKeys } from './trust-keys';

export class AuthenticatedInvocations implements InvocationCounts, UsageCounts {
  constructor(private readonly raw: InvocationStore, private readonly keys: () => TrustKeys | null) {}

  private require(): TrustKeys {
    const keys = this.keys();
    if (keys === null) throw new KeychainError('SEALED', 'the keychain is sealed: invocation counts cannot be read or changed; unseal it (strongroom unseal), then try again');
    return keys;
  }

  private verified(keys: TrustKeys, instanceId: string, mark: InvocationMark | null): number {
    if (mark === null) return 0;
    assertRowMac(invocationRowMac(keys, instanceId, mark.reserved), mark.rowMac, `invocation count of instance ${instanceId}`);
    return mark.reserved;
  }

  invocationsReserved(instanceId: string): number {
    return this.verified(this.require(), instanceId, this.raw.readMark(instanceId));
  }

  reserveInvocations(instanceId: string, count: number): number {
    const keys = this.require();
    return this.raw.raiseMark(instanceId, (current) => {
      const reserved = this.verified(keys, instanceId, current) + count;
      return { reserved, rowMac: invocationRowMac(keys, instanceId, reserved) };
    });
  }

  /**
   * As reserveInvocations, but refused (`refuse()`, nothing written) when the
   * new mark would pass `ceiling`: the check reads the mark under the same
   * write lock that raises it, so two callers can never both fit a ceiling
   * only one fits (domain/usage-limits.ts).
   */
  reserveWithin(counterId: string, count: number, ceiling: number, refuse: () => Error): number {
    const keys = this.require();
    return this.raw.raiseMark(counterId, (current) => {
      const reserved = this.verified(keys, counterId, current) + count;
      if (reserved > ceiling) throw refuse();
      return { reserved, rowMac: invocationRowMac(keys, counterId, reserved) };
    });
  }
}
