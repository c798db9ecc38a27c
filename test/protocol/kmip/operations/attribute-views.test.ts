/**
 * The attribute report (protocol/kmip/operations/attribute-views.ts) on
 * views made here: links by version order whatever the order given, the
 * 1.x Attribute Index only past a name's first value, Description only
 * from 1.4, Secret Data without algorithm or length, dates left out when
 * the appliance has none, and custom names one to one with native names.
 */
import { InstanceView, KeyView } from '../../../../domain/view-types';
import { tagName } from '../../../../protocol/kmip/dictionary';
import { encodeAttributeNames, encodeAttributes, kmip1NameOf, nativeCustomName, objectAttributes, ObjectView } from '../../../../protocol/kmip/operations/attribute-views';
import { TtlvNode } from '../../../../protocol/kmip/ttlv';

const AT = '2026-03-01T10:00:00.000Z';
const key = (over: Partial<KeyView> = {}): KeyView => ({
  id: 'k', fullName: 'hr/payroll', namespace: 'hr', name: 'payroll', algorithm: 'AES-128', usageMask: 12, usage: ['encrypt', 'decrypt'], description: 'pay',
  owner: '', customAttributes: { team: 'hr' }, rolloverPolicy: 'manual', cryptoperiod: null, currentInstance: 'i3', currentVersion: 3, currentState: 'Active',
  nextRolloverAt: null, protectPeriod: null, processPeriod: null, createdAt: AT, updatedAt: AT, ...over,
});
const instance = (version: number, over: Partial<InstanceView> = {}): InstanceView => ({
  name: `i${version}`, version, state: 'Active', current: version === 3, hasMaterial: true, createdAt: AT, activatedAt: AT, activatesAt: null,
  deactivatedAt: null, destroyedAt: null, destroyAt: null, protectStopAt: null, processStopAt: null, revocationReason: null, compromisedAt: null, compromiseOccurredAt: null, fresh: true, ...over,
});
const object = (over: Partial<ObjectView> = {}): ObjectView => ({ key: key(), instances: [instance(3), instance(1), instance(2)], instance: instance(2), ...over });
const tags = (nodes: readonly TtlvNode[]): string[] => nodes.map((n) => tagName(n.tag) ?? '?');

describe('KMIP attribute views', () => {
  test('a middle instance links to the next and the previous version, and 1.x indexes the second Link only', () => {
    const attributes = objectAttributes(object(), { major: 1, minor: 4 });
    const links = encodeAttributes(attributes.filter((a) => kmip1NameOf(a) === 'Link'), { major: 1, minor: 4 });
    expect(links.map((l) => tags(l.value as TtlvNode[]))).toEqual([['AttributeName', 'AttributeValue'], ['AttributeName', 'AttributeIndex', 'AttributeValue']]);
    const linked = links.map((l) => ((l.value as TtlvNode[]).at(-1)!.value as TtlvNode[])[1].value);
    expect(linked).toEqual(['i3', 'i1']);
  });

  test('Description is reported from 1.4 on, not to 1.3', () => {
    expect(objectAttributes(object(), { major: 1, minor: 3 }).map(kmip1NameOf)).not.toContain('Description');
    expect(objectAttributes(object(), { major: 1, minor: 4 }).map(kmip1NameOf)).toContain('Description');
  });

  test('Secret Data has no algorithm or length; dates the appliance lacks are left out; a pending activation date is reported', () => {
    const secret = objectAttributes(object({ key: key({ algorithm: 'SECRET' }), instance: instance(2, { state: 'PreActive', activatedAt: null, activatesAt: '2099-01-01T00:00:00.000Z' }) }), { major: 2, minor: 1 });
    const names = secret.map(kmip1NameOf);
    expect(names).not.toContain('Cryptographic Algorithm');
    expect(names).not.toContain('Cryptographic Length');
    expect(names).not.toContain('Destroy Date');
    expect(names).not.toContain('Deactivation Date');
    const activation = encodeAttributes(secret, { major: 2, minor: 1 }).find((n) => tagName(n.tag) === 'ActivationDate');
    expect(activation?.value).toBe(BigInt(Date.parse('2099-01-01T00:00:00Z') / 1000));
  });

  test('custom attributes: native team is x-team in 1.x and vendor x in 2.x, and back', () => {
    const attributes = objectAttributes(object(), { major: 2, minor: 1 });
    expect(attributes.map(kmip1NameOf)).toContain('x-team');
    const references = encodeAttributeNames(attributes, { major: 2, minor: 1 }).filter((n) => n.type === 'Structure');
    expect(references.map((r) => (r.value as TtlvNode[]).map((c) => c.value))).toEqual([['x', 'team']]);
    expect(nativeCustomName('x-team')).toBe('team');
    expect(nativeCustomName('x-')).toBeNull();
    expect(nativeCustomName('y-team')).toBeNull();
    expect(nativeCustomName('Name')).toBeNull();
  });

  test('Get Attribute List names each attribute once, though Link has two values', () => {
    const names = encodeAttributeNames(objectAttributes(object(), { major: 1, minor: 4 }), { major: 1, minor: 4 }).map((n) => n.value);
    expect(names.filter((n) => n === 'Link')).toHaveLength(1);
    expect(names[0]).toBe('Unique Identifier');
  });
});
