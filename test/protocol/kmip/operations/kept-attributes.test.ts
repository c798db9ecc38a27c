/**
 * The store of kept KMIP attributes (protocol/kmip/operations/kept-attributes.ts):
 * values checked for their KMIP shape and kept as the KMIP JSON of their
 * list under `kmip.<Tag>`, read back equal; what does not fit a custom
 * attribute is Invalid Field; a stored value that does not decode is absent
 * from the report and explained when read; `x-kmip.` names are refused on
 * every custom-attribute path; the views show kept attributes as
 * themselves and never as `x-kmip.…`; custom values of other types than
 * Text String are kept typed (custom-values.ts).
 */
import { KeyView } from '../../../../domain/view-types';
import { MAX_ATTRIBUTE_VALUE } from '../../../../domain/vocabulary/key-metadata-limits';
import { tagName } from '../../../../protocol/kmip/dictionary';
import { kmip1NameOf, nativeCustomName, objectAttributes } from '../../../../protocol/kmip/operations/attribute-views';
import { selectorOfName } from '../../../../protocol/kmip/operations/attribute-references';
import {
  cryptographicParametersOf, decodeKeptValues, encodeKeptValues, keptName, keptValue, readKeptValues, sameKeptValue,
} from '../../../../protocol/kmip/operations/kept-attributes';
import { customWrite, heldCustomValue, sameCustomValue, sentCustomValue, typedCustomValues } from '../../../../protocol/kmip/operations/custom-values';
import { booleanItem, enumItem, integerItem, structureItem, textItem } from '../../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../../protocol/kmip/ttlv';

const AT = '2026-03-01T10:00:00.000Z';
const key = (customAttributes: Record<string, string>): KeyView => ({
  id: 'k', fullName: 'tl/tape', namespace: 'tl', name: 'tape', algorithm: 'AES-256', usageMask: 12, usage: ['encrypt', 'decrypt'], description: '',
  owner: '', customAttributes, rolloverPolicy: 'manual', cryptoperiod: null, currentInstance: 'i1', currentVersion: 1, currentState: 'Active',
  nextRolloverAt: null, protectPeriod: null, processPeriod: null, createdAt: AT, updatedAt: AT,
});
const alternativeName = (text: string): TtlvNode =>
  structureItem('AlternativeName', [textItem('AlternativeNameValue', text), enumItem('AlternativeNameType', 'UninterpretedTextString')]);
const parameters = structureItem('CryptographicParameters', [enumItem('BlockCipherMode', 'CBC'), enumItem('PaddingMethod', 'PKCS5'), booleanItem('RandomIV', true)]);

describe('kept KMIP attributes', () => {
  test('values are kept as the KMIP JSON of their list and read back the same, several values in order', () => {
    const text = encodeKeptValues('AlternativeName', [alternativeName('XXA012A1'), alternativeName('XXA012A2')]) as string;
    expect(JSON.parse(text)[0]).toEqual({
      tag: 'AlternativeName',
      value: [{ tag: 'AlternativeNameValue', type: 'TextString', value: 'XXA012A1' }, { tag: 'AlternativeNameType', type: 'Enumeration', value: 'UninterpretedTextString' }],
    });
    const read = readKeptValues({ [keptName('AlternativeName')]: text }, 'AlternativeName');
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.values).toHaveLength(2);
    expect(sameKeptValue(read.values[1], alternativeName('XXA012A2'))).toBe(true);
    expect(sameKeptValue(read.values[0], alternativeName('XXA012A2'))).toBe(false);
    expect(encodeKeptValues('ObjectGroup', [])).toBeNull();
  });

  test('a 1.x Attribute Value is taken under the attribute\'s own tag; a wrong shape is Invalid Field naming the field', () => {
    const sent = { ...textItem('AttributeValue', 'SASED-group') };
    expect(tagName(keptValue('ObjectGroup', sent).tag)).toBe('ObjectGroup');
    const refusal = (tag: Parameters<typeof keptValue>[0], value: TtlvNode): unknown => {
      try {
        keptValue(tag, value);
        return null;
      } catch (err) {
        return { reason: (err as { resultReason: string }).resultReason, message: (err as Error).message };
      }
    };
    expect(refusal('ObjectGroup', integerItem('ObjectGroup', 1))).toEqual({ reason: 'InvalidField', message: 'Object Group must be a non-empty Text String' });
    expect(refusal('AlternativeName', structureItem('AlternativeName', [textItem('AlternativeNameValue', 'x')]))).toMatchObject({ reason: 'InvalidField', message: expect.stringContaining('AlternativeNameType') });
    expect(refusal('ApplicationSpecificInformation', structureItem('ApplicationSpecificInformation', [textItem('ApplicationData', 'd')]))).toMatchObject({ message: expect.stringContaining('ApplicationNamespace is required') });
    expect(refusal('CryptographicParameters', structureItem('CryptographicParameters', [textItem('KeyMaterial', 'x')]))).toMatchObject({ message: expect.stringContaining('not a Cryptographic Parameters field') });
    expect(refusal('CryptographicParameters', structureItem('CryptographicParameters', [integerItem('IVLength', 96), integerItem('IVLength', 96)]))).toMatchObject({ message: expect.stringContaining('more than once') });
    expect(refusal('CryptographicParameters', parameters)).toBeNull();
  });

  test('values that do not fit one custom attribute value are Invalid Field, saying how long they are', () => {
    const groups = Array.from({ length: 40 }, (_, i) => textItem('ObjectGroup', `group-${i}`));
    expect(() => encodeKeptValues('ObjectGroup', groups)).toThrow(expect.objectContaining({ resultReason: 'InvalidField', message: expect.stringContaining(`at most ${MAX_ATTRIBUTE_VALUE}`) }));
    expect(encodeKeptValues('ObjectGroup', groups.slice(0, 10))).not.toBeNull();
  });

  test('a stored value that does not decode is explained when read, and left out of the report', () => {
    for (const stored of ['not json', '[]', '{"tag":"ObjectGroup"}', '[{"tag":"Name","type":"TextString","value":"x"}]', '[{"tag":"ObjectGroup","type":"Integer","value":1}]']) {
      const read = decodeKeptValues('ObjectGroup', stored);
      expect(read).toEqual({ ok: false, why: expect.stringContaining('kmip.ObjectGroup custom attribute is not a KMIP JSON list of Object Group values') });
    }
    const attributes = objectAttributes(
      { key: key({ 'kmip.ObjectGroup': 'not json', team: 'tl' }), instances: [], instance: { name: 'i1', version: 1, state: 'Active', current: true, hasMaterial: true, createdAt: AT, activatedAt: AT, activatesAt: null, deactivatedAt: null, destroyedAt: null, destroyAt: null, protectStopAt: null, processStopAt: null, revocationReason: null, compromisedAt: null, compromiseOccurredAt: null, fresh: true } },
      { major: 1, minor: 4 },
    );
    expect(attributes.map(kmip1NameOf)).not.toContain('Object Group');
    expect(attributes.map(kmip1NameOf)).toContain('x-team');
  });

  test('kept attributes are reported as themselves, never as x-kmip.…, and x-kmip.… names are refused', () => {
    const stored = { 'kmip.ObjectGroup': encodeKeptValues('ObjectGroup', [textItem('ObjectGroup', 'g')]) as string, team: 'tl' };
    const attributes = objectAttributes(
      { key: key(stored), instances: [], instance: { name: 'i1', version: 1, state: 'Active', current: true, hasMaterial: true, createdAt: AT, activatedAt: AT, activatesAt: null, deactivatedAt: null, destroyedAt: null, destroyAt: null, protectStopAt: null, processStopAt: null, revocationReason: null, compromisedAt: null, compromiseOccurredAt: null, fresh: true } },
      { major: 2, minor: 1 },
    );
    const names = attributes.map(kmip1NameOf);
    expect(names).toContain('Object Group');
    expect(names.filter((n) => n.startsWith('x-kmip'))).toEqual([]);
    expect(nativeCustomName('x-kmip.ObjectGroup')).toBeNull();
    expect(() => selectorOfName('x-kmip.ObjectGroup')).toThrow(expect.objectContaining({ resultReason: 'InvalidField', message: expect.stringContaining('is reserved') }));
  });

  test('a key\'s default Cryptographic Parameters are its first kept value, none when it keeps none or they do not decode', () => {
    const stored = encodeKeptValues('CryptographicParameters', [parameters]) as string;
    const found = cryptographicParametersOf({ key: key({ 'kmip.CryptographicParameters': stored }) });
    expect(found !== undefined && sameKeptValue(found, parameters)).toBe(true);
    expect(cryptographicParametersOf(key({}))).toBeUndefined();
    expect(cryptographicParametersOf(key({ 'kmip.CryptographicParameters': '[1]' }))).toBeUndefined();
  });
});

describe('typed custom attribute values (custom-values.ts)', () => {
  test('a Text String is the native attribute, another single value is kept as kmip.x-NAME, and writing one form removes the other', () => {
    const typed = sentCustomValue('x-count', integerItem('AttributeValue', 3));
    expect(customWrite({}, 'count', typed)).toEqual({ set: { 'kmip.x-count': '[{"tag":"AttributeValue","type":"Integer","value":3}]' } });
    expect(customWrite({ 'kmip.x-count': '[]' }, 'count', 'three')).toEqual({ set: { count: 'three' }, remove: ['kmip.x-count'] });
    expect(customWrite({ count: 'three' }, 'count', typed)).toEqual({ set: { 'kmip.x-count': expect.any(String) }, remove: ['count'] });
    const held = heldCustomValue(customWrite({}, 'count', typed).set, 'count');
    expect(held !== undefined && typeof held !== 'string' && sameCustomValue(held, typed)).toBe(true);
    expect(() => sentCustomValue('x-s', structureItem('AttributeValue', []))).toThrow(expect.objectContaining({ resultReason: 'InvalidField' }));
    expect(() => customWrite({}, 'n'.repeat(60), typed)).toThrow(expect.objectContaining({ resultReason: 'InvalidField', message: expect.stringContaining('at most 57 characters') }));
  });

  test('a kmip.x- value that does not decode is absent, never a failure', () => {
    expect(heldCustomValue({ 'kmip.x-count': 'oops' }, 'count')).toBeUndefined();
    const boolean = '[{"tag":"AttributeValue","type":"Boolean","value":true}]';
    expect(typedCustomValues({ 'kmip.x-count': 'oops', 'kmip.x-n': boolean, 'kmip.x-kmip.n': boolean, team: 'x' }).map((v) => v.name)).toEqual(['n']);
  });
});
