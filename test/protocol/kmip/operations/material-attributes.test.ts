/**
 * The material attributes (protocol/kmip/operations/material-attributes.ts)
 * from native facts made here: Digest spelled {SHA_256, the bytes, Raw} and
 * only when native GetAttributes gave one; the generator as RNG Parameters
 * from 1.3; Sensitive, Always Sensitive, Extractable, Never Extractable from
 * 1.4 and as the facts say (nothing decided here); nothing without facts;
 * and through the attribute report, a 1.x Attribute "Digest".
 */
import { KEY_GENERATOR, MaterialDigest, materialFacts } from '../../../../domain/keys/material-facts';
import { enumeration, tagName } from '../../../../protocol/kmip/dictionary';
import { encodeAttributes, objectAttributes } from '../../../../protocol/kmip/operations/attribute-views';
import { materialAttributes } from '../../../../protocol/kmip/operations/material-attributes';
import { TtlvNode } from '../../../../protocol/kmip/ttlv';

const V12 = { major: 1, minor: 2 };
const V13 = { major: 1, minor: 3 };
const V14 = { major: 1, minor: 4 };
const V21 = { major: 2, minor: 1 };
const DIGEST: MaterialDigest = { algorithm: 'SHA-256', value: 'ab'.repeat(32), format: 'raw' };
const tagOf = (n: TtlvNode): string => tagName(n.tag) ?? '?';
const spelled = (n: TtlvNode): unknown[] =>
  (n.value as TtlvNode[]).map((c) => [tagOf(c), c.type === 'Enumeration' ? enumeration(tagOf(c))?.byValue.get(c.value as number) : c.type === 'ByteString' ? Buffer.from(c.value as Uint8Array).toString('hex') : c.value]);
const present = (values: Record<string, TtlvNode | undefined>): string[] => Object.keys(values).filter((k) => values[k] !== undefined);

describe('KMIP material attributes', () => {
  test('Digest is {SHA_256, the digest bytes, Raw} in every version, and absent when native gave none (null) or was not asked (undefined)', () => {
    for (const version of [{ major: 1, minor: 0 }, V21]) {
      expect(spelled(materialAttributes({ digest: DIGEST }, version).Digest!)).toEqual([['HashingAlgorithm', 'SHA_256'], ['DigestValue', DIGEST.value], ['KeyFormatType', 'Raw']]);
    }
    expect(materialAttributes({ digest: null }, V21).Digest).toBeUndefined();
    expect(materialAttributes({}, V21).Digest).toBeUndefined();
  });

  test('a generated key\'s generator is RNG Parameters {DRBG, AES, 256, CTR} from 1.3; material a caller gave has none', () => {
    const generated = materialFacts('AES-256');
    expect(generated.generator).toBe(KEY_GENERATOR);
    expect(spelled(materialAttributes({ material: generated }, V13).RandomNumberGenerator!)).toEqual([
      ['RNGAlgorithm', 'DRBG'], ['CryptographicAlgorithm', 'AES'], ['CryptographicLength', 256], ['DRBGAlgorithm', 'CTR'],
    ]);
    expect(materialAttributes({ material: generated }, V12).RandomNumberGenerator).toBeUndefined();
    expect(materialAttributes({ material: materialFacts('SECRET') }, V21).RandomNumberGenerator).toBeUndefined();
  });

  test('Sensitive and Extractable say what the facts say, from 1.4 only', () => {
    const served = materialAttributes({ material: { extractable: true, sensitive: false, generator: null, origin: 'imported', leaseSeconds: 3600, storage: 'software' } }, V14);
    expect([served.Sensitive, served.AlwaysSensitive, served.Extractable, served.NeverExtractable].map((n) => n?.value)).toEqual([false, false, true, false]);
    const kept = materialAttributes({ material: { extractable: false, sensitive: true, generator: null, origin: 'imported', leaseSeconds: 3600, storage: 'software' } }, V21);
    expect([kept.Sensitive, kept.AlwaysSensitive, kept.Extractable, kept.NeverExtractable].map((n) => n?.value)).toEqual([true, true, false, true]);
    expect(present(materialAttributes({ material: materialFacts('AES-128') }, V13))).toEqual(['RandomNumberGenerator']);
    expect(present(materialAttributes({}, V21))).toEqual([]);
  });

  test('the appliance\'s facts: every key Extractable and not Sensitive (Get serves it); only SECRET lacks a generator', () => {
    for (const algorithm of ['AES-128', 'AES-256', 'HMAC-SHA256', 'SECRET']) expect(materialFacts(algorithm)).toMatchObject({ extractable: true, sensitive: false });
    expect(materialFacts('SECRET').generator).toBeNull();
  });

  test('through the attribute report, 1.x answers Attribute "Digest" whose value holds the three items', () => {
    const AT = '2026-03-01T10:00:00.000Z';
    const instance = { name: 'i1', version: 1, state: 'Active', current: true, hasMaterial: true, createdAt: AT, activatedAt: AT, activatesAt: null, deactivatedAt: null, destroyedAt: null, destroyAt: null, protectStopAt: null, processStopAt: null, revocationReason: null, compromisedAt: null, compromiseOccurredAt: null, fresh: true };
    const key = { id: 'k', fullName: 'a/b', namespace: 'a', name: 'b', algorithm: 'AES-256', usageMask: 12, usage: [], description: '', owner: '', customAttributes: {}, rolloverPolicy: 'manual', cryptoperiod: null, currentInstance: 'i1', currentVersion: 1, currentState: 'Active', nextRolloverAt: null, protectPeriod: null, processPeriod: null, createdAt: AT, updatedAt: AT } as const;
    const attributes = objectAttributes({ key: { ...key, usage: [] }, instances: [instance], instance, material: materialFacts('AES-256'), digest: DIGEST }, V14);
    const [digest] = encodeAttributes(attributes.filter((a) => a.kind === 'standard' && a.tag === 'Digest'), V14);
    const [name, value] = digest.value as TtlvNode[];
    expect(name.value).toBe('Digest');
    expect(tagOf(value)).toBe('AttributeValue');
    expect(spelled(value).map((row) => (row as unknown[])[0])).toEqual(['HashingAlgorithm', 'DigestValue', 'KeyFormatType']);
  });
});
