/**
 * Check (docs/protocol.md §6 `Check`; KMIP 2.1 §6.1.3, 1.4 §4.10): whether an
 * instance could be used as the caller intends, answered with what would
 * not do, without using it. Read from the key's and instance's
 * authenticated views: the answer is what the appliance would enforce.
 *
 * Each check is one entry of CHECKS, which looks at what was asked and
 * answers a failure or null: the usage mask; the usage limit (uses left of
 * an instance's budget, domain/usage-limits.ts); the lease (how long the
 * caller may keep served material: LEASE_SECONDS). Pure: the budget's state
 * is read by the caller.
 */
import { InstanceView, KeyView } from './view-types';
import { parseUsageMask, usageNames } from './usage-mask';
import type { UsageState } from './usage-limits';
import { LEASE_SECONDS } from './keys/material-facts';

/** What a caller asks of the instance (the native Check's arguments beyond the reference). */
export interface CheckAsked {
  /** Usage names (domain/usage-mask.ts) the caller intends: each must be in the key's usage mask. */
  readonly usage?: readonly string[];
  /** Uses (bytes or operations, in the limit's unit) the caller intends: at most what remains of the instance's usage limit, if it has one. */
  readonly usageLimitCount?: number;
  /** Seconds the caller would keep served material: at most the appliance's lease. */
  readonly leaseSeconds?: number;
}

/** What a check reads beside the views: the instance's budget as it stands (undefined: none). */
export interface CheckState {
  readonly usage?: UsageState;
}

/** One check that failed: which, and what would have passed. */
export type CheckFailure =
  | {
      readonly check: 'usage';
      /** The usage asked that the key's mask does not allow. */
      readonly missing: readonly string[];
      /** What the key allows. */
      readonly allowed: readonly string[];
    }
  | { readonly check: 'usage-limit'; readonly asked: number; readonly remaining: number; readonly unit: UsageState['unit'] }
  | { readonly check: 'lease'; readonly asked: number; readonly leaseSeconds: number };

type Check = (asked: CheckAsked, key: KeyView, instance: InstanceView, state: CheckState) => CheckFailure | null;

const CHECKS: readonly Check[] = [
  (asked, key) => {
    if (asked.usage === undefined || asked.usage.length === 0) return null;
    const wanted = parseUsageMask(asked.usage.join(','));
    const missing = usageNames(wanted & ~key.usageMask);
    return missing.length === 0 ? null : { check: 'usage', missing, allowed: usageNames(key.usageMask) };
  },
  // An instance without a usage limit has no count to run out of.
  (asked, _key, _instance, state) => {
    const usage = state.usage;
    if (asked.usageLimitCount === undefined || usage === undefined || asked.usageLimitCount <= usage.remaining) return null;
    return { check: 'usage-limit', asked: asked.usageLimitCount, remaining: usage.remaining, unit: usage.unit };
  },
  (asked) => (asked.leaseSeconds === undefined || asked.leaseSeconds <= LEASE_SECONDS ? null : { check: 'lease', asked: asked.leaseSeconds, leaseSeconds: LEASE_SECONDS }),
];

/** Every failed check, in CHECKS order; none: the instance may be used as asked. Unknown usage names are INVALID_ARGUMENT. */
export function checkObject(asked: CheckAsked, key: KeyView, instance: InstanceView, state: CheckState = {}): CheckFailure[] {
  return CHECKS.map((check) => check(asked, key, instance, state)).filter((failure): failure is CheckFailure => failure !== null);
}
