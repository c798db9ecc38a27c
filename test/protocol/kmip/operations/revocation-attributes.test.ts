/**
 * What Revoke recorded, spelled as KMIP attributes (revocation-attributes.ts):
 * the reason, the Compromise Date and Compromise Occurrence Date, no
 * Deactivation Date when the appliance's deactivatedAt is the compromise's
 * occurrence, and Original Creation Date from 1.2.
 */
import { createHash } from 'node:crypto';
import { enumeration } from '../../../../protocol/kmip/dictionary';
import { deactivationDateOf, revocationAttributes } from '../../../../protocol/kmip/operations/revocation-attributes';
import { TtlvNode } from '../../../../protocol/kmip/ttlv';

const V14 = { major: 1, minor: 4 };
const V11 = { major: 1, minor: 1 };
const MADE = '2026-01-01T00:00:00.000Z';
const OCCURRED = '2026-01-02T00:00:00.000Z';
const FOUND = '2026-01-03T00:00:00.000Z';
const base = { name: 'i1', state: 'Active', createdAt: MADE, deactivatedAt: null, processStopAt: null, revocationReason: null, compromisedAt: null, compromiseOccurredAt: null };
const seconds = (iso: string): bigint => BigInt(Date.parse(iso) / 1000);
const reasonOf = (node: TtlvNode | undefined): string | undefined => enumeration('RevocationReasonCode')?.byValue.get((node?.value as TtlvNode[])[0].value as number);

describe('revocation attributes', () => {
  test('a compromised instance: reason, Compromise Date, Compromise Occurrence Date; its deactivatedAt is the occurrence, not a Deactivation Date', () => {
    const compromised = { ...base, state: 'Compromised', deactivatedAt: OCCURRED, processStopAt: '2027-01-01T00:00:00.000Z', revocationReason: 'keyCompromise', compromisedAt: FOUND, compromiseOccurredAt: OCCURRED };
    const attributes = revocationAttributes(compromised, V14);
    expect(reasonOf(attributes.RevocationReason)).toBe('KeyCompromise');
    expect(attributes.CompromiseDate?.value).toBe(seconds(FOUND));
    expect(attributes.CompromiseOccurrenceDate?.value).toBe(seconds(OCCURRED));
    expect(deactivationDateOf(compromised)).toBeNull();
    expect(deactivationDateOf({ ...compromised, state: 'DestroyedCompromised' })).toBeNull();
  });

  test('a Destroyed instance found compromised keeps its deactivation date', () => {
    const late = { ...base, state: 'DestroyedCompromised', deactivatedAt: MADE, revocationReason: 'caCompromise', compromisedAt: FOUND, compromiseOccurredAt: OCCURRED };
    expect(deactivationDateOf(late)).toBe(MADE);
    expect(reasonOf(revocationAttributes(late, V14).RevocationReason)).toBe('CACompromise');
  });

  test('a Compromised instance revoked before the facts were kept: its deactivatedAt is the occurrence; no reason, no Compromise Date', () => {
    const old = { ...base, state: 'Compromised', deactivatedAt: OCCURRED };
    const attributes = revocationAttributes(old, V14);
    expect(attributes.CompromiseOccurrenceDate?.value).toBe(seconds(OCCURRED));
    expect([attributes.CompromiseDate, attributes.RevocationReason]).toEqual([undefined, undefined]);
    expect(deactivationDateOf(old)).toBeNull();
  });

  test('a revoke for another reason deactivates: reason and Deactivation Date, no compromise dates', () => {
    const retired = { ...base, state: 'Deactivated', deactivatedAt: FOUND, revocationReason: 'superseded' };
    const attributes = revocationAttributes(retired, V14);
    expect(reasonOf(attributes.RevocationReason)).toBe('Superseded');
    expect([attributes.CompromiseDate, attributes.CompromiseOccurrenceDate]).toEqual([undefined, undefined]);
    expect(deactivationDateOf(retired)).toBe(FOUND);
    expect(deactivationDateOf({ ...base, processStopAt: FOUND })).toBe(FOUND);
  });

  test('Original Creation Date is the instance creation, from 1.2 (a 1.1 client would not know it)', () => {
    expect(revocationAttributes(base, V14).OriginalCreationDate?.value).toBe(seconds(MADE));
    expect(revocationAttributes(base, V11).OriginalCreationDate).toBeUndefined();
    expect(revocationAttributes(base, V14).RevocationReason).toBeUndefined();
  });

  test('Short Unique Identifier (2.x only) is the SHA-256 of the Unique Identifier', () => {
    const short = revocationAttributes(base, { major: 2, minor: 1 }).ShortUniqueIdentifier;
    expect(Buffer.from(short?.value as Uint8Array).toString('hex')).toBe(createHash('sha256').update('i1').digest('hex'));
    expect(revocationAttributes(base, V14).ShortUniqueIdentifier).toBeUndefined();
  });
});
