/**
 * The kept KMIP attributes (Alternative Name, Application Specific
 * Information, Object Group, Cryptographic Parameters) against a real
 * appliance: set at Create and Register, read back by Get Attributes and
 * Get Attribute List, changed by index (1.4) and by value (2.1), and
 * located by, with the storage query narrowing and Maximum/Offset Items
 * counting matches. They are the key's `kmip.<Tag>` custom attributes,
 * readable natively; `x-kmip.…` is refused on the KMIP custom path, and a
 * `kmip.` value written natively that does not decode is absent from the
 * report and refuses a KMIP change clearly.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { attributes1, child, childrenOf, Described, nativeOk, refusal, startAttributeScene, StartedScene, succeed, tagOf, uidXml, uids, V14, V21 } from './kmip-attribute-fixture';

jest.setTimeout(120_000);

const attribute1 = (name: string, valueXml: string): string => `<Attribute><AttributeName type="TextString" value="${name}"/>${valueXml}</Attribute>`;
const group1 = (group: string): string => attribute1('Object Group', `<AttributeValue type="TextString" value="${group}"/>`);
const altName = (text: string, tag = 'AttributeValue'): string =>
  `<${tag}><AlternativeNameValue type="TextString" value="${text}"/><AlternativeNameType type="Enumeration" value="UninterpretedTextString"/></${tag}>`;
const appInfo = (namespace: string, data: string, tag = 'AttributeValue'): string =>
  `<${tag}><ApplicationNamespace type="TextString" value="${namespace}"/><ApplicationData type="TextString" value="${data}"/></${tag}>`;
const parameters = (tag = 'AttributeValue'): string => `<${tag}><BlockCipherMode type="Enumeration" value="CBC"/><PaddingMethod type="Enumeration" value="PKCS5"/></${tag}>`;
const name1 = (name: string): string => attribute1('Name', `<AttributeValue><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue>`);
const aes1 = attribute1('Cryptographic Algorithm', '<AttributeValue type="Enumeration" value="AES"/>') + attribute1('Cryptographic Length', '<AttributeValue type="Integer" value="256"/>') +
  attribute1('Cryptographic Usage Mask', '<AttributeValue type="Integer" value="Decrypt Encrypt"/>');
const nameXml2 = (name: string): string => `<Name><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name>`;
const secret2 = '<SecretData><SecretDataType type="Enumeration" value="Password"/><KeyBlock><KeyFormatType type="Enumeration" value="Opaque"/><KeyValue><KeyMaterial type="ByteString" value="2a2a2a2a"/></KeyValue></KeyBlock></SecretData>';

describe('KMIP kept attributes', () => {
  let scene: StartedScene;
  let app: KmipTlsClient;
  let tape: string;

  const customOf = async (name: string): Promise<Record<string, string>> => (await nativeOk<Described & { key: { customAttributes: Record<string, string> } }>(scene.officer, 'GetAttributes', { name })).key.customAttributes;
  const read1 = async (uid: string, name: string): Promise<Array<{ index?: number; value: unknown }>> =>
    attributes1(await succeed(app, 'GetAttributes', uidXml(uid) + `<AttributeName type="TextString" value="${name}"/>`, V14)).map((row) => ({
      index: row.index,
      value: row.value.type === 'Structure' ? childrenOf(row.value).map((c) => c.value) : row.value.value,
    }));

  beforeAll(async () => {
    scene = await startAttributeScene({ 'kept-app': ['create', 'register', 'locate', 'get-attributes', 'modify-attributes'] });
    app = scene.clients['kept-app'];
    const created = await succeed(
      app,
      'Create',
      '<ObjectType type="Enumeration" value="SymmetricKey"/><TemplateAttribute>' + name1('kmip/tape-1') + aes1 + attribute1('Alternative Name', altName('XXA012A1')) +
        attribute1('Application Specific Information', appInfo('LIBRARY-LTO', 'ABCDEF')) + group1('tapes') + group1('lyon') + attribute1('Cryptographic Parameters', parameters()) +
        attribute1('x-Barcode', '<AttributeValue type="TextString" value="XXA012A1"/>') + '</TemplateAttribute>',
      V14,
    );
    tape = created.find((n) => tagOf(n) === 'UniqueIdentifier')!.value as string;
  });

  afterAll(async () => {
    await scene?.stop();
  });

  test('Create keeps them as the key\'s kmip.<Tag> custom attributes, readable natively, and Get Attributes answers them as themselves', async () => {
    const custom = await customOf('kmip/tape-1');
    expect(Object.keys(custom).sort()).toEqual(['Barcode', 'kmip.AlternativeName', 'kmip.ApplicationSpecificInformation', 'kmip.CryptographicParameters', 'kmip.ObjectGroup']);
    expect(JSON.parse(custom['kmip.ObjectGroup'])).toEqual([{ tag: 'ObjectGroup', type: 'TextString', value: 'tapes' }, { tag: 'ObjectGroup', type: 'TextString', value: 'lyon' }]);
    expect(await read1(tape, 'Object Group')).toEqual([{ index: undefined, value: 'tapes' }, { index: 1, value: 'lyon' }]);
    expect(await read1(tape, 'Alternative Name')).toEqual([{ index: undefined, value: ['XXA012A1', 1] }]);
    expect(await read1(tape, 'Application Specific Information')).toEqual([{ index: undefined, value: ['LIBRARY-LTO', 'ABCDEF'] }]);
    expect(await read1(tape, 'Cryptographic Parameters')).toEqual([{ index: undefined, value: [1, 3] }]); // CBC, PKCS5
    const list = (await succeed(app, 'GetAttributeList', uidXml(tape), V14)).map((n) => n.value);
    expect(list).toEqual(expect.arrayContaining(['Alternative Name', 'Application Specific Information', 'Cryptographic Parameters', 'Object Group', 'x-Barcode']));
    expect(list.filter((n) => typeof n === 'string' && n.startsWith('x-kmip'))).toEqual([]);
    const all2 = await succeed(app, 'GetAttributes', uidXml(tape), V21);
    const attributes = childrenOf(all2.find((n) => tagOf(n) === 'Attributes')!);
    expect(attributes.filter((n) => tagOf(n) === 'ObjectGroup').map((n) => n.value)).toEqual(['tapes', 'lyon']);
    expect(attributes.filter((n) => tagOf(n) === 'Attribute').map((n) => child(n, 'AttributeName')!.value)).toEqual(['Barcode']);
  });

  test('Register (2.1) keeps an Object Group, and Locate finds by Object Group (2.1) and Application Specific Information (1.4), counting only matches', async () => {
    const registered = await succeed(
      app,
      'Register',
      `<ObjectType type="Enumeration" value="SecretData"/><Attributes><ObjectGroup type="TextString" value="tapes"/>${nameXml2('kmip/drive-secret')}</Attributes>${secret2}`,
      V21,
    );
    const secret = registered[0].value as string;
    expect(uids(await succeed(app, 'Locate', '<Attributes><ObjectGroup type="TextString" value="tapes"/></Attributes>', V21)).sort()).toEqual([secret, tape].sort());
    expect(uids(await succeed(app, 'Locate', '<Attributes><ObjectGroup type="TextString" value="lyon"/></Attributes>', V21))).toEqual([tape]);
    expect(uids(await succeed(app, 'Locate', '<Attributes><ObjectGroup type="TextString" value="tape"/></Attributes>', V21))).toEqual([]);
    // The native wire narrows by the same custom attributes (globs), in its storage query.
    const native = await nativeOk<{ keys: Array<{ fullName: string }> }>(scene.officer, 'Locate', { attributes: { 'kmip.ObjectGroup': '*"value":"tapes"}*' } });
    expect(native.keys.map((k) => k.fullName)).toEqual(['kmip/drive-secret', 'kmip/tape-1']);
    expect((await nativeOk<{ keys: unknown[] }>(scene.officer, 'Locate', { attributes: { Barcode: 'XXA*' }, namespace: 'kmip' })).keys).toHaveLength(1);
    // Maximum and Offset Items count matching objects: the two located by group, one at a time.
    const first = uids(await succeed(app, 'Locate', '<MaximumItems type="Integer" value="1"/><Attributes><ObjectGroup type="TextString" value="tapes"/></Attributes>', V21));
    const second = uids(await succeed(app, 'Locate', '<MaximumItems type="Integer" value="1"/><OffsetItems type="Integer" value="1"/><Attributes><ObjectGroup type="TextString" value="tapes"/></Attributes>', V21));
    expect([...first, ...second].sort()).toEqual([secret, tape].sort());
    const byInfo = `<Attribute><AttributeName type="TextString" value="Object Type"/><AttributeValue type="Enumeration" value="SymmetricKey"/></Attribute>${attribute1('Application Specific Information', appInfo('LIBRARY-LTO', 'ABCDEF'))}`;
    expect(uids(await succeed(app, 'Locate', byInfo, V14))).toEqual([tape]);
    expect(uids(await succeed(app, 'Locate', attribute1('Application Specific Information', appInfo('LIBRARY-LTO', 'ABCDE*')), V14))).toEqual([]);
    expect(uids(await succeed(app, 'Locate', attribute1('Alternative Name', altName('XXA012A1')) + attribute1('Cryptographic Parameters', parameters()), V14))).toEqual([tape]);
  });

  test('1.4 adds, modifies and deletes values by Attribute Index, each answer echoing the value and its index', async () => {
    const added = attributes1(await succeed(app, 'AddAttribute', uidXml(tape) + attribute1('Alternative Name', altName('XXA012A2')), V14));
    expect(added.map((r) => [r.name, r.index, childrenOf(r.value)[0].value])).toEqual([['Alternative Name', 1, 'XXA012A2']]);
    const modified = attributes1(await succeed(app, 'ModifyAttribute', uidXml(tape) + attribute1('Alternative Name', '<AttributeIndex type="Integer" value="1"/>' + altName('XXA012A3')), V14));
    expect(modified.map((r) => [r.index, childrenOf(r.value)[0].value])).toEqual([[1, 'XXA012A3']]);
    expect((await read1(tape, 'Alternative Name')).map((r) => (r.value as unknown[])[0])).toEqual(['XXA012A1', 'XXA012A3']);
    const deleted = attributes1(await succeed(app, 'DeleteAttribute', uidXml(tape) + '<AttributeName type="TextString" value="Alternative Name"/><AttributeIndex type="Integer" value="0"/>', V14));
    expect(deleted.map((r) => [r.index, childrenOf(r.value)[0].value])).toEqual([[undefined, 'XXA012A1']]);
    expect((await read1(tape, 'Alternative Name')).map((r) => (r.value as unknown[])[0])).toEqual(['XXA012A3']);
    expect(await refusal(app, 'ModifyAttribute', uidXml(tape) + attribute1('Alternative Name', '<AttributeIndex type="Integer" value="4"/>' + altName('x')), V14)).toMatchObject({
      reason: 'ItemNotFound',
      message: expect.stringContaining('not one at index 4'),
    });
  });

  test('2.1 adds, modifies by Current Attribute, sets and deletes by value or by reference; several values need the Current Attribute', async () => {
    const group2 = (group: string): string => `<ObjectGroup type="TextString" value="${group}"/>`;
    const groups = async (): Promise<string[]> => (await read1(tape, 'Object Group')).map((r) => r.value as string);
    expect(await refusal(app, 'SetAttribute', uidXml(tape) + `<NewAttribute>${group2('x')}</NewAttribute>`, V21)).toMatchObject({ reason: 'MultiValuedAttribute' });
    expect(await refusal(app, 'ModifyAttribute', uidXml(tape) + `<NewAttribute>${group2('x')}</NewAttribute>`, V21)).toMatchObject({ reason: 'MultiValuedAttribute' });
    await succeed(app, 'ModifyAttribute', uidXml(tape) + `<CurrentAttribute>${group2('lyon')}</CurrentAttribute><NewAttribute>${group2('paris')}</NewAttribute>`, V21);
    expect(await groups()).toEqual(['tapes', 'paris']);
    expect(await refusal(app, 'DeleteAttribute', uidXml(tape) + `<CurrentAttribute>${group2('lyon')}</CurrentAttribute>`, V21)).toMatchObject({ reason: 'AttributeInstanceNotFound' });
    await succeed(app, 'DeleteAttribute', uidXml(tape) + `<CurrentAttribute>${group2('tapes')}</CurrentAttribute>`, V21);
    await succeed(app, 'SetAttribute', uidXml(tape) + `<NewAttribute>${group2('nice')}</NewAttribute>`, V21);
    await succeed(app, 'AddAttribute', uidXml(tape) + `<NewAttribute>${group2('lille')}</NewAttribute>`, V21);
    expect(await groups()).toEqual(['nice', 'lille']);
    await succeed(app, 'DeleteAttribute', uidXml(tape) + '<AttributeReference type="Enumeration" value="ObjectGroup"/>', V21);
    expect(await customOf('kmip/tape-1')).not.toHaveProperty('kmip.ObjectGroup');
    expect(await refusal(app, 'DeleteAttribute', uidXml(tape) + '<AttributeReference type="Enumeration" value="ObjectGroup"/>', V21)).toMatchObject({ reason: 'AttributeNotFound' });
    await succeed(app, 'SetAttribute', uidXml(tape) + `<NewAttribute>${parameters('CryptographicParameters').replace('CBC', 'GCM').replace('PKCS5', 'None')}</NewAttribute>`, V21);
    expect(await read1(tape, 'Cryptographic Parameters')).toEqual([{ index: undefined, value: [9, 1] }]);
  });

  test('a custom attribute of another type than Text String (the OASIS TL cases\' Integer and Date-Time) is kept typed as kmip.x-NAME and changes form with its value', async () => {
    const uid = scene.mac.key.currentInstance;
    await succeed(app, 'AddAttribute', uidXml(uid) + attribute1('x-VendorAttribute2', '<AttributeValue type="Integer" value="0"/>'), V14);
    await succeed(app, 'AddAttribute', uidXml(uid) + attribute1('x-VendorAttribute3', '<AttributeValue type="DateTime" value="2026-03-01T10:00:00+00:00"/>'), V14);
    expect(await customOf('kmip/mac')).toEqual({
      'kmip.x-VendorAttribute2': '[{"tag":"AttributeValue","type":"Integer","value":0}]',
      'kmip.x-VendorAttribute3': '[{"tag":"AttributeValue","type":"DateTime","value":"2026-03-01T10:00:00+00:00"}]',
    });
    const modified = attributes1(await succeed(app, 'ModifyAttribute', uidXml(uid) + attribute1('x-VendorAttribute2', '<AttributeValue type="Integer" value="1"/>'), V14));
    expect(modified.map((r) => [r.name, r.value.type, r.value.value])).toEqual([['x-VendorAttribute2', 'Integer', 1]]);
    const read = attributes1(await succeed(app, 'GetAttributes', uidXml(uid), V14)).filter((r) => r.name.startsWith('x-'));
    expect(read.map((r) => [r.name, r.value.type, r.value.value])).toEqual([['x-VendorAttribute2', 'Integer', 1], ['x-VendorAttribute3', 'DateTime', 1772359200n]]);
    const vendor = '<Attribute><VendorIdentification type="TextString" value="x"/><AttributeName type="TextString" value="VendorAttribute2"/><AttributeValue type="Integer" value="1"/></Attribute>';
    expect(await refusal(app, 'DeleteAttribute', uidXml(uid) + `<CurrentAttribute>${vendor.replace('"1"', '"2"')}</CurrentAttribute>`, V21)).toMatchObject({ reason: 'AttributeInstanceNotFound' });
    await succeed(app, 'SetAttribute', uidXml(uid) + `<NewAttribute>${vendor.replace('type="Integer" value="1"', 'type="TextString" value="one"')}</NewAttribute>`, V21);
    expect(await customOf('kmip/mac')).toEqual({ VendorAttribute2: 'one', 'kmip.x-VendorAttribute3': '[{"tag":"AttributeValue","type":"DateTime","value":"2026-03-01T10:00:00+00:00"}]' });
    await succeed(app, 'DeleteAttribute', uidXml(uid) + '<AttributeName type="TextString" value="x-VendorAttribute3"/>', V14);
    await succeed(app, 'DeleteAttribute', uidXml(uid) + '<AttributeName type="TextString" value="x-VendorAttribute2"/>', V14);
    expect(await customOf('kmip/mac')).toEqual({});
  });

  test('refused: x-kmip.… on the custom path, a value of the wrong shape, values too long for one key, and a change to a natively written value that does not decode', async () => {
    const uid = scene.alpha.key.currentInstance;
    const reserved1 = await refusal(app, 'AddAttribute', uidXml(uid) + attribute1('x-kmip.ObjectGroup', '<AttributeValue type="TextString" value="g"/>'), V14);
    expect(reserved1).toMatchObject({ reason: 'InvalidField', message: expect.stringContaining('"x-kmip.ObjectGroup" is reserved') });
    const vendor = '<Attribute><VendorIdentification type="TextString" value="x"/><AttributeName type="TextString" value="kmip.ObjectGroup"/><AttributeValue type="TextString" value="g"/></Attribute>';
    expect(await refusal(app, 'SetAttribute', uidXml(uid) + `<NewAttribute>${vendor}</NewAttribute>`, V21)).toMatchObject({ reason: 'InvalidField', message: expect.stringContaining('is reserved') });
    expect(await refusal(app, 'GetAttributes', uidXml(uid) + '<AttributeName type="TextString" value="x-kmip.ObjectGroup"/>', V14)).toMatchObject({ reason: 'InvalidField' });
    expect(await refusal(app, 'AddAttribute', uidXml(uid) + attribute1('Object Group', '<AttributeValue type="Integer" value="1"/>'), V14)).toMatchObject({ reason: 'InvalidField' });
    const long = 'A'.repeat(800); // one such value fits (about 990 characters encoded), a second does not
    await succeed(app, 'AddAttribute', uidXml(uid) + attribute1('Application Specific Information', appInfo('LIBRARY-LTO', long)), V14);
    expect(await refusal(app, 'AddAttribute', uidXml(uid) + attribute1('Application Specific Information', appInfo('LIBRARY-LTO', long)), V14)).toMatchObject({
      reason: 'InvalidField',
      message: expect.stringContaining('at most 1024'),
    });

    await nativeOk(scene.officer, 'SetCustomAttributes', { name: 'kmip/alpha', set: { 'kmip.ObjectGroup': 'written natively' } });
    const reported = attributes1(await succeed(app, 'GetAttributes', uidXml(uid), V14)).map((r) => r.name);
    expect(reported).toContain('x-team');
    expect(reported).not.toContain('Object Group');
    expect(reported.filter((n) => n.startsWith('x-kmip'))).toEqual([]);
    expect(await refusal(app, 'AddAttribute', uidXml(uid) + group1('g'), V14)).toMatchObject({
      reason: 'IllegalOperation',
      message: expect.stringContaining('kmip.ObjectGroup custom attribute is not a KMIP JSON list of Object Group values (not JSON)'),
    });
    expect(uids(await succeed(app, 'Locate', '<Attributes><ObjectGroup type="TextString" value="written natively"/></Attributes>', V21))).toEqual([]);
    expect((await customOf('kmip/alpha'))['kmip.ObjectGroup']).toBe('written natively');
  });
});
