/**
 * Check's rules (domain/object-check.ts): no failure when every usage asked
 * is in the key's mask, or nothing is asked; otherwise one `usage` failure
 * naming what is missing and what the key allows; an unknown usage name is
 * INVALID_ARGUMENT, not a failure. A usage-limit count passes when no
 * more than what remains is asked (or the instance has no limit); a lease
 * passes up to the appliance's.
 */
import { checkObject } from '../../domain/object-check';
import { USAGE_BITS } from '../../domain/usage-mask';
import { InstanceView, KeyView } from '../../domain/view-types';
import { codeOf } from '../support/error-code';

const key = { fullName: 'u/k', usageMask: USAGE_BITS.encrypt | USAGE_BITS['wrap-key'] } as KeyView;
const instance = { name: 'i-1', state: 'Active' } as InstanceView;

describe('Check', () => {
  it('passes what the mask allows, and when nothing is asked', () => {
    expect(checkObject({ usage: ['encrypt', 'wrap-key'] }, key, instance)).toEqual([]);
    expect(checkObject({}, key, instance)).toEqual([]);
    expect(checkObject({ usage: [] }, key, instance)).toEqual([]);
  });

  it('fails a usage outside the mask, naming every missing usage and what the key allows', () => {
    expect(checkObject({ usage: ['encrypt', 'decrypt', 'mac-generate'] }, key, instance)).toEqual([
      { check: 'usage', missing: ['decrypt', 'mac-generate'], allowed: ['encrypt', 'wrap-key'] },
    ]);
  });

  it('refuses a usage name it does not know', () => {
    expect(codeOf(() => checkObject({ usage: ['teleport'] }, key, instance))).toBe('INVALID_ARGUMENT');
  });

  it('fails a usage-limit count above what remains, and passes any count on an instance without a limit', () => {
    const usage = { total: 20, unit: 'byte' as const, used: 15, remaining: 5 };
    expect(checkObject({ usageLimitCount: 5 }, key, instance, { usage })).toEqual([]);
    expect(checkObject({ usageLimitCount: 6 }, key, instance, { usage })).toEqual([{ check: 'usage-limit', asked: 6, remaining: 5, unit: 'byte' }]);
    expect(checkObject({ usageLimitCount: 1_000_000 }, key, instance, {})).toEqual([]);
  });

  it('fails a lease longer than the appliance grants, and reports every failure at once', () => {
    expect(checkObject({ leaseSeconds: 3600 }, key, instance)).toEqual([]);
    expect(checkObject({ leaseSeconds: 3601, usage: ['decrypt'] }, key, instance)).toEqual([
      { check: 'usage', missing: ['decrypt'], allowed: ['encrypt', 'wrap-key'] },
      { check: 'lease', asked: 3601, leaseSeconds: 3600 },
    ]);
  });
});
