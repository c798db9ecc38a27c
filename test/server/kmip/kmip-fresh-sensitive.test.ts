/**
 * KMIP Fresh, Lease Time, Key Format Type, Protection Storage Mask and a
 * client's Sensitive, against a real appliance (SoftHSM2, SQLite, mutual
 * TLS), on both wires: Fresh is true until the first Get serves the
 * material, then false for good (one change, however many Gets race for
 * it, each of them audited); a client may register an object already
 * handed out (Fresh false), never create one so; a sensitive object's
 * material is refused in the clear (Result Reason Sensitive; native
 * SENSITIVE) and stays fresh; 2.x alone is told Key Format Type and
 * Protection Storage Mask.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { enumeration, mask } from '../../../protocol/kmip/dictionary';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { RawConnection } from '../../support/appliance-fixture';
import { attributes1, childrenOf, nativeOk, refusal, startAttributeScene, StartedScene, succeed, tagOf, uidXml, V14, V21 } from './kmip-attribute-fixture';

jest.setTimeout(120_000);

interface Described {
  key: { fullName: string; currentInstance: string };
  instance: { name: string; fresh: boolean };
  material: { sensitive: boolean; leaseSeconds: number; storage: string };
}

const createXml = (name: string): string =>
  '<ObjectType type="Enumeration" value="SymmetricKey"/><Attributes><CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="128"/>' +
  `<CryptographicUsageMask type="Integer" value="12"/><Name><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name></Attributes>`;

/** A 2.1 Register of Secret Data named `name`, with `extra` attributes (Fresh, Sensitive…). */
const registerSecretXml = (name: string, extra: string): string =>
  `<ObjectType type="Enumeration" value="SecretData"/><Attributes>${extra}` +
  `<Name><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name></Attributes>` +
  '<SecretData><SecretDataType type="Enumeration" value="Password"/><KeyBlock><KeyFormatType type="Enumeration" value="Opaque"/>' +
  '<KeyValue><KeyMaterial type="ByteString" value="73656372657420666f722074657374"/></KeyValue></KeyBlock></SecretData>';

const uidIn = (nodes: readonly TtlvNode[]): string => nodes.find((n) => tagOf(n) === 'UniqueIdentifier')!.value as string;

describe('KMIP Fresh, Lease Time, Key Format Type, Protection Storage Mask and Sensitive', () => {
  let scene: StartedScene;
  let kmip: KmipTlsClient;
  let native: RawConnection;
  let twin: RawConnection;

  beforeAll(async () => {
    scene = await startAttributeScene({});
    // Certificates before any connection (the TLS 1.3 race); a grant of `get` is dual-controlled, to a client that exists.
    const credentials = scene.t.issue('fresh-reader', 'app');
    const granted = await scene.officer.request('PolicyGrant', { client: 'fresh-reader', pattern: 'kmip/*', permissions: ['create', 'register', 'get', 'get-attributes'] });
    expect((await scene.t.approve(granted)).state).toBe('executed');
    kmip = await KmipTlsClient.open(scene.t.server.kmipPort!, credentials);
    native = await scene.t.connect(credentials);
    twin = await scene.t.connect(credentials);
  });

  afterAll(async () => {
    kmip?.destroy();
    native?.destroy();
    twin?.destroy();
    await scene?.stop();
  });

  /** 2.1 GetAttributes of `uid`, as [tag, value] pairs of the attributes asked for. */
  const attributes21 = async (uid: string, tags: readonly string[]): Promise<Array<[string, unknown]>> => {
    const asked = tags.map((t) => `<AttributeReference type="Enumeration" value="${t}"/>`).join('');
    return childrenOf((await succeed(kmip, 'GetAttributes', uidXml(uid) + asked, V21))[1]).map((n) => [tagOf(n), n.value]);
  };

  test('a key created over KMIP is Fresh until its first Get, then not; 2.1 tells the Lease Time, Key Format Type Raw and Protection Storage Mask Software', async () => {
    const uid = uidIn(await succeed(kmip, 'Create', createXml('kmip/fresh-one'), V21));
    const software = mask('ProtectionStorageMask')!.byName.get('Software');
    const raw = enumeration('KeyFormatType')!.byName.get('Raw');
    expect(await attributes21(uid, ['Fresh', 'LeaseTime', 'KeyFormatType', 'ProtectionStorageMask'])).toEqual([
      ['Fresh', true], ['LeaseTime', 3600], ['KeyFormatType', raw], ['ProtectionStorageMask', software],
    ]);
    await succeed(kmip, 'Get', uidXml(uid), V21);
    expect(await attributes21(uid, ['Fresh'])).toEqual([['Fresh', false]]);
    // A second Get leaves it as it is.
    await succeed(kmip, 'Get', uidXml(uid), V21);
    expect(await attributes21(uid, ['Fresh'])).toEqual([['Fresh', false]]);
    // The native view says the same.
    expect((await nativeOk<Described>(native, 'GetAttributes', { instance: uid })).instance.fresh).toBe(false);
  });

  test('1.4 is told Fresh and Lease Time, not the 2.x Key Format Type or Protection Storage Mask', async () => {
    const uid = uidIn(await succeed(kmip, 'Create', createXml('kmip/fresh-14'), V21));
    const listed = (await succeed(kmip, 'GetAttributeList', uidXml(uid), V14)).slice(1).map((n) => n.value);
    expect(listed).toEqual(expect.arrayContaining(['Fresh', 'Lease Time']));
    expect(listed).not.toContain('Key Format Type');
    expect(listed).not.toContain('Protection Storage Mask');
    const rows = attributes1(await succeed(kmip, 'GetAttributes', uidXml(uid) + '<AttributeName type="TextString" value="Fresh"/><AttributeName type="TextString" value="Lease Time"/>', V14));
    expect(rows.map((r) => [r.name, r.value.type, r.value.value])).toEqual([['Fresh', 'Boolean', true], ['Lease Time', 'Interval', 3600]]);
  });

  test('two simultaneous first Gets both get the material, leave one consistent flag, and are two audit events', async () => {
    const made = await nativeOk<{ key: { currentInstance: string } }>(scene.officer, 'Create', { name: 'kmip/raced' });
    const instance = made.key.currentInstance;
    expect((await nativeOk<Described>(native, 'GetAttributes', { instance })).instance.fresh).toBe(true);
    const [first, second] = await Promise.all([native.request('Get', { instance }), twin.request('Get', { instance })]);
    expect([first.error, second.error]).toEqual([undefined, undefined]);
    const served = [first, second].map((r) => (r.result as { material: string; instance: { fresh: boolean } }));
    expect(served[0].material).toBe(served[1].material);
    // Each answer says the instance is no longer fresh: its material has just been served.
    expect(served.map((r) => r.instance.fresh)).toEqual([false, false]);
    expect((await nativeOk<Described>(native, 'GetAttributes', { instance })).instance.fresh).toBe(false);
    const found = await nativeOk<{ events: Array<{ event: { identity: { name: string } | null; instance?: string | null; result: string } }> }>(scene.officer, 'AuditSearch', { key: 'kmip/raced', operation: 'Get' });
    expect(found.events.map((e) => [e.event.identity?.name, e.event.instance, e.event.result])).toEqual([['fresh-reader', instance, 'ok'], ['fresh-reader', instance, 'ok']]);
  });

  test('a rollover makes a fresh instance; the served one stays not fresh', async () => {
    const made = await nativeOk<{ key: { currentInstance: string } }>(scene.officer, 'Create', { name: 'kmip/rolled-fresh' });
    await nativeOk(native, 'Get', { name: 'kmip/rolled-fresh' });
    const rolled = await nativeOk<{ key: { currentInstance: string } }>(scene.officer, 'ReKey', { name: 'kmip/rolled-fresh' });
    expect((await nativeOk<Described>(native, 'GetAttributes', { instance: made.key.currentInstance })).instance.fresh).toBe(false);
    expect((await nativeOk<Described>(native, 'GetAttributes', { instance: rolled.key.currentInstance })).instance.fresh).toBe(true);
  });

  test('Register takes Fresh from the client (false: handed out already); Create refuses Fresh false', async () => {
    const handedOut = uidIn(await succeed(kmip, 'Register', registerSecretXml('kmip/handed-out', '<Fresh type="Boolean" value="false"/>'), V21));
    expect(await attributes21(handedOut, ['Fresh'])).toEqual([['Fresh', false]]);
    const unsaid = uidIn(await succeed(kmip, 'Register', registerSecretXml('kmip/unsaid', '<Fresh type="Boolean" value="true"/>'), V21));
    expect(await attributes21(unsaid, ['Fresh'])).toEqual([['Fresh', true]]);
    const refused = await refusal(kmip, 'Create', createXml('kmip/never-fresh').replace('<Name>', '<Fresh type="Boolean" value="false"/><Name>'), V21);
    expect(refused).toMatchObject({ reason: 'InvalidField' });
    expect(refused.message).toMatch(/Fresh cannot be false at Create/);
  });

  test('a Sensitive object is never served in the clear, on either wire, stays Fresh, and says Sensitive and Always Sensitive', async () => {
    const uid = uidIn(await succeed(kmip, 'Register', registerSecretXml('kmip/sensitive', '<Sensitive type="Boolean" value="true"/>'), V21));
    expect(await refusal(kmip, 'Get', uidXml(uid), V21)).toMatchObject({ reason: 'Sensitive' });
    expect(await refusal(kmip, 'Get', uidXml(uid), V14)).toMatchObject({ reason: 'Sensitive' });
    const refused = await native.request('Get', { instance: uid });
    expect(refused.error?.code).toBe('SENSITIVE');
    expect(refused.result).toBeUndefined();
    expect(await attributes21(uid, ['AlwaysSensitive', 'Fresh', 'Sensitive'])).toEqual([['AlwaysSensitive', true], ['Fresh', true], ['Sensitive', true]]);
    expect((await nativeOk<Described>(native, 'GetAttributes', { instance: uid })).material).toMatchObject({ sensitive: true, leaseSeconds: 3600, storage: 'software' });
  });

  test('a key created sensitive on the native wire is refused to Get, and still used for Encrypt', async () => {
    await nativeOk(scene.officer, 'Create', { name: 'kmip/sealed-in', sensitive: true });
    await nativeOk(scene.officer, 'PolicyGrant', { client: 'fresh-reader', pattern: 'kmip/sealed-in', permissions: ['encrypt'] });
    expect((await native.request('Get', { name: 'kmip/sealed-in' })).error?.code).toBe('SENSITIVE');
    const sealed = await nativeOk<{ ciphertext: string }>(native, 'Encrypt', { name: 'kmip/sealed-in', plaintext: Buffer.from('still usable').toString('base64') });
    expect(sealed.ciphertext.length).toBeGreaterThan(0);
  });
});
