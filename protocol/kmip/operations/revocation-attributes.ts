/**
 * The KMIP attributes of what Revoke recorded of an instance and of when it
 * was made (docs/kmip.md §3.5), from native GetAttributes' instance view:
 * - Revocation Reason: {Revocation Reason Code} of the reason Revoke was
 *   given (kept per instance since schema 15; none for an instance revoked
 *   before). No Revocation Message: Revoke refuses one (revoke.ts).
 * - Compromise Date: when Revoke marked it compromised.
 * - Compromise Occurrence Date: when the compromise occurred, as Revoke was
 *   told (else when it was revoked). For a Compromised instance revoked
 *   before schema 15 that is its deactivatedAt, which Revoke has always set
 *   to it.
 * - Deactivation Date is not reported when the appliance's deactivatedAt is
 *   that occurrence date: KMIP's Revoke with a compromise reason sets the
 *   Compromise Date, not the Deactivation Date (KMIP 1.4 §4.20), and a
 *   compromised instance is no longer deactivated on a schedule.
 * - Original Creation Date (1.2+): when the instance was made here. A key
 *   imported under dual control was made here too: the appliance does not
 *   know when its material was first created elsewhere, and says when it
 *   knows.
 * - Short Unique Identifier (2.x): the SHA-256 of the Unique Identifier
 *   (KMIP 2.1 §4.49), computed, never stored.
 * Pure.
 */
import { createHash } from 'node:crypto';
import type { InstanceView } from '../../../domain/view-types';
import { ProtocolVersion } from '../kmip-message';
import { TtlvNode } from '../ttlv';
import { bytesItem, enumItem, isoDateItem, structureItem } from './payload';
import { NATIVE_REASON } from './revoke';

export const REVOCATION_TAGS = ['CompromiseDate', 'CompromiseOccurrenceDate', 'OriginalCreationDate', 'RevocationReason', 'ShortUniqueIdentifier'] as const;
export type RevocationTag = (typeof REVOCATION_TAGS)[number];

/** Native reason → KMIP Revocation Reason Code name. */
const KMIP_REASON: ReadonlyMap<string, string> = new Map(Object.entries(NATIVE_REASON).map(([kmip, native]) => [native, kmip]));

const since = (version: ProtocolVersion, major: number, minor: number): boolean => version.major > major || (version.major === major && version.minor >= minor);

type RevocationFacts = Pick<InstanceView, 'name' | 'state' | 'createdAt' | 'deactivatedAt' | 'processStopAt' | 'revocationReason' | 'compromisedAt' | 'compromiseOccurredAt'>;

/** When the compromise occurred, or null (not compromised, or not known). */
function compromiseOccurrence(instance: RevocationFacts): string | null {
  if (instance.compromiseOccurredAt !== null) return instance.compromiseOccurredAt;
  return instance.state === 'Compromised' ? instance.deactivatedAt : null;
}

/**
 * KMIP Deactivation Date: the instance's deactivation, or when its recipient
 * usage period ends (processStopAt: it is Deactivated then) — neither when
 * deactivatedAt is the compromise occurrence date (see above).
 */
export function deactivationDateOf(instance: RevocationFacts): string | null {
  const occurred = compromiseOccurrence(instance);
  if (occurred !== null && (instance.deactivatedAt === occurred || instance.deactivatedAt === null)) return null;
  return instance.deactivatedAt ?? instance.processStopAt;
}

/** Each attribute's value (undefined: not reported) in the request's version. */
export function revocationAttributes(instance: RevocationFacts, version: ProtocolVersion): Record<RevocationTag, TtlvNode | undefined> {
  const occurred = compromiseOccurrence(instance);
  const code = instance.revocationReason === null ? undefined : KMIP_REASON.get(instance.revocationReason);
  return {
    CompromiseDate: instance.compromisedAt === null ? undefined : isoDateItem('CompromiseDate', instance.compromisedAt),
    CompromiseOccurrenceDate: occurred === null ? undefined : isoDateItem('CompromiseOccurrenceDate', occurred),
    OriginalCreationDate: since(version, 1, 2) ? isoDateItem('OriginalCreationDate', instance.createdAt) : undefined,
    RevocationReason: code === undefined ? undefined : structureItem('RevocationReason', [enumItem('RevocationReasonCode', code)]),
    ShortUniqueIdentifier: version.major >= 2 ? bytesItem('ShortUniqueIdentifier', createHash('sha256').update(instance.name, 'utf8').digest()) : undefined,
  };
}
