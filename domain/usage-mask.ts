/**
 * Cryptographic usage masks, with the bit values of KMIP's Cryptographic Usage
 * Mask (KMIP 1.4 §9.1.3.3.1), so the future KMIP endpoint can pass them
 * through unchanged.
 */
import { ValidationError } from '../common/errors';
import type { AlgorithmFamily } from './algorithms';

export const USAGE_BITS = {
  sign: 0x1,
  verify: 0x2,
  encrypt: 0x4,
  decrypt: 0x8,
  'wrap-key': 0x10,
  'unwrap-key': 0x20,
  export: 0x40,
  'mac-generate': 0x80,
  'mac-verify': 0x100,
  'derive-key': 0x200,
} as const;

export type UsageName = keyof typeof USAGE_BITS;

const ALL_BITS = Object.values(USAGE_BITS).reduce((a, b) => a | b, 0);

/** Parses `encrypt,decrypt` (or a number) into a mask. */
export function parseUsageMask(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const value = Number(trimmed);
    if ((value & ~ALL_BITS) !== 0 || value === 0) throw new ValidationError(`usage mask ${value} has unknown or no bits`);
    return value;
  }
  let mask = 0;
  for (const part of trimmed.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean)) {
    if (!Object.prototype.hasOwnProperty.call(USAGE_BITS, part)) {
      throw new ValidationError(`unknown usage "${part}"; use a comma list of ${Object.keys(USAGE_BITS).join(', ')}`);
    }
    mask |= USAGE_BITS[part as UsageName];
  }
  if (mask === 0) throw new ValidationError('usage list is empty');
  return mask;
}

export function usageNames(mask: number): UsageName[] {
  return (Object.keys(USAGE_BITS) as UsageName[]).filter((name) => (mask & USAGE_BITS[name]) !== 0);
}

/** What each family's material can be used for: usage outside it is refused at create, not discovered at use. */
const FAMILY_USAGES: Readonly<Record<AlgorithmFamily, readonly UsageName[]>> = {
  aes: ['encrypt', 'decrypt', 'wrap-key', 'unwrap-key', 'export', 'derive-key'],
  hmac: ['mac-generate', 'mac-verify', 'export', 'derive-key'],
  secret: ['export', 'derive-key'],
  chacha: ['encrypt', 'decrypt', 'export'],
  // Kept, never used here: the mask is the owner's statement of what the object is for, which the appliance
  // records and reports; every use it names is refused here anyway (no operation takes these algorithms).
  stored: Object.keys(USAGE_BITS) as UsageName[],
};

export function checkUsageForFamily(mask: number, family: AlgorithmFamily): void {
  const wrong = usageNames(mask).filter((name) => !FAMILY_USAGES[family].includes(name));
  if (wrong.length > 0) {
    throw new ValidationError(`${family.toUpperCase()} keys cannot be used for ${wrong.join(', ')}; allowed: ${FAMILY_USAGES[family].join(', ')}`);
  }
}

/** The usage a new key gets when none is given, by algorithm family. */
export function defaultUsageMask(family: AlgorithmFamily): number {
  switch (family) {
    case 'aes':
      return USAGE_BITS.encrypt | USAGE_BITS.decrypt | USAGE_BITS['wrap-key'] | USAGE_BITS['unwrap-key'];
    case 'hmac':
      return USAGE_BITS['mac-generate'] | USAGE_BITS['mac-verify'];
    case 'secret':
    case 'stored':
      return USAGE_BITS.export;
    case 'chacha':
      return USAGE_BITS.encrypt | USAGE_BITS.decrypt;
  }
}
