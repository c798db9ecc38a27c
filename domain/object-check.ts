/**
 * Check (docs/protocol.md §6 `Check`; KMIP 2.1 §6.1.3, 1.4 §4.10): whether an
 * instance could be used as the caller intends, answered with what would
 * not do, without using it. Read from the key's and instance's
 * authenticated views: the answer is what the appliance would enforce.
 *
 * Each check is one entry of CHECKS, which looks at what was asked and
 * answers a failure or null; today the usage mask. Usage Limits (a count of
 * uses left) and Lease Time (how long the caller may use it) are KMIP's
 * other two: once the appliance keeps them, each is one more entry here and
 * one more optional argument of the native schema. Pure.
 */
import { InstanceView, KeyView } from './view-types';
import { parseUsageMask, usageNames } from './usage-mask';

/** What a caller asks of the instance (the native Check's arguments beyond the reference). */
export interface CheckAsked {
  /** Usage names (domain/usage-mask.ts) the caller intends: each must be in the key's usage mask. */
  readonly usage?: readonly string[];
}

/** One check that failed: which, and what would have passed. */
export type CheckFailure = {
  readonly check: 'usage';
  /** The usage asked that the key's mask does not allow. */
  readonly missing: readonly string[];
  /** What the key allows. */
  readonly allowed: readonly string[];
};

type Check = (asked: CheckAsked, key: KeyView, instance: InstanceView) => CheckFailure | null;

const CHECKS: readonly Check[] = [
  (asked, key) => {
    if (asked.usage === undefined || asked.usage.length === 0) return null;
    const wanted = parseUsageMask(asked.usage.join(','));
    const missing = usageNames(wanted & ~key.usageMask);
    return missing.length === 0 ? null : { check: 'usage', missing, allowed: usageNames(key.usageMask) };
  },
];

/** Every failed check, in CHECKS order; none: the instance may be used as asked. Unknown usage names are INVALID_ARGUMENT. */
export function checkObject(asked: CheckAsked, key: KeyView, instance: InstanceView): CheckFailure[] {
  return CHECKS.map((check) => check(asked, key, instance)).filter((failure): failure is CheckFailure => failure !== null);
}
