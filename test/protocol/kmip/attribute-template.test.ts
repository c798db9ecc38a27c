/**
 * The attributes of Create, Register and ReKey as the OASIS test cases send
 * them, in both shapes (1.x Template-Attribute, 2.x Attributes), read into
 * the appliance's terms; and each attribute this server cannot honour
 * refused with its Result Reason, naming it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKmipXmlDocument } from '../../../protocol/kmip/kmip-xml';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { applianceAlgorithm, readRequestedAttributes } from '../../../protocol/kmip/operations/attribute-template';
import { activation } from '../../../protocol/kmip/operations/key-args';
import { KmipOperationError } from '../../../protocol/kmip/operations/kmip-operation';
import { dateItem, enumItem, integerItem, intervalItem, PayloadReader, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { tagNumber } from '../../../protocol/kmip/dictionary';
import { FIXED_NOW, resolvePlaceholder, TEST_CASES_DIR } from './oasis-test-cases';

const V14 = { major: 1, minor: 4 };
const V21 = { major: 2, minor: 1 };

/** The Request Payload of the first request of an OASIS test case. */
function firstPayload(file: string): TtlvNode {
  const [request] = parseKmipXmlDocument(readFileSync(join(TEST_CASES_DIR, file), 'utf8'), { now: FIXED_NOW, placeholder: resolvePlaceholder });
  const find = (node: TtlvNode): TtlvNode | undefined =>
    node.tag === tagNumber('RequestPayload') ? node : node.type === 'Structure' ? node.value.map(find).find((n) => n !== undefined) : undefined;
  return find(request) as TtlvNode;
}

/** A payload with one requested attribute, in the shape of `version`. */
function payloadWith(version: { major: number }, name: string, value: TtlvNode): TtlvNode {
  if (version.major >= 2) return structureItem('RequestPayload', [structureItem('Attributes', [value])]);
  const attributeValue = { ...value, tag: tagNumber('AttributeValue') as number } as TtlvNode;
  return structureItem('RequestPayload', [structureItem('TemplateAttribute', [structureItem('Attribute', [textItem('AttributeName', name), attributeValue])])]);
}

function refusal(run: () => unknown): { reason: string; message: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof KmipOperationError) return { reason: err.resultReason, message: err.message };
    throw err;
  }
  throw new Error('not refused');
}

describe('the attributes of a Create', () => {
  test.each([
    ['v1.4/mandatory/SKLC-M-1-14.xml', V14, 'SKLC-M-1-14'],
    ['v2.1/mandatory/SKLC-M-1-21.xml', V21, 'SKLC-M-1-21'],
  ])('%s reads into algorithm, length, usage and name', (file, version, name) => {
    const reader = new PayloadReader(firstPayload(file));
    reader.enumName('ObjectType');
    const requested = readRequestedAttributes(reader, version);
    reader.rejectOthers();
    expect(requested).toEqual({ algorithm: 'AES', lengthBits: 256, usage: ['encrypt', 'decrypt'], name, customAttributes: {} });
    expect(applianceAlgorithm(requested.algorithm, requested.lengthBits)).toBe('AES-256');
  });

  test('Contact Information becomes the owner (SKFF-M-5)', () => {
    const reader = new PayloadReader(firstPayload('v1.4/mandatory/SKFF-M-5-14.xml'));
    reader.enumName('ObjectType');
    expect(readRequestedAttributes(reader, V14)).toMatchObject({ algorithm: 'AES', lengthBits: 128, owner: 'Joe', name: 'SKFF-M-5-14' });
  });

  test('the other shape\'s field is left unread, for rejectOthers to refuse', () => {
    const reader = new PayloadReader(firstPayload('v2.1/mandatory/SKLC-M-1-21.xml'));
    reader.enumName('ObjectType');
    expect(readRequestedAttributes(reader, V14)).toEqual({ customAttributes: {} });
    expect(refusal(() => reader.rejectOthers())).toEqual({ reason: 'InvalidField', message: 'RequestPayload/Attributes is not supported here' });
  });

  test.each([V14, V21])('custom attributes of %o are kept by their native names (x-Owner is Owner, as GetAttributes reports it back)', (version) => {
    const reader = new PayloadReader(
      version.major >= 2
        ? structureItem('RequestPayload', [structureItem('Attributes', [structureItem('Attribute', [textItem('VendorIdentification', 'x'), textItem('AttributeName', 'Owner'), textItem('AttributeValue', 'ops')])])])
        : structureItem('RequestPayload', [structureItem('TemplateAttribute', [structureItem('Attribute', [textItem('AttributeName', 'x-Owner'), textItem('AttributeValue', 'ops')])])]),
    );
    expect(readRequestedAttributes(reader, version).customAttributes).toEqual({ Owner: 'ops' });
  });

  test.each([V14, V21])('custom attributes the appliance does not keep are refused by name in %o (y- and other vendors)', (version) => {
    const reader = new PayloadReader(
      version.major >= 2
        ? structureItem('RequestPayload', [structureItem('Attributes', [structureItem('Attribute', [textItem('VendorIdentification', 'acme'), textItem('AttributeName', 'Owner'), textItem('AttributeValue', 'ops')])])])
        : structureItem('RequestPayload', [structureItem('TemplateAttribute', [structureItem('Attribute', [textItem('AttributeName', 'y-Owner'), textItem('AttributeValue', 'ops')])])]),
    );
    expect(refusal(() => readRequestedAttributes(reader, version))).toMatchObject({ reason: 'FeatureNotSupported' });
  });

  test('Secret Data registered with a group keeps it, with the x- attributes beside it (SASED-M-2)', () => {
    for (const [file, version] of [['v1.4/mandatory/SASED-M-2-14.xml', V14], ['v2.1/mandatory/SASED-M-2-21.xml', V21]] as const) {
      const payloads = parseKmipXmlDocument(readFileSync(join(TEST_CASES_DIR, file), 'utf8'), { now: FIXED_NOW, placeholder: resolvePlaceholder });
      const register = payloads[2];
      const found: TtlvNode[] = [];
      const walk = (node: TtlvNode): void => {
        if (node.tag === tagNumber('RequestPayload')) found.push(node);
        else if (node.type === 'Structure') node.value.forEach(walk);
      };
      walk(register);
      const requested = readRequestedAttributes(new PayloadReader(found[0]), version);
      const group = version.major >= 2 ? 'SASED-M-2-21-group' : 'SASED-M-2-14-group';
      expect(JSON.parse(requested.customAttributes['kmip.ObjectGroup'])).toEqual([{ tag: 'ObjectGroup', type: 'TextString', value: group }]);
      expect(requested.customAttributes.CustomAttribute4).toBe('CustomValue4');
    }
  });
});

describe('refusals name the attribute', () => {
  test.each([
    ['an unsupported usage bit', integerItem('CryptographicUsageMask', 0x4 | 0x800), 'Cryptographic Usage Mask', 'FeatureNotSupported', /KeyAgreement cannot be enforced/],
    ['an empty usage mask', integerItem('CryptographicUsageMask', 0), 'Cryptographic Usage Mask', 'InvalidField', /is empty/],
    ['a length of the wrong type', textItem('CryptographicLength', '256'), 'Cryptographic Length', 'InvalidField', /must be a Integer, not a TextString/],
    ['an attribute not taken at Create', intervalItem('LeaseTime', 3600), 'Lease Time', 'FeatureNotSupported', /Lease ?Time cannot be set here/],
    ['a kept attribute of the wrong shape', integerItem('ObjectGroup', 1), 'Object Group', 'InvalidField', /Object Group must be a non-empty Text String/],
    ['a state', enumItem('State', 'Active'), 'State', 'FeatureNotSupported', /State cannot be set here/],
  ])('%s', (_what, value, name, reason, message) => {
    for (const version of [V14, V21]) {
      const refused = refusal(() => readRequestedAttributes(new PayloadReader(payloadWith(version, name, value)), version));
      expect(refused.reason).toBe(reason);
      expect(refused.message).toMatch(message);
    }
  });

  test('a custom attribute under a reserved kmip. name (x-kmip.…; 2.x vendor x, name kmip.…)', () => {
    const v14 = payloadWith(V14, 'x-kmip.ObjectGroup', textItem('AttributeValue', 'g'));
    const v21 = structureItem('RequestPayload', [
      structureItem('Attributes', [structureItem('Attribute', [textItem('VendorIdentification', 'x'), textItem('AttributeName', 'kmip.ObjectGroup'), textItem('AttributeValue', 'g')])]),
    ]);
    for (const [payload, version] of [[v14, V14], [v21, V21]] as const) {
      expect(refusal(() => readRequestedAttributes(new PayloadReader(payload), version))).toMatchObject({ reason: 'InvalidField', message: expect.stringMatching(/"x-kmip.ObjectGroup" is reserved/) });
    }
  });

  test('an attribute given twice', () => {
    const twice = structureItem('RequestPayload', [structureItem('Attributes', [integerItem('CryptographicLength', 128), integerItem('CryptographicLength', 256)])]);
    expect(refusal(() => readRequestedAttributes(new PayloadReader(twice), V21))).toMatchObject({ reason: 'FeatureNotSupported', message: expect.stringMatching(/CryptographicLength is given more than once/) });
  });

  test('a Template reference (1.x Name in the Template-Attribute)', () => {
    const template = structureItem('RequestPayload', [structureItem('TemplateAttribute', [structureItem('Name', [textItem('NameValue', 't'), enumItem('NameType', 'UninterpretedTextString')])])]);
    expect(refusal(() => readRequestedAttributes(new PayloadReader(template), V14))).toMatchObject({ reason: 'FeatureNotSupported', message: expect.stringMatching(/Template objects/) });
  });

  test('Protection Storage Masks (2.x)', () => {
    const masks = structureItem('RequestPayload', [structureItem('ProtectionStorageMasks', [integerItem('ProtectionStorageMask', 1)])]);
    expect(refusal(() => readRequestedAttributes(new PayloadReader(masks), V21)).reason).toBe('FeatureNotSupported');
  });
});

describe('algorithms', () => {
  test.each([
    ['AES', 128, 'AES-128'],
    ['AES', 192, 'AES-192'],
    ['AES', 256, 'AES-256'],
    ['HMAC_SHA256', undefined, 'HMAC-SHA256'],
    ['HMAC_SHA256', 256, 'HMAC-SHA256'],
    ['HMAC_SHA512', 512, 'HMAC-SHA512'],
  ])('%s %s → %s', (kmip, bits, algorithm) => {
    expect(applianceAlgorithm(kmip, bits)).toBe(algorithm);
  });

  test.each([
    [undefined, 256, 'InvalidField', /Cryptographic Algorithm is required/],
    ['AES', undefined, 'InvalidField', /Cryptographic Length is required with AES: 128, 192, 256/],
    ['AES', 100, 'InvalidField', /Cryptographic Length 100 is not supported with AES/],
    ['HMAC_SHA256', 512, 'FeatureNotSupported', /Cryptographic Length 512 is not supported with HMAC_SHA256/],
    ['DES3', 168, 'FeatureNotSupported', /Cryptographic Algorithm DES3 is not supported/],
  ])('%s %s is refused', (kmip, bits, reason, message) => {
    const refused = refusal(() => applianceAlgorithm(kmip, bits));
    expect(refused.reason).toBe(reason);
    expect(refused.message).toMatch(message);
  });
});

describe('Activation Date', () => {
  const now = Date.parse('2026-12-07T00:00:00Z');
  test('none: PreActive until an Activate; to come: activated then; come: Active now', () => {
    expect(activation(undefined, now)).toEqual({ activate: false });
    expect(activation(BigInt(now / 1000 + 3600), now)).toEqual({ activateAt: '2026-12-07T01:00:00.000Z' });
    expect(activation(BigInt(now / 1000), now)).toEqual({});
    expect(activation(BigInt(now / 1000 - 3600), now)).toEqual({});
  });

  test('a date no Date can hold is Invalid Field', () => {
    expect(refusal(() => activation(2n ** 62n, now))).toMatchObject({ reason: 'InvalidField', message: expect.stringMatching(/Activation Date/) });
  });

  test('read from either shape', () => {
    for (const version of [V14, V21]) {
      expect(readRequestedAttributes(new PayloadReader(payloadWith(version, 'Activation Date', dateItem('ActivationDate', 1_800_000_000n))), version).activationDate).toBe(1_800_000_000n);
    }
  });
});
