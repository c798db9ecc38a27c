/**
 * The KMIP attributes that say how an object's material is served and kept
 * (docs/kmip.md §3.13), spelled from what native GetAttributes says
 * (domain/keys/material-facts.ts, the instance view): nothing is decided
 * here.
 * - Fresh (1.0+): the instance view's `fresh`: true until a Get first
 *   served its material (domain/keys/instance-freshness.ts).
 * - Lease Time (1.0+): the facts' `leaseSeconds`, an Interval.
 * - Key Format Type (2.x, an attribute there): the format the object's key
 *   block is served in by default, the one Create makes and the OASIS cases
 *   register in: Raw for a Symmetric Key, Opaque for Secret Data, a kept
 *   key's first format (kept-objects.ts); none for an object without a key
 *   block (Certificate, Opaque Object).
 * - Protection Storage Mask (2.x): the facts' `storage`; Software is the
 *   one bit the appliance can claim (material-facts.ts says why not
 *   Hardware).
 * Pure.
 */
import { ProtocolVersion } from '../kmip-message';
import { TtlvNode } from '../ttlv';
import type { ObjectView } from './attribute-views';
import { SERVED_FORMATS } from './key-objects';
import { KEPT_KEY_FORMATS } from './kept-objects';
import { booleanItem, enumItem, intervalItem, maskItem } from './payload';

export const SERVED_TAGS = ['Fresh', 'KeyFormatType', 'LeaseTime', 'ProtectionStorageMask'] as const;
export type ServedTag = (typeof SERVED_TAGS)[number];

const PROTECTION_STORAGE: Readonly<Record<'software', string>> = { software: 'Software' };

/** The Key Format Type an object of `algorithm` (of KMIP type `objectType`) is served in by default; undefined: no key block. */
export function defaultKeyFormat(algorithm: string, objectType: string): string | undefined {
  const kept = KEPT_KEY_FORMATS[algorithm];
  if (kept !== undefined) return kept[0];
  return objectType === 'SymmetricKey' || objectType === 'SecretData' ? SERVED_FORMATS[objectType][0] : undefined;
}

/** Each attribute's value (undefined: not reported) in the request's version. */
export function servedAttributes(object: ObjectView, objectType: string, version: ProtocolVersion): Record<ServedTag, TtlvNode | undefined> {
  const facts = object.material;
  const v2 = version.major >= 2;
  const format = v2 ? defaultKeyFormat(object.key.algorithm, objectType) : undefined;
  return {
    Fresh: booleanItem('Fresh', object.instance.fresh),
    KeyFormatType: format === undefined ? undefined : enumItem('KeyFormatType', format),
    LeaseTime: facts === undefined ? undefined : intervalItem('LeaseTime', facts.leaseSeconds),
    ProtectionStorageMask: facts === undefined || !v2 ? undefined : maskItem('ProtectionStorageMask', [PROTECTION_STORAGE[facts.storage]]),
  };
}
