/**
 * DSA keys kept, never used (docs/kmip.md §3.8), against a real appliance:
 * a key pair made at test time (node:crypto, 2048/256) and the OASIS
 * BL-M-12/13 key (512/160) registered over KMIP 2.1 in the Transparent DSA
 * formats and as X.509 / PKCS#8, read back with Get (Transparent by
 * default, the DER on request: the bytes node:crypto writes for the key),
 * Get Attributes, and natively (Register and Get of DSA-PUBLIC and
 * DSA-PRIVATE DER, the facts). Refusals: components that break a rule the
 * appliance checks (each with its reason), a stated length that is not p's,
 * a wrong format, Create of a DSA key. No byte of a private key reaches the
 * audit trail or the server's log.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Logger } from '../../../common/logger';
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { bytesItem, enumItem, integerItem, item, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { enumeration, tagNumber } from '../../../protocol/kmip/dictionary';
import { readDsaPrivateKey, readDsaPublicKey } from '../../../domain/keys/dsa-der';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { field, only, V21 } from './lifecycle-support';

jest.setTimeout(120_000);

const pair = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
// The components as the DER gives them; that they are right is shown by domain/keys/dsa-keys.test.ts (y = g^x mod p, node:crypto's bytes).
const made = { ...readDsaPrivateKey(pkcs8), y: readDsaPublicKey(spki).y };

const big = (hex: string): bigint => BigInt(`0x${hex}`);
/** The OASIS BL-M-12 and -13 key (FIPS 186-2 test parameters). */
const oasis = {
  p: big('fca682ce8e12caba26efccf7110e526db078b05edecbcd1eb4a208f3ae1617ae01f35b91a47e6df63413c5e12ed0899bcd132acd50d99151bdc43ee737592e17'),
  q: big('962eddcc369cba8ebb260ee6b6a126d9346e38c5'),
  g: big('678471b27a9cf44ee91a49c5147db1a9aaf244f05a434d6486931d2d14271b9e35030b71fd73da179069b32e2935630e1c2062354d0da20a6c416e50be794ca4'),
  y: big('b3cb74d988dea7160a64a4edbb7f70404fa4c08a4208c19d76357a6a9df200cce79faecb22e3419be9b01128cbd998a2d9307101705e4a952462f34728ac5fcf'),
  x: big('095411d740d2443fa3f97d1ed9a0411bb45e7131'),
};
type Components = { p: bigint; q: bigint; g: bigint; y: bigint; x: bigint };

const E = (enumerationName: string, name: string): number | undefined => enumeration(enumerationName)?.byName.get(name);
const child = (node: TtlvNode | undefined, name: string): TtlvNode | undefined => (node?.value as TtlvNode[] | undefined)?.find((c) => c.tag === tagNumber(name));
const path = (node: TtlvNode | undefined, ...names: string[]): TtlvNode | undefined => names.reduce((at, name) => child(at, name), node);

function keyObject(objectType: 'PublicKey' | 'PrivateKey', format: string, material: TtlvNode, length?: number): TtlvNode {
  return structureItem(objectType, [
    structureItem('KeyBlock', [enumItem('KeyFormatType', format), structureItem('KeyValue', [material]), enumItem('CryptographicAlgorithm', 'DSA'), length === undefined ? undefined : integerItem('CryptographicLength', length)]),
  ]);
}
const transparent = (key: Partial<Components>, members: ReadonlyArray<'P' | 'Q' | 'G' | 'Y' | 'X'>): TtlvNode =>
  structureItem('KeyMaterial', members.map((tag) => item(tag, 'BigInteger', key[tag.toLowerCase() as keyof Components] as bigint)));
const publicKey = (key: Partial<Components>, length?: number): TtlvNode => keyObject('PublicKey', 'TransparentDSAPublicKey', transparent(key, ['P', 'Q', 'G', 'Y']), length);
const privateKey = (key: Partial<Components>, length?: number): TtlvNode => keyObject('PrivateKey', 'TransparentDSAPrivateKey', transparent(key, ['P', 'Q', 'G', 'X']), length);
const registerPayload = (object: TtlvNode, name: string, ...attributes: TtlvNode[]): TtlvNode =>
  structureItem('RequestPayload', [
    enumItem('ObjectType', object.tag === tagNumber('PublicKey') ? 'PublicKey' : 'PrivateKey'),
    structureItem('Attributes', [structureItem('Name', [textItem('NameValue', name), enumItem('NameType', 'UninterpretedTextString')]), ...attributes]),
    object,
  ]);

describe('DSA keys the appliance keeps (KMIP 2.1 and native)', () => {
  let t: TestAppliance;
  let client: KmipTlsClient;
  let native: RawConnection;
  let app: RawConnection;
  const logged: string[] = [];

  beforeAll(async () => {
    const record = ((...args: unknown[]) => void logged.push(JSON.stringify(args, (_, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)))) as unknown as Logger['info'];
    t = await startTestAppliance({}, { log: { error: record, warn: record, info: record, debug: record } });
    native = await t.connect(t.officer);
    const credentials = t.issue('dsa-app', 'app');
    const granted = await native.request('PolicyGrant', { client: 'dsa-app', pattern: 'dsa/*', permissions: ['register', 'create', 'get', 'get-attributes', 'locate'] });
    expect((await t.approve(granted)).state).toBe('executed');
    client = await KmipTlsClient.open(t.server.kmipPort!, credentials);
    app = await t.connect(credentials);
  });

  afterAll(async () => {
    client?.destroy();
    app?.destroy();
    native?.destroy();
    await t?.stop();
  });

  async function register(object: TtlvNode, name: string): Promise<string> {
    const answer = only((await client.call('Register', registerPayload(object, name), V21)).batchItems);
    expect(answer).toMatchObject({ resultStatus: 'Success' });
    return field(answer.responsePayload, 'UniqueIdentifier') as string;
  }

  async function keyBlock(id: string, format?: string): Promise<TtlvNode | undefined> {
    const answer = only((await client.call('Get', structureItem('RequestPayload', [textItem('UniqueIdentifier', id), format === undefined ? undefined : enumItem('KeyFormatType', format)]), V21)).batchItems);
    expect(answer).toMatchObject({ resultStatus: 'Success' });
    const objectType = field(answer.responsePayload, 'ObjectType') === E('ObjectType', 'PublicKey') ? 'PublicKey' : 'PrivateKey';
    return path(answer.responsePayload, objectType, 'KeyBlock');
  }

  const components = (block: TtlvNode | undefined, ...members: string[]): unknown[] => members.map((member) => path(block, 'KeyValue', 'KeyMaterial', member)?.value);

  test('a Transparent DSA Public Key comes back Transparent by default and as the X.509 node:crypto writes on request, with DSA and p\'s length', async () => {
    const id = await register(publicKey(made, 2048), 'dsa/public');
    const block = await keyBlock(id);
    expect(child(block, 'KeyFormatType')?.value).toBe(E('KeyFormatType', 'TransparentDSAPublicKey'));
    expect(components(block, 'P', 'Q', 'G', 'Y')).toEqual([made.p, made.q, made.g, made.y]);
    expect([child(block, 'CryptographicAlgorithm')?.value, child(block, 'CryptographicLength')?.value]).toEqual([E('CryptographicAlgorithm', 'DSA'), 2048]);
    expect(Buffer.from(path(await keyBlock(id, 'X_509'), 'KeyValue', 'KeyMaterial')?.value as Uint8Array)).toEqual(spki);
    const attributes = only((await client.call('GetAttributes', structureItem('RequestPayload', [textItem('UniqueIdentifier', id)]), V21)).batchItems).responsePayload;
    const reported = child(attributes, 'Attributes');
    expect([child(reported, 'ObjectType')?.value, child(reported, 'CryptographicAlgorithm')?.value, child(reported, 'CryptographicLength')?.value]).toEqual([E('ObjectType', 'PublicKey'), E('CryptographicAlgorithm', 'DSA'), 2048]);
    // The Key Format Type attribute (2.x) is the format Get serves by default.
    expect(child(reported, 'KeyFormatType')?.value).toBe(E('KeyFormatType', 'TransparentDSAPublicKey'));
  });

  test('the OASIS BL-M-13 private key and a PKCS#8 one are kept sealed and come back in both formats; natively they are DSA-PRIVATE in PKCS#8', async () => {
    const id = await register(privateKey(oasis, 512), 'dsa/oasis-private');
    expect(components(await keyBlock(id), 'P', 'Q', 'G', 'X')).toEqual([oasis.p, oasis.q, oasis.g, oasis.x]);

    const derId = await register(keyObject('PrivateKey', 'PKCS_8', bytesItem('KeyMaterial', pkcs8), 2048), 'dsa/private');
    expect(Buffer.from(path(await keyBlock(derId, 'PKCS_8'), 'KeyValue', 'KeyMaterial')?.value as Uint8Array)).toEqual(pkcs8);
    const block = await keyBlock(derId);
    expect(child(block, 'KeyFormatType')?.value).toBe(E('KeyFormatType', 'TransparentDSAPrivateKey'));
    expect(components(block, 'P', 'Q', 'G', 'X')).toEqual([made.p, made.q, made.g, made.x]);

    const got = await app.request('Get', { instance: derId });
    expect((got.result as { key: Record<string, unknown> }).key).toMatchObject({ algorithm: 'DSA-PRIVATE', facts: { encoding: 'pkcs8', lengthBits: 2048 } });
    expect(Buffer.from((got.result as { material: string }).material, 'base64')).toEqual(pkcs8);
  });

  test('a DSA private key registered Sensitive is kept but never served in the clear, on either wire', async () => {
    const answer = only((await client.call('Register', registerPayload(privateKey(made), 'dsa/sensitive', item('Sensitive', 'Boolean', true)), V21)).batchItems);
    expect(answer).toMatchObject({ resultStatus: 'Success' });
    const id = field(answer.responsePayload, 'UniqueIdentifier') as string;
    const refused = only((await client.call('Get', structureItem('RequestPayload', [textItem('UniqueIdentifier', id)]), V21)).batchItems);
    expect(refused).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'Sensitive' });
    expect((await app.request('Get', { instance: id })).error).toMatchObject({ code: 'SENSITIVE' });
  });

  test('natively: DSA-PUBLIC and DSA-PRIVATE register from DER and come back as given; a DSA key is never made, nor taken as RSA', async () => {
    const registered = await app.request('Register', { name: 'dsa/native-public', algorithm: 'DSA-PUBLIC', material: spki.toString('base64') });
    expect(registered.error).toBeUndefined();
    expect((registered.result as { key: Record<string, unknown> }).key).toMatchObject({ algorithm: 'DSA-PUBLIC', facts: { encoding: 'spki', lengthBits: 2048 } });
    const got = await app.request('Get', { name: 'dsa/native-public' });
    expect(Buffer.from((got.result as { material: string }).material, 'base64')).toEqual(spki);
    expect((await app.request('Register', { name: 'dsa/as-rsa', algorithm: 'RSA-PRIVATE', material: pkcs8.toString('base64') })).error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/is a dsa key, not RSA-PRIVATE/) });
    expect((await app.request('Register', { name: 'dsa/public-as-private', algorithm: 'DSA-PRIVATE', material: spki.toString('base64') })).error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await app.request('Create', { name: 'dsa/made', algorithm: 'DSA-PRIVATE' })).error).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('refused, with the rule that is broken: each component rule, a stated length that is not p\'s, a format of another key', async () => {
    const refusals: Array<[TtlvNode, string, RegExp]> = [
      [privateKey({ ...oasis, x: oasis.q }), 'InvalidField', /INVALID_ARGUMENT: .*x is not between 0 and q/],
      [privateKey({ ...oasis, g: 2n }), 'InvalidField', /g does not generate the subgroup of order q/],
      [privateKey({ ...oasis, p: oasis.p + 2n }), 'InvalidField', /q does not divide p − 1/],
      [publicKey({ ...oasis, y: oasis.y + 1n }), 'InvalidField', /y is not in the subgroup of order q/],
      [publicKey({ ...oasis, q: oasis.q << 32n }), 'InvalidField', /q is 192 bits, not 160, 224, 256/],
      [privateKey({ ...oasis, x: 0n }), 'InvalidField', /X: a DSA key component must be positive/],
      [privateKey(oasis, 1024), 'InvalidField', /Cryptographic Length 1024 is not the key's \(512 bits\)/],
      [keyObject('PrivateKey', 'TransparentDSAPublicKey', transparent(oasis, ['P', 'Q', 'G', 'Y'])), 'KeyFormatTypeNotSupported', /TransparentDSAPublicKey is not accepted for DSA private keys: send TransparentDSAPrivateKey or PKCS_8/],
      [keyObject('PublicKey', 'TransparentDSAPublicKey', transparent(oasis, ['P', 'Q', 'G'])), 'InvalidField', /KeyMaterial\/Y is required/],
      [keyObject('PublicKey', 'X_509', bytesItem('KeyMaterial', Buffer.from('not a key'))), 'InvalidField', /the material is not DSA-PUBLIC in canonical DER/],
    ];
    for (const [index, [object, reason, message]] of refusals.entries()) {
      const answer = only((await client.call('Register', registerPayload(object, `dsa/refused-${index}`), V21)).batchItems);
      expect([index, answer.resultStatus, answer.resultReason]).toEqual([index, 'OperationFailed', reason]);
      expect(answer.resultMessage).toMatch(message);
    }
    expect(((await native.request('Locate', { pattern: 'dsa/refused-*' })).result as { keys: unknown[] }).keys).toEqual([]);
    const id = await register(publicKey(oasis), 'dsa/oasis-public');
    const wrongFormat = only((await client.call('Get', structureItem('RequestPayload', [textItem('UniqueIdentifier', id), enumItem('KeyFormatType', 'PKCS_1')]), V21)).batchItems);
    expect(wrongFormat).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'KeyFormatTypeNotSupported' });
    expect(wrongFormat.resultMessage).toMatch(/ask for TransparentDSAPublicKey or X_509/);
  });

  test('no byte of a private key in the audit trail, the server\'s log, or any file of the data directory (the database: sealed)', async () => {
    const auditor = await t.connect(t.issue('dsa-auditor', 'auditor'));
    const trail = JSON.stringify((await auditor.request('AuditSearch', { identity: 'dsa-app', limit: 1000 })).result);
    auditor.destroy();
    expect(trail).toContain('dsa/oasis-private'); // the search found the Registers and Gets
    expect(logged.length).toBeGreaterThan(0); // the log is the server's (it said it is serving)
    const texts = `${trail}\n${logged.join('\n')}`;
    const secrets = [Buffer.from(oasis.x.toString(16).padStart(40, '0'), 'hex'), Buffer.from(made.x.toString(16).padStart(64, '0'), 'hex')];
    for (const secret of secrets) {
      for (const text of [secret.toString('hex'), secret.toString('base64'), secret.subarray(4, 20).toString('hex'), secret.subarray(4, 20).toString('base64')]) expect(texts).not.toContain(text);
    }
    expect(texts).not.toContain(oasis.x.toString());
    expect(texts).not.toContain(pkcs8.toString('base64').slice(-40, -8));
    const files = (dir: string): string[] => readdirSync(dir).flatMap((entry) => (statSync(join(dir, entry)).isDirectory() ? files(join(dir, entry)) : [join(dir, entry)]));
    const stored = files(t.dataDir);
    expect(stored.map((file) => basename(file))).toContain('keychain.db');
    expect(stored.filter((file) => readFileSync(file).includes('dsa/oasis-private')).length).toBeGreaterThan(0); // the scan reads what was stored
    for (const file of stored) for (const secret of secrets) expect([file, readFileSync(file).indexOf(secret.subarray(0, 16))]).toEqual([file, -1]);
  });
});
