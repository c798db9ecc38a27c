/**
 * Check's rules (domain/object-check.ts): no failure when every usage asked
 * is in the key's mask, or nothing is asked; otherwise one `usage` failure
 * naming what is missing and what the key allows; an unknown usage name is
 * INVALID_ARGUMENT, not a failure.
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
});
