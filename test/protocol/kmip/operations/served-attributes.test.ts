/**
 * The served attributes (protocol/kmip/operations/served-attributes.ts)
 * from native facts made here: Fresh as the instance view says, Lease Time
 * as the material facts say (1.x and 2.x); Key Format Type (the object's
 * default served format) and Protection Storage Mask Software in 2.x only;
 * nothing of the material without facts.
 */
import { materialFacts } from '../../../../domain/keys/material-facts';
import type { InstanceView, KeyView } from '../../../../domain/view-types';
import { enumeration, mask } from '../../../../protocol/kmip/dictionary';
import { ObjectView } from '../../../../protocol/kmip/operations/attribute-views';
import { defaultKeyFormat, servedAttributes } from '../../../../protocol/kmip/operations/served-attributes';

const V14 = { major: 1, minor: 4 };
const V21 = { major: 2, minor: 1 };
const AT = '2026-01-01T00:00:00.000Z';

const key = (algorithm: string): KeyView => ({
  id: 'k', fullName: 'kmip/k', namespace: 'kmip', name: 'k', algorithm, usageMask: 12, usage: ['encrypt', 'decrypt'], description: '', owner: '', customAttributes: {},
  rolloverPolicy: 'manual', cryptoperiod: null, currentInstance: 'i1', currentVersion: 1, currentState: 'Active', nextRolloverAt: null, protectPeriod: null, processPeriod: null, createdAt: AT, updatedAt: AT,
});
const instance = (fresh: boolean): InstanceView => ({
  name: 'i1', version: 1, state: 'Active', current: true, hasMaterial: true, createdAt: AT, activatedAt: AT, activatesAt: null, deactivatedAt: null, destroyedAt: null, destroyAt: null,
  protectStopAt: null, processStopAt: null, revocationReason: null, compromisedAt: null, compromiseOccurredAt: null, fresh,
});
const object = (algorithm: string, fresh: boolean, withFacts = true): ObjectView => ({
  key: key(algorithm), instances: [instance(fresh)], instance: instance(fresh), ...(withFacts ? { material: materialFacts(algorithm) } : {}),
});
const values = (view: ObjectView, objectType: string, version: { major: number; minor: number }): Record<string, unknown> =>
  Object.fromEntries(Object.entries(servedAttributes(view, objectType, version)).map(([tag, node]) => [tag, node?.value]));

describe('KMIP served attributes', () => {
  test('2.1: Fresh as the instance says, Lease Time 3600, Key Format Type Raw and Protection Storage Mask Software for a Symmetric Key', () => {
    expect(values(object('AES-256', true), 'SymmetricKey', V21)).toEqual({
      Fresh: true, KeyFormatType: enumeration('KeyFormatType')!.byName.get('Raw'), LeaseTime: 3600, ProtectionStorageMask: mask('ProtectionStorageMask')!.byName.get('Software'),
    });
    expect(values(object('AES-256', false), 'SymmetricKey', V21).Fresh).toBe(false);
  });

  test('1.4 is told Fresh and Lease Time only: Key Format Type and Protection Storage Mask are 2.x attributes', () => {
    expect(values(object('AES-128', true), 'SymmetricKey', V14)).toEqual({ Fresh: true, KeyFormatType: undefined, LeaseTime: 3600, ProtectionStorageMask: undefined });
  });

  test('without material facts there is no lease and no storage to tell, but Fresh is the instance\'s', () => {
    expect(values(object('AES-256', true, false), 'SymmetricKey', V21)).toMatchObject({ Fresh: true, LeaseTime: undefined, ProtectionStorageMask: undefined });
  });

  test('Key Format Type is the default served format: Opaque for Secret Data, a kept key\'s first, none without a key block', () => {
    expect(defaultKeyFormat('SECRET', 'SecretData')).toBe('Opaque');
    expect(defaultKeyFormat('RSA-PUBLIC', 'PublicKey')).toBe('PKCS_1');
    expect(defaultKeyFormat('EC-PRIVATE', 'PrivateKey')).toBe('PKCS_8');
    expect(defaultKeyFormat('CERTIFICATE', 'Certificate')).toBeUndefined();
    expect(defaultKeyFormat('OPAQUE', 'OpaqueObject')).toBeUndefined();
  });
});
