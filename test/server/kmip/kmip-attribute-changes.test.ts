/**
 * Add, Modify, Delete Attribute (1.4 and 2.1) and Set Attribute (2.1)
 * against a real appliance: custom attributes change through the native
 * SetCustomAttributes (the OASIS SKFF-M-9 shapes: 1.4 echoes the attribute,
 * 2.1 answers the identifier), and every other attribute is refused with
 * its Result Reason in each version (the SKLC-M-3 answers for an Activation
 * Date of an Active object), as is a client without modify-attributes.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { attributes1, Described, nativeOk, refusal, startAttributeScene, StartedScene, succeed, tagOf, uidXml, V14, V21 } from './kmip-attribute-fixture';

jest.setTimeout(90_000);

const attribute1 = (name: string, valueXml: string): string => `<Attribute><AttributeName type="TextString" value="${name}"/>${valueXml}</Attribute>`;
const text1 = (name: string, value: string): string => attribute1(name, `<AttributeValue type="TextString" value="${value}"/>`);
const vendor2 = (name: string, value: string, vendor = 'x'): string =>
  `<Attribute><VendorIdentification type="TextString" value="${vendor}"/><AttributeName type="TextString" value="${name}"/><AttributeValue type="TextString" value="${value}"/></Attribute>`;

describe('KMIP attribute changes', () => {
  let scene: StartedScene;
  let app: KmipTlsClient;
  let reader: KmipTlsClient;

  const customOf = async (name: string): Promise<Record<string, string>> => (await nativeOk<Described & { key: { customAttributes: Record<string, string> } }>(scene.officer, 'GetAttributes', { name })).key.customAttributes;

  beforeAll(async () => {
    scene = await startAttributeScene({ 'attr-writer': ['locate', 'get-attributes', 'modify-attributes'], 'attr-reader': ['get-attributes'] });
    app = scene.clients['attr-writer'];
    reader = scene.clients['attr-reader'];
  });

  afterAll(async () => {
    await scene?.stop();
  });

  test('1.4 adds, modifies and deletes an x- attribute, each answer echoing the attribute, and the key keeps it', async () => {
    const uid = scene.mac.key.currentInstance;
    const added = await succeed(app, 'AddAttribute', uidXml(uid) + text1('x-site', 'lyon'), V14);
    expect(added[0].value).toBe(uid);
    expect(attributes1(added).map((r) => [r.name, r.value.value])).toEqual([['x-site', 'lyon']]);
    expect(await customOf('kmip/mac')).toEqual({ site: 'lyon' });

    const modified = await succeed(app, 'ModifyAttribute', uidXml(uid) + text1('x-site', 'paris'), V14);
    expect(attributes1(modified).map((r) => [r.name, r.value.value])).toEqual([['x-site', 'paris']]);
    const read = attributes1(await succeed(app, 'GetAttributes', uidXml(uid) + '<AttributeName type="TextString" value="x-site"/>', V14));
    expect(read.map((r) => r.value.value)).toEqual(['paris']);

    const deleted = await succeed(app, 'DeleteAttribute', uidXml(uid) + '<AttributeName type="TextString" value="x-site"/>', V14);
    expect(attributes1(deleted).map((r) => [r.name, r.value.value])).toEqual([['x-site', 'paris']]);
    expect(await customOf('kmip/mac')).toEqual({});
  });

  test('2.1 adds, modifies, sets and deletes a vendor-x attribute; the answer is the identifier', async () => {
    const uid = scene.alpha.instances.find((i) => i.version === 1)!.name; // an older instance: the attributes are the key's
    const added = await succeed(app, 'AddAttribute', uidXml(uid) + `<NewAttribute>${vendor2('site', 'lyon')}</NewAttribute>`, V21);
    expect(added.map(tagOf)).toEqual(['UniqueIdentifier']);
    expect(await customOf('kmip/alpha')).toEqual({ team: 'hr', site: 'lyon' });
    await succeed(app, 'ModifyAttribute', uidXml(uid) + `<CurrentAttribute>${vendor2('site', 'lyon')}</CurrentAttribute><NewAttribute>${vendor2('site', 'nice')}</NewAttribute>`, V21);
    await succeed(app, 'SetAttribute', uidXml(uid) + `<NewAttribute>${vendor2('floor', '3')}</NewAttribute>`, V21);
    expect(await customOf('kmip/alpha')).toEqual({ team: 'hr', site: 'nice', floor: '3' });
    await succeed(app, 'DeleteAttribute', uidXml(uid) + '<AttributeReference><VendorIdentification type="TextString" value="x"/><AttributeName type="TextString" value="floor"/></AttributeReference>', V21);
    await succeed(app, 'DeleteAttribute', uidXml(uid) + `<CurrentAttribute>${vendor2('site', 'nice')}</CurrentAttribute>`, V21);
    expect(await customOf('kmip/alpha')).toEqual({ team: 'hr' });
  });

  test('custom attribute refusals: a second value, a missing one, another instance or value, a Structure value, another vendor', async () => {
    const uid = scene.alpha.key.currentInstance;
    expect(await refusal(app, 'AddAttribute', uidXml(uid) + text1('x-team', 'ops'), V14)).toMatchObject({ reason: 'IllegalOperation', message: expect.stringContaining('already has x-team') });
    expect(await refusal(app, 'AddAttribute', uidXml(uid) + `<NewAttribute>${vendor2('team', 'ops')}</NewAttribute>`, V21)).toMatchObject({ reason: 'AttributeSingleValued' });
    expect(await refusal(app, 'DeleteAttribute', uidXml(uid) + '<AttributeName type="TextString" value="x-none"/>', V14)).toMatchObject({ reason: 'ItemNotFound', message: 'the object has no x-none' });
    expect(await refusal(app, 'ModifyAttribute', uidXml(uid) + `<NewAttribute>${vendor2('none', 'v')}</NewAttribute>`, V21)).toMatchObject({ reason: 'AttributeNotFound' });
    expect(await refusal(app, 'ModifyAttribute', uidXml(uid) + attribute1('x-team', '<AttributeIndex type="Integer" value="1"/><AttributeValue type="TextString" value="v"/>'), V14)).toMatchObject({ reason: 'ItemNotFound' });
    expect(await refusal(app, 'DeleteAttribute', uidXml(uid) + `<CurrentAttribute>${vendor2('team', 'not-hr')}</CurrentAttribute>`, V21)).toMatchObject({ reason: 'AttributeInstanceNotFound' });
    expect(await refusal(app, 'AddAttribute', uidXml(uid) + attribute1('x-count', '<AttributeValue><NameValue type="TextString" value="3"/></AttributeValue>'), V14)).toMatchObject({ reason: 'InvalidField' });
    expect(await refusal(app, 'SetAttribute', uidXml(uid) + `<NewAttribute>${vendor2('site', 'v', 'acme')}</NewAttribute>`, V21)).toMatchObject({ reason: 'UnsupportedAttribute' });
    expect(await refusal(app, 'AddAttribute', uidXml(uid) + text1('x-bad name', 'v'), V14)).toMatchObject({ reason: 'InvalidField' });
    expect(await customOf('kmip/alpha')).toEqual({ team: 'hr' });
  });

  test('attributes the server keeps are read-only, each with the reason its operation defines', async () => {
    const uid = scene.alpha.key.currentInstance;
    const name = '<Name><NameValue type="TextString" value="kmip/renamed"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name>';
    expect(await refusal(app, 'ModifyAttribute', uidXml(uid) + `<NewAttribute>${name}</NewAttribute>`, V21)).toMatchObject({ reason: 'AttributeReadOnly', message: expect.stringContaining('keys are not renamed') });
    expect(await refusal(app, 'SetAttribute', uidXml(uid) + '<NewAttribute><CryptographicUsageMask type="Integer" value="Encrypt"/></NewAttribute>', V21)).toMatchObject({ reason: 'ReadOnlyAttribute' });
    expect(await refusal(app, 'DeleteAttribute', uidXml(uid) + '<AttributeName type="TextString" value="State"/>', V14)).toMatchObject({ reason: 'PermissionDenied', message: expect.stringContaining('Activate, Revoke and Destroy') });
    expect(await refusal(app, 'AddAttribute', uidXml(uid) + '<NewAttribute><ContactInformation type="TextString" value="ops"/></NewAttribute>', V21)).toMatchObject({ reason: 'UnsupportedAttribute' });
    expect(await refusal(app, 'SetAttribute', uidXml(uid) + `<NewAttribute>${vendor2('site', 'v')}</NewAttribute>`, V14)).toMatchObject({ reason: 'OperationNotSupported' });
  });

  test('an Activation Date: Wrong Key Lifecycle State (2.1) or Permission Denied (1.4) unless PreActive, and not moved when PreActive', async () => {
    const active = scene.mac.key.currentInstance;
    const date2 = '<NewAttribute><ActivationDate type="DateTime" value="2030-01-01T00:00:00+00:00"/></NewAttribute>';
    expect(await refusal(app, 'ModifyAttribute', uidXml(active) + date2, V21)).toMatchObject({ reason: 'WrongKeyLifecycleState', message: 'Activation Date: the object is Active, not PreActive' });
    expect(await refusal(app, 'ModifyAttribute', uidXml(active) + attribute1('Activation Date', '<AttributeValue type="DateTime" value="2030-01-01T00:00:00+00:00"/>'), V14)).toMatchObject({ reason: 'PermissionDenied' });
    expect(await refusal(app, 'SetAttribute', uidXml(scene.pending.key.currentInstance) + date2, V21)).toMatchObject({ reason: 'FeatureNotSupported', message: expect.stringContaining('Activate activates the object now') });
  });

  test('without modify-attributes, or without any grant on the key, a change is Permission Denied and nothing changes', async () => {
    const uid = scene.secret.key.currentInstance;
    const denied = await refusal(reader, 'AddAttribute', uidXml(uid) + text1('x-site', 'lyon'), V14);
    expect(denied).toMatchObject({ reason: 'PermissionDenied', message: expect.stringContaining('modify-attributes') });
    expect(await refusal(app, 'AddAttribute', uidXml(scene.hidden.key.currentInstance) + text1('x-site', 'lyon'), V14)).toMatchObject({ reason: 'PermissionDenied' });
    expect(await customOf('kmip/secret')).toEqual({});
    expect(await customOf('other/hidden')).toEqual({});
  });

  test('the audit trail names the key and instance of a KMIP attribute change', async () => {
    const auditor = await scene.t.connect(scene.t.issue('attr-auditor', 'auditor'));
    const found = await nativeOk<{ events: Array<{ event: Record<string, unknown> }> }>(auditor, 'AuditSearch', { identity: 'attr-writer', operation: 'SetCustomAttributes' });
    expect(found.events.map((e) => e.event)).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'operation', key: 'kmip/mac', instance: scene.mac.key.currentInstance, result: 'ok' })]));
  });
});
