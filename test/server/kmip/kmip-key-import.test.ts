/**
 * KMIP Register of a Symmetric Key against a real appliance: a key import.
 * The answer is Operation Pending (the approval request's id as the
 * Asynchronous Correlation Value); Poll stays Pending until two other
 * officers approved, then answers Register's own payload (the new Unique
 * Identifier, from the stored result); Get then returns the very bytes
 * registered. ChaCha20 and ChaCha20Poly1305 keys register as the
 * appliance's CHACHA20 and read back as ChaCha20. An imported key names no
 * Random Number Generator (its material is not the appliance's DRBG's); a
 * created one does.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { ProtocolVersion } from '../../../protocol/kmip/kmip-message';
import { tagName } from '../../../protocol/kmip/dictionary';
import { bytesItem, enumItem, integerItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { attributes, callOne, createPayload, getPayload, gotObject, succeeded, uidOf, V14, V21 } from '../../support/kmip-key-payloads';
import { approveOnce, correlationPayload } from './lifecycle-support';

jest.setTimeout(90_000);

function symmetricKey(version: ProtocolVersion, key: Buffer, algorithm: string, name: string): TtlvNode {
  return structureItem('RequestPayload', [
    enumItem('ObjectType', 'SymmetricKey'),
    attributes(version, { name, usage: ['Encrypt', 'Decrypt'] }),
    structureItem('SymmetricKey', [
      structureItem('KeyBlock', [
        enumItem('KeyFormatType', 'Raw'),
        structureItem('KeyValue', [bytesItem('KeyMaterial', key)]),
        enumItem('CryptographicAlgorithm', algorithm),
        integerItem('CryptographicLength', key.length * 8),
      ]),
    ]),
  ]);
}

describe('KMIP Register of a Symmetric Key: a dual-controlled import', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let client: KmipTlsClient;

  beforeAll(async () => {
    t = await startTestAppliance({ clear_key_import: 'dual-control' });
    officer = await t.connect(t.officer);
    const credentials = t.issue('kmip-importer', 'app');
    expect((await officer.request('PolicyGrant', { client: 'kmip-importer', pattern: 'imp/*', permissions: ['register', 'create', 'get-attributes'] })).error).toBeUndefined();
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'kmip-importer', pattern: 'imp/*', permissions: ['get'] }))).state).toBe('executed');
    client = await KmipTlsClient.open(t.server.kmipPort!, credentials);
  });

  afterAll(async () => {
    client?.destroy();
    await t?.stop();
  });

  async function imported(version: ProtocolVersion, key: Buffer, algorithm: string, name: string): Promise<string> {
    const held = await callOne(client, 'Register', symmetricKey(version, key, algorithm, name), version);
    expect(held).toMatchObject({ resultStatus: 'OperationPending' });
    const id = Buffer.from(held.asynchronousCorrelationValue!).toString('utf8');
    expect((await callOne(client, 'Poll', correlationPayload(Buffer.from(id)), version)).resultStatus).toBe('OperationPending');
    expect((await officer.request('GetAttributes', { name })).error?.code).toBe('KEY_NOT_FOUND');
    expect(await approveOnce(t, 0, id)).toBe('pending');
    expect(await approveOnce(t, 1, id)).toBe('executed');
    return uidOf(await callOne(client, 'Poll', correlationPayload(Buffer.from(id)), version));
  }

  test.each([
    ['1.4', V14],
    ['2.1', V21],
  ] as const)('at %s: Register → Operation Pending → two approvals → Poll gives the Unique Identifier → Get returns the same bytes', async (label, version) => {
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
    const uid = await imported(version, key, 'AES', `imp/aes-${label}`);
    const current = (await officer.request('GetAttributes', { name: `imp/aes-${label}` })).result as { key: { currentInstance: string } };
    expect(uid).toBe(current.key.currentInstance);
    expect(gotObject(await callOne(client, 'Get', getPayload(uid), version))).toMatchObject({ objectType: 'SymmetricKey', material: key, algorithm: 'AES', length: 256 });
  });

  test.each([['ChaCha20'], ['ChaCha20Poly1305']])('a %s key registers as the appliance\'s CHACHA20 and reads back as ChaCha20', async (algorithm) => {
    const key = Buffer.from('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f', 'hex');
    const name = `imp/${algorithm.toLowerCase()}`;
    const uid = await imported(V21, key, algorithm, name);
    expect((await officer.request('GetAttributes', { name })).result).toMatchObject({ key: { algorithm: 'CHACHA20' } });
    expect(gotObject(await callOne(client, 'Get', getPayload(uid), V21))).toMatchObject({ material: key, algorithm: 'ChaCha20', length: 256 });
  });

  test('an imported key has no Random Number Generator, natively or over KMIP; a created key has the DRBG', async () => {
    const uid = await imported(V21, Buffer.alloc(16, 0x5a), 'AES', 'imp/origin');
    const native = (await officer.request('GetAttributes', { name: 'imp/origin' })).result as { material: { generator: unknown; origin: string } };
    expect(native.material).toMatchObject({ generator: null, origin: 'imported' });
    const tags = async (id: string): Promise<Array<string | undefined>> => {
      const answer = succeeded(await callOne(client, 'GetAttributes', structureItem('RequestPayload', [textItem('UniqueIdentifier', id)]), V21));
      return (answer.required('Attributes').value as readonly TtlvNode[]).map((n) => tagName(n.tag));
    };
    expect(await tags(uid)).not.toContain('RandomNumberGenerator');
    const created = await callOne(client, 'Create', createPayload(V21, { name: 'imp/made', algorithm: 'AES', length: 128, usage: ['Encrypt'] }), V21);
    expect(await tags(uidOf(created))).toContain('RandomNumberGenerator');
  });
});
