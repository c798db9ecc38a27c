/**
 * Get Attributes, Get Attribute List and Locate over KMIP 1.4 and 2.1
 * against a real appliance (SoftHSM2, SQLite, mutual TLS), keys made on the
 * native wire: the attributes the appliance keeps, in each version's
 * encoding and in the order asked (the OASIS SKLC and SKFF cases' shapes);
 * Locate by name, object type, state and algorithm, paged, and never
 * beyond what the client may locate; unknown identifiers and missing
 * grants refused, and the audit trail naming key and instance.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { enumeration } from '../../../protocol/kmip/dictionary';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { attributes1, child, childrenOf, Described, nativeOk, refusal, startAttributeScene, StartedScene, succeed, tagOf, uidXml, uids, V14, V21 } from './kmip-attribute-fixture';

jest.setTimeout(90_000);

const enumName = (node: TtlvNode, enumerationName: string): string | undefined => enumeration(enumerationName)?.byValue.get(node.value as number);
const nameXml = (name: string, wrapper = 'AttributeValue'): string =>
  `<${wrapper}><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></${wrapper}>`;

describe('KMIP attribute reads', () => {
  let scene: StartedScene;
  let app: KmipTlsClient;
  let outsider: KmipTlsClient;

  beforeAll(async () => {
    scene = await startAttributeScene({ 'attr-reader': ['locate', 'get-attributes'], 'attr-outsider': ['encrypt'] });
    app = scene.clients['attr-reader'];
    outsider = scene.clients['attr-outsider'];
  });

  afterAll(async () => {
    await scene?.stop();
  });

  test('1.4 Get Attributes answers the attributes named, in that order, leaving out those the object lacks', async () => {
    const uid = scene.alpha.key.currentInstance;
    const names = ['State', 'Cryptographic Usage Mask', 'Unique Identifier', 'Object Type', 'Cryptographic Algorithm', 'Cryptographic Length', 'Digest', 'Initial Date', 'Last Change Date', 'Destroy Date'];
    const answer = await succeed(app, 'GetAttributes', uidXml(uid) + names.map((n) => `<AttributeName type="TextString" value="${n}"/>`).join(''), V14);
    expect(answer[0]).toMatchObject({ type: 'TextString', value: uid });
    const rows = attributes1(answer);
    // Destroy Date: it is not destroyed (kmip-material-attributes.test.ts checks the Digest's value).
    expect(rows.map((r) => r.name)).toEqual(['State', 'Cryptographic Usage Mask', 'Unique Identifier', 'Object Type', 'Cryptographic Algorithm', 'Cryptographic Length', 'Digest', 'Initial Date', 'Last Change Date']);
    expect(enumName(rows[0].value, 'State')).toBe('Active');
    expect(rows[1].value.value).toBe(scene.alpha.key.usageMask);
    expect(rows[2].value.value).toBe(uid);
    expect(enumName(rows[3].value, 'ObjectType')).toBe('SymmetricKey');
    expect(enumName(rows[4].value, 'CryptographicAlgorithm')).toBe('AES');
    expect(rows[5].value.value).toBe(256);
    expect(childrenOf(rows[6].value).map(tagOf)).toEqual(['HashingAlgorithm', 'DigestValue', 'KeyFormatType']);
    expect(rows[7].value.type).toBe('DateTime');
  });

  test('1.4 Get Attributes of all: the key\'s name, both links of a middle instance (indexed), the custom attribute as x-', async () => {
    const middle = scene.alpha.instances.find((i) => i.version === 2)!;
    const rows = attributes1(await succeed(app, 'GetAttributes', uidXml(middle.name), V14));
    const byName = (name: string) => rows.filter((r) => r.name === name);
    expect(enumName(byName('State')[0].value, 'State')).toBe('Deactivated');
    expect(child(byName('Name')[0].value, 'NameValue')?.value).toBe('kmip/alpha');
    expect(byName('Link').map((r) => [r.index, enumName(child(r.value, 'LinkType')!, 'LinkType'), child(r.value, 'LinkedObjectIdentifier')?.value])).toEqual([
      [undefined, 'ReplacementObjectLink', scene.alpha.instances.find((i) => i.version === 3)!.name],
      [1, 'ReplacedObjectLink', scene.alpha.instances.find((i) => i.version === 1)!.name],
    ]);
    expect(byName('x-team').map((r) => r.value.value)).toEqual(['hr']);
    expect(byName('Description').map((r) => r.value.value)).toEqual(['payroll key']);
    expect(byName('Deactivation Date')).toHaveLength(1);
  });

  test('2.1 Get Attributes answers an Attributes structure: the attributes by tag, a custom one as vendor x', async () => {
    const uid = scene.alpha.key.currentInstance;
    const answer = await succeed(app, 'GetAttributes', uidXml(uid) + '<AttributeReference type="Enumeration" value="State"/><AttributeReference type="Enumeration" value="Link"/><AttributeReference><VendorIdentification type="TextString" value="x"/><AttributeName type="TextString" value="team"/></AttributeReference>', V21);
    expect(answer.map(tagOf)).toEqual(['UniqueIdentifier', 'Attributes']);
    const attrs = childrenOf(answer[1]);
    expect(attrs.map(tagOf)).toEqual(['State', 'Link', 'Attribute']);
    expect(enumName(attrs[0], 'State')).toBe('Active');
    expect(enumName(child(attrs[1], 'LinkType')!, 'LinkType')).toBe('ReplacedObjectLink');
    expect(childrenOf(attrs[2]).map((c) => [tagOf(c), c.value])).toEqual([['VendorIdentification', 'x'], ['AttributeName', 'team'], ['AttributeValue', 'hr']]);
  });

  test('Secret Data and a PreActive key: their own object type, no algorithm for a secret, the pending activation date', async () => {
    const secret = childrenOf((await succeed(app, 'GetAttributes', uidXml(scene.secret.key.currentInstance), V21))[1]);
    expect(enumName(secret.find((a) => tagOf(a) === 'ObjectType')!, 'ObjectType')).toBe('SecretData');
    expect(secret.map(tagOf)).not.toContain('CryptographicAlgorithm');
    const pending = childrenOf((await succeed(app, 'GetAttributes', uidXml(scene.pending.key.currentInstance) + '<AttributeReference type="Enumeration" value="State"/><AttributeReference type="Enumeration" value="ActivationDate"/>', V21))[1]);
    expect(enumName(pending[0], 'State')).toBe('PreActive');
    expect(pending[1]).toMatchObject({ type: 'DateTime', value: BigInt(Date.parse('2099-01-01T00:00:00Z') / 1000) });
  });

  test('Get Attribute List names what the object has: 1.4 as names, 2.1 as references', async () => {
    const uid = scene.mac.key.currentInstance;
    const names = (await succeed(app, 'GetAttributeList', uidXml(uid), V14)).slice(1).map((n) => n.value);
    expect(names).toEqual([
      'Unique Identifier', 'Object Type', 'Cryptographic Algorithm', 'Cryptographic Length', 'Activation Date', 'Always Sensitive', 'Cryptographic Usage Mask', 'Digest',
      'Extractable', 'Fresh', 'Initial Date', 'Last Change Date', 'Lease Time', 'Name', 'Never Extractable', 'Original Creation Date', 'Random Number Generator', 'Sensitive', 'State',
    ]);
    const references = (await succeed(app, 'GetAttributeList', uidXml(uid), V21)).slice(1);
    expect(references.map((r) => enumName(r, 'Tag'))).toEqual([
      'UniqueIdentifier', 'ShortUniqueIdentifier', 'ObjectType', 'CryptographicAlgorithm', 'CryptographicLength', 'ActivationDate', 'AlwaysSensitive', 'CryptographicUsageMask', 'Digest',
      'KeyFormatType', 'Extractable', 'Fresh', 'InitialDate', 'LastChangeDate', 'LeaseTime', 'Name', 'NeverExtractable', 'OriginalCreationDate', 'RandomNumberGenerator', 'Sensitive', 'State',
      'ProtectionStorageMask',
    ]);
    const withCustom = (await succeed(app, 'GetAttributeList', uidXml(scene.alpha.key.currentInstance), V21)).slice(1);
    expect(withCustom.filter((r) => r.type === 'Structure').map((r) => childrenOf(r).map((c) => c.value))).toEqual([['x', 'team']]);
  });

  test('Locate by Name answers the key\'s current instance, in 1.4 and 2.1, with or without the default namespace', async () => {
    expect(uids(await succeed(app, 'Locate', `<Attribute><AttributeName type="TextString" value="Object Type"/><AttributeValue type="Enumeration" value="SymmetricKey"/></Attribute><Attribute><AttributeName type="TextString" value="Name"/>${nameXml('kmip/alpha')}</Attribute>`, V14))).toEqual([scene.alpha.key.currentInstance]);
    expect(uids(await succeed(app, 'Locate', `<Attributes><ObjectType type="Enumeration" value="SymmetricKey"/>${nameXml('kmip/alpha', 'Name')}</Attributes>`, V21))).toEqual([scene.alpha.key.currentInstance]);
    // A name that is no key's, and one of the wrong object type: nothing.
    expect(uids(await succeed(app, 'Locate', `<Attributes>${nameXml('kmip/nothing', 'Name')}</Attributes>`, V21))).toEqual([]);
    expect(uids(await succeed(app, 'Locate', `<Attributes><ObjectType type="Enumeration" value="SecretData"/>${nameXml('kmip/alpha', 'Name')}</Attributes>`, V21))).toEqual([]);
    expect(uids(await succeed(app, 'Locate', `<Attributes>${nameXml('kmip/*', 'Name')}</Attributes>`, V21))).toEqual([]);
    // A name without a namespace is in `default`, as on the native wire; the Name reported is the one the client would give (the bare name).
    const solo = await nativeOk<Described>(scene.officer, 'Create', { name: 'solo' });
    const officer = await scene.officerClient();
    for (const name of ['solo', 'default/solo']) expect(uids(await succeed(officer, 'Locate', `<Attributes>${nameXml(name, 'Name')}</Attributes>`, V21))).toEqual([solo.key.currentInstance]);
    const reported = (await succeed(officer, 'GetAttributes', uidXml(solo.key.currentInstance) + '<AttributeReference type="Enumeration" value="Name"/>', V21))[1];
    expect(child(childrenOf(reported)[0], 'NameValue')?.value).toBe('solo');
  });

  test('Locate by object type, state and algorithm finds only the keys the client may locate', async () => {
    const all = uids(await succeed(app, 'Locate', '', V21));
    expect(all.sort()).toEqual([scene.alpha, scene.mac, scene.pending, scene.secret].map((d) => d.key.currentInstance).sort());
    expect(all).not.toContain(scene.hidden.key.currentInstance);
    expect(uids(await succeed(app, 'Locate', '<Attributes><ObjectType type="Enumeration" value="SecretData"/></Attributes>', V21))).toEqual([scene.secret.key.currentInstance]);
    expect(uids(await succeed(app, 'Locate', '<Attributes><State type="Enumeration" value="PreActive"/></Attributes>', V21))).toEqual([scene.pending.key.currentInstance]);
    expect(uids(await succeed(app, 'Locate', '<Attributes><CryptographicAlgorithm type="Enumeration" value="HMAC_SHA256"/></Attributes>', V21))).toEqual([scene.mac.key.currentInstance]);
    const aes256 = '<Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/><AttributeValue type="Enumeration" value="AES"/></Attribute><Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="256"/></Attribute>';
    expect(uids(await succeed(app, 'Locate', aes256, V14)).sort()).toEqual([scene.alpha, scene.pending].map((d) => d.key.currentInstance).sort());
    expect(uids(await succeed(app, 'Locate', '<Attribute><AttributeName type="TextString" value="x-team"/><AttributeValue type="TextString" value="hr"/></Attribute>', V14))).toEqual([scene.alpha.key.currentInstance]);
    // The officer locates by role, the hidden key too; the client without locate, nothing.
    expect(uids(await succeed(await scene.officerClient(), 'Locate', `<Attributes>${nameXml('other/hidden', 'Name')}</Attributes>`, V21))).toEqual([scene.hidden.key.currentInstance]);
    expect(uids(await succeed(app, 'Locate', `<Attributes>${nameXml('other/hidden', 'Name')}</Attributes>`, V21))).toEqual([]);
    expect(uids(await succeed(outsider, 'Locate', '', V21))).toEqual([]);
  });

  test('Locate honours Offset Items and Maximum Items over the matching objects', async () => {
    const all = uids(await succeed(app, 'Locate', '', V21));
    expect(all).toHaveLength(4);
    expect(uids(await succeed(app, 'Locate', '<MaximumItems type="Integer" value="2"/>', V21))).toEqual(all.slice(0, 2));
    expect(uids(await succeed(app, 'Locate', '<MaximumItems type="Integer" value="2"/><OffsetItems type="Integer" value="3"/>', V21))).toEqual(all.slice(3));
    expect(await refusal(app, 'Locate', '<MaximumItems type="Integer" value="-1"/>', V21)).toMatchObject({ reason: 'InvalidField' });
  });

  test('Locate refuses an attribute it cannot match on, rather than locate too much', async () => {
    const refused = await refusal(app, 'Locate', '<Attributes><ActivationDate type="DateTime" value="2026-01-01T00:00:00+00:00"/></Attributes>', V21);
    expect(refused).toMatchObject({ reason: 'FeatureNotSupported', message: expect.stringContaining('Locate by Activation Date is not supported') });
  });

  test('an unknown identifier is Object Not Found (2.x) for an officer and Permission Denied for an app; an app without the grant is denied', async () => {
    expect(await refusal(await scene.officerClient(), 'GetAttributes', uidXml('no-such-object'), V21)).toMatchObject({ reason: 'ObjectNotFound' });
    expect(await refusal(app, 'GetAttributeList', uidXml('no-such-object'), V14)).toMatchObject({ reason: 'PermissionDenied' });
    expect(await refusal(app, 'GetAttributes', uidXml(scene.hidden.key.currentInstance), V21)).toMatchObject({ reason: 'PermissionDenied', message: expect.stringContaining('PERMISSION_DENIED') });
    expect(await refusal(outsider, 'GetAttributes', uidXml(scene.alpha.key.currentInstance), V14)).toMatchObject({ reason: 'PermissionDenied' });
    expect(await refusal(app, 'GetAttributes', '', V21)).toMatchObject({ reason: 'ItemNotFound', message: expect.stringContaining('no earlier item of this batch set the ID Placeholder') });
  });

  test('the audit trail names the key and the instance a KMIP Get Attributes read', async () => {
    const auditor = await scene.t.connect(scene.t.issue('attr-auditor', 'auditor'));
    const found = await nativeOk<{ events: Array<{ event: Record<string, unknown> }> }>(auditor, 'AuditSearch', { identity: 'attr-reader', operation: 'GetAttributes' });
    expect(found.events.map((e) => e.event)).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'kmip/mac', instance: scene.mac.key.currentInstance, result: 'ok' })]));
  });
});
