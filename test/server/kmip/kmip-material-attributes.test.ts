/**
 * What the appliance says of an object's material over KMIP, against a real
 * appliance (SoftHSM2, SQLite, mutual TLS): a created key's Digest is the
 * SHA-256 of the very bytes Get serves (1.4 and 2.1); a Secret Data object
 * has no Digest and no Random Number Generator (its material is the
 * caller's, maybe a password); every key is Extractable and not Sensitive
 * (Get serves it); a version before an attribute existed is not told it.
 */
import { createHash } from 'node:crypto';
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { enumeration } from '../../../protocol/kmip/dictionary';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { attributes1, child, childrenOf, startAttributeScene, StartedScene, succeed, tagOf, uidXml, V14, V21 } from './kmip-attribute-fixture';

jest.setTimeout(90_000);

const V13 = { major: 1, minor: 3 };
const V12 = { major: 1, minor: 2 };
const enumName = (node: TtlvNode | undefined, enumerationName: string): string | undefined => enumeration(enumerationName)?.byValue.get(node?.value as number);

/** The first item tagged `tag` anywhere below `nodes`. */
function find(nodes: readonly TtlvNode[], tag: string): TtlvNode | undefined {
  for (const node of nodes) {
    if (tagOf(node) === tag) return node;
    if (node.type === 'Structure') {
      const found = find(childrenOf(node), tag);
      if (found) return found;
    }
  }
  return undefined;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const hex = (node: TtlvNode | undefined): string => Buffer.from(node?.value as Uint8Array).toString('hex');

describe('KMIP material attributes', () => {
  let scene: StartedScene;
  let app: KmipTlsClient;

  beforeAll(async () => {
    scene = await startAttributeScene({});
    // A grant of `get` is dual-controlled, and goes to a client that exists.
    const credentials = scene.t.issue('material-reader', 'app');
    const granted = await scene.officer.request('PolicyGrant', { client: 'material-reader', pattern: 'kmip/*', permissions: ['create', 'get', 'get-attributes'] });
    expect((await scene.t.approve(granted)).state).toBe('executed');
    app = await KmipTlsClient.open(scene.t.server.kmipPort!, credentials);
  });

  afterAll(async () => {
    app?.destroy();
    await scene?.stop();
  });

  test('a key created over KMIP 2.1 has a Digest: SHA-256 of the material Get serves, of the Raw key', async () => {
    const created = await succeed(
      app,
      'Create',
      '<ObjectType type="Enumeration" value="SymmetricKey"/><Attributes><CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="256"/>' +
        '<CryptographicUsageMask type="Integer" value="12"/><Name><NameValue type="TextString" value="kmip/digested"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name></Attributes>',
      V21,
    );
    const uid = find(created, 'UniqueIdentifier')!.value as string;
    const attributes = childrenOf((await succeed(app, 'GetAttributes', uidXml(uid) + '<AttributeReference type="Enumeration" value="Digest"/>', V21))[1]);
    expect(attributes.map(tagOf)).toEqual(['Digest']);
    const digest = attributes[0];
    expect(childrenOf(digest).map(tagOf)).toEqual(['HashingAlgorithm', 'DigestValue', 'KeyFormatType']);
    expect(enumName(child(digest, 'HashingAlgorithm'), 'HashingAlgorithm')).toBe('SHA_256');
    expect(enumName(child(digest, 'KeyFormatType'), 'KeyFormatType')).toBe('Raw');
    const material = find(await succeed(app, 'Get', uidXml(uid), V21), 'KeyMaterial')!;
    expect((material.value as Uint8Array).length).toBe(32);
    expect(hex(child(digest, 'DigestValue'))).toBe(sha256(material.value as Uint8Array));
  });

  test('1.4: each instance\'s Digest is its own material\'s, an older instance\'s too', async () => {
    const oldest = scene.alpha.instances.find((i) => i.version === 1)!.name;
    const current = scene.alpha.key.currentInstance;
    const digestOf = async (uid: string): Promise<string> => {
      const rows = attributes1(await succeed(app, 'GetAttributes', uidXml(uid) + '<AttributeName type="TextString" value="Digest"/>', V14));
      expect(rows.map((r) => r.name)).toEqual(['Digest']);
      return hex(child(rows[0].value, 'DigestValue'));
    };
    const materialOf = async (uid: string): Promise<Uint8Array> => find(await succeed(app, 'Get', uidXml(uid), V14), 'KeyMaterial')!.value as Uint8Array;
    expect(await digestOf(oldest)).toBe(sha256(await materialOf(oldest)));
    expect(await digestOf(current)).toBe(sha256(await materialOf(current)));
    expect(await digestOf(oldest)).not.toBe(await digestOf(current));
  });

  test('a generated key tells its generator and that Get serves it: DRBG (CTR, AES-256), Extractable, not Sensitive', async () => {
    const uid = scene.mac.key.currentInstance;
    const names = ['Random Number Generator', 'Sensitive', 'Always Sensitive', 'Extractable', 'Never Extractable'];
    const rows = attributes1(await succeed(app, 'GetAttributes', uidXml(uid) + names.map((n) => `<AttributeName type="TextString" value="${n}"/>`).join(''), V14));
    expect(rows.map((r) => r.name)).toEqual(names);
    const rng = rows[0].value;
    expect(childrenOf(rng).map((c) => [tagOf(c), c.type === 'Enumeration' ? enumName(c, tagOf(c)) : c.value])).toEqual([
      ['RNGAlgorithm', 'DRBG'], ['CryptographicAlgorithm', 'AES'], ['CryptographicLength', 256], ['DRBGAlgorithm', 'CTR'],
    ]);
    expect(rows.slice(1).map((r) => [r.value.type, r.value.value])).toEqual([['Boolean', false], ['Boolean', false], ['Boolean', true], ['Boolean', false]]);
  });

  test('Secret Data has no Digest (a password\'s hash would give it away) and no generator, asked by name or listed', async () => {
    const uid = scene.secret.key.currentInstance;
    const named = childrenOf((await succeed(app, 'GetAttributes', uidXml(uid) + '<AttributeReference type="Enumeration" value="Digest"/><AttributeReference type="Enumeration" value="RandomNumberGenerator"/><AttributeReference type="Enumeration" value="ObjectType"/>', V21))[1]);
    expect(named.map(tagOf)).toEqual(['ObjectType']);
    const all = childrenOf((await succeed(app, 'GetAttributes', uidXml(uid), V21))[1]).map(tagOf);
    expect(all).not.toContain('Digest');
    expect(all).toEqual(expect.arrayContaining(['Extractable', 'Sensitive']));
    const listed = (await succeed(app, 'GetAttributeList', uidXml(uid), V14)).slice(1).map((n) => n.value);
    expect(listed).not.toContain('Digest');
    expect(listed).not.toContain('Random Number Generator');
    expect(listed).toContain('Extractable');
  });

  test('a version before an attribute existed is not told it: 1.3 has no Sensitive or Extractable, 1.2 no Random Number Generator; Digest is in every version', async () => {
    const uid = scene.mac.key.currentInstance;
    const listed = async (version: { major: number; minor: number }): Promise<unknown[]> => (await succeed(app, 'GetAttributeList', uidXml(uid), version)).slice(1).map((n) => n.value);
    const v13 = await listed(V13);
    expect(v13).toEqual(expect.arrayContaining(['Digest', 'Random Number Generator']));
    expect(v13).not.toEqual(expect.arrayContaining(['Sensitive']));
    expect(v13).not.toEqual(expect.arrayContaining(['Extractable']));
    const v12 = await listed(V12);
    expect(v12).toContain('Digest');
    expect(v12).not.toContain('Random Number Generator');
  });
});
