/**
 * KMIP Register of a Symmetric Key whose Key Block carries Key Wrapping
 * Data (AES Key Wrap Padding, RFC 5649, under an appliance AES key named by
 * its instance's Unique Identifier), against a real appliance: the codec
 * maps it onto the native wrapped import (docs/protocol.md §6.5), so the
 * answer is Operation Pending, approvers see the unwrapped key's KCV, and
 * after two approvals Poll gives the new Unique Identifier, whose Get
 * returns the unwrapped bytes. Wrapping the codec does not map is refused
 * naming the field; a blob that does not unwrap is Cryptographic Failure.
 * And the way out: Get with a Key Wrapping Specification is the native
 * wrapped export, Operation Pending until two approvals, then Poll answers
 * the Key Block with the wrapped bytes and its Key Wrapping Data.
 */
import { randomBytes } from 'node:crypto';
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { ProtocolVersion } from '../../../protocol/kmip/kmip-message';
import { keyCheckValue } from '../../../domain/keys/key-check-value';
import { bytesItem, enumItem, integerItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { kwpUnwrap, kwpWrap } from '../../support/byok-support';
import { attributes, callOne, getPayload, gotObject, succeeded, uidOf, V14, V21 } from '../../support/kmip-key-payloads';
import { PayloadReader } from '../../../protocol/kmip/operations/payload';
import { approveOnce, correlationPayload } from './lifecycle-support';

jest.setTimeout(90_000);

function wrappedKey(version: ProtocolVersion, wrapped: Buffer, name: string, wrapping: TtlvNode[], lengthBits: number | null = 256): TtlvNode {
  return structureItem('RequestPayload', [
    enumItem('ObjectType', 'SymmetricKey'),
    attributes(version, { name, usage: ['Encrypt', 'Decrypt'] }),
    structureItem('SymmetricKey', [
      structureItem('KeyBlock', [
        enumItem('KeyFormatType', 'Raw'),
        structureItem('KeyValue', [bytesItem('KeyMaterial', wrapped)]),
        enumItem('CryptographicAlgorithm', 'AES'),
        ...(lengthBits === null ? [] : [integerItem('CryptographicLength', lengthBits)]),
        structureItem('KeyWrappingData', wrapping),
      ]),
    ]),
  ]);
}

function underKek(kekInstance: string, mode = 'AESKeyWrapPadding'): TtlvNode[] {
  return [
    enumItem('WrappingMethod', 'Encrypt'),
    structureItem('EncryptionKeyInformation', [textItem('UniqueIdentifier', kekInstance), structureItem('CryptographicParameters', [enumItem('BlockCipherMode', mode)])]),
  ];
}

describe('KMIP key wrapping: Register with Key Wrapping Data, Get with a Key Wrapping Specification', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let client: KmipTlsClient;
  let kek: Buffer;
  let kekInstance: string;

  beforeAll(async () => {
    t = await startTestAppliance();
    officer = await t.connect(t.officer);
    const credentials = t.issue('kmip-unwrapper', 'app');
    expect((await officer.request('PolicyGrant', { client: 'kmip-unwrapper', pattern: 'wrp/*', permissions: ['register', 'create', 'get-attributes'] })).error).toBeUndefined();
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'kmip-unwrapper', pattern: 'wrp/*', permissions: ['get', 'decrypt'] }))).state).toBe('executed');
    const app = await t.connect(credentials);
    kekInstance = ((await app.request('Create', { name: 'wrp/kek' })).result as { key: { currentInstance: string } }).key.currentInstance;
    kek = Buffer.from(((await app.request('Get', { name: 'wrp/kek' })).result as { material: string }).material, 'base64');
    client = await KmipTlsClient.open(t.server.kmipPort!, credentials);
  });

  afterAll(async () => {
    kek?.fill(0);
    client?.destroy();
    await t?.stop();
  });

  test.each([
    ['1.4', V14],
    ['2.1', V21],
  ] as const)('at %s: Operation Pending, approvers see the KCV and the wrapping key, Poll gives the key, Get returns the unwrapped bytes', async (label, version) => {
    const key = randomBytes(32);
    const name = `wrp/imported-${label}`;
    const held = await callOne(client, 'Register', wrappedKey(version, kwpWrap(kek, key), name, underKek(kekInstance)), version);
    expect(held).toMatchObject({ resultStatus: 'OperationPending' });
    const id = Buffer.from(held.asynchronousCorrelationValue!).toString('utf8');
    const view = (await officer.request('ApprovalGet', { id })).result as { request: { args: Record<string, unknown> } };
    expect(view.request.args).toMatchObject({ kcv: keyCheckValue('AES-256', key).value, materialLength: 32, unwrappedBy: { key: 'wrp/kek', instance: kekInstance } });
    expect(await approveOnce(t, 0, id)).toBe('pending');
    expect(await approveOnce(t, 1, id)).toBe('executed');
    const uid = uidOf(await callOne(client, 'Poll', correlationPayload(Buffer.from(id)), version));
    expect(gotObject(await callOne(client, 'Get', getPayload(uid), version))).toMatchObject({ objectType: 'SymmetricKey', material: key, algorithm: 'AES', length: 256 });
  });

  test.each([
    ['RFC 3394 without padding', () => wrappedKey(V21, kwpWrap(kek, randomBytes(32)), 'wrp/x1', underKek(kekInstance, 'NISTKeyWrap')), 'FeatureNotSupported', /BlockCipherMode: NISTKeyWrap is not offered/],
    ['MAC/sign wrapping', () => wrappedKey(V21, kwpWrap(kek, randomBytes(32)), 'wrp/x2', [enumItem('WrappingMethod', 'MACSign'), ...underKek(kekInstance).slice(1)]), 'FeatureNotSupported', /MACSign is not offered/],
    ['no Cryptographic Length', () => wrappedKey(V21, kwpWrap(kek, randomBytes(32)), 'wrp/x3', underKek(kekInstance), null), 'InvalidField', /Cryptographic Length is required with Key Wrapping Data/],
    ['a blob wrapped under another key', () => wrappedKey(V21, kwpWrap(randomBytes(32), randomBytes(32)), 'wrp/x4', underKek(kekInstance)), 'CryptographicFailure', /UNWRAP_FAILED/],
  ])('refuses %s, storing nothing', async (_what, payload: () => TtlvNode, reason, message) => {
    const pending = async (): Promise<number> => ((await officer.request('ApprovalList', { state: 'pending' })).result as { requests: unknown[] }).requests.length;
    const before = await pending();
    const answer = await callOne(client, 'Register', payload(), V21);
    expect(answer).toMatchObject({ resultStatus: 'OperationFailed', resultReason: reason });
    expect(answer.resultMessage).toMatch(message);
    expect(await pending()).toBe(before);
  });

  test.each([
    ['1.4', V14],
    ['2.1', V21],
  ] as const)('at %s: Get with a Key Wrapping Specification is Operation Pending, then Poll answers the RFC 5649 wrapped key with its Key Wrapping Data', async (label, version) => {
    const credentials = t.issue(`kmip-exporter-${label}`, 'app');
    const app = await t.connect(credentials);
    const grant = await officer.request('PolicyGrant', { client: `kmip-exporter-${label}`, pattern: 'wrp/*', permissions: ['get', 'encrypt', 'create'] });
    expect((await t.approve(grant)).state).toBe('executed');
    const exporter = await KmipTlsClient.open(t.server.kmipPort!, credentials);
    try {
      const data = ((await app.request('Create', { name: `wrp/out-${label}` })).result as { key: { currentInstance: string } }).key.currentInstance;
      const material = Buffer.from(((await app.request('Get', { instance: data })).result as { material: string }).material, 'base64');
      const specification = structureItem('KeyWrappingSpecification', underKek(kekInstance));
      const held = await callOne(exporter, 'Get', getPayload(data, undefined, [specification]), version);
      expect(held).toMatchObject({ resultStatus: 'OperationPending' });
      const id = Buffer.from(held.asynchronousCorrelationValue!).toString('utf8');
      expect((await officer.request('ApprovalGet', { id })).result).toMatchObject({ request: { class: 'key-export', operation: 'Export', args: { wrapBinding: { name: 'wrp/kek', instance: kekInstance } } } });
      expect(await approveOnce(t, 0, id)).toBe('pending');
      expect(await approveOnce(t, 1, id)).toBe('approved');
      const payload = succeeded(await callOne(exporter, 'Poll', correlationPayload(Buffer.from(id)), version));
      expect(payload.requiredText('UniqueIdentifier')).toBe(data);
      const block = (payload.structure('SymmetricKey') as PayloadReader).structure('KeyBlock') as PayloadReader;
      expect(block.enumName('KeyFormatType')).toBe('Raw');
      expect(block.integer('CryptographicLength')).toBe(256);
      const wrapping = block.structure('KeyWrappingData') as PayloadReader;
      expect(wrapping.enumName('WrappingMethod')).toBe('Encrypt');
      expect((wrapping.structure('EncryptionKeyInformation') as PayloadReader).requiredText('UniqueIdentifier')).toBe(kekInstance);
      expect(kwpUnwrap(kek, Buffer.from(block.bytes('KeyValue') as Uint8Array))).toEqual(material);
    } finally {
      exporter.destroy();
      app.destroy();
    }
  });
});
