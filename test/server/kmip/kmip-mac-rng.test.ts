/**
 * KMIP MAC, MAC Verify and RNG Retrieve against a real appliance (SoftHSM2,
 * SQLite, mutual TLS), keys made and granted on the native wire: the MAC
 * node:crypto computes under the key's material, Valid and Invalid, the
 * HMAC algorithm asked checked against the key's, a key of another family
 * and a client without the grant refused; random bytes of the lengths asked,
 * the bound refused, and each request in the audit trail like any other.
 */
import { createHmac } from 'node:crypto';
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { tagNumberOf } from '../../../protocol/kmip/kmip-message-fields';
import { bytesItem, enumItem, integerItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { enumeration } from '../../../protocol/kmip/dictionary';
import { MAX_RANDOM_BYTES } from '../../../protocol/op-schemas';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';

jest.setTimeout(120_000);

function field(item: ResponseBatchItem, name: string): unknown {
  const children = (item.responsePayload?.value ?? []) as TtlvNode[];
  return children.find((child) => child.tag === tagNumberOf(name))?.value;
}

const macPayload = (uid: string, data: Buffer, extra: Array<TtlvNode | undefined> = []): TtlvNode =>
  structureItem('RequestPayload', [textItem('UniqueIdentifier', uid), bytesItem('Data', data), ...extra]);
const hashing = (name: string): TtlvNode => structureItem('CryptographicParameters', [enumItem('HashingAlgorithm', name)]);

describe('KMIP MAC, MAC Verify and RNG Retrieve', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let app: KmipTlsClient;
  let holderNative: RawConnection;
  let stranger: KmipTlsClient;

  const call = async (client: KmipTlsClient, operation: string, payload: TtlvNode): Promise<ResponseBatchItem> => (await client.call(operation, payload)).batchItems[0];

  async function createKey(name: string, args: Record<string, unknown>): Promise<string> {
    const answer = await officer.request('Create', { name, ...args });
    expect(answer.error).toBeUndefined();
    return (answer.result as { instances: Array<{ name: string }> }).instances[0].name;
  }

  beforeAll(async () => {
    t = await startTestAppliance();
    officer = await t.connect(t.officer);
    const appCredentials = t.issue('mr-app', 'app');
    const holderCredentials = t.issue('mr-holder', 'app');
    expect((await officer.request('PolicyGrant', { client: 'mr-app', pattern: 'mr/*', permissions: ['mac', 'encrypt'] })).error).toBeUndefined();
    const getGrant = await officer.request('PolicyGrant', { client: 'mr-holder', pattern: 'mr/*', permissions: ['get'] });
    expect((await t.approve(getGrant)).state).toBe('executed');
    app = await KmipTlsClient.open(t.server.kmipPort!, appCredentials);
    holderNative = await t.connect(holderCredentials);
    stranger = await KmipTlsClient.open(t.server.kmipPort!, t.issue('mr-stranger', 'app'));
  });

  afterAll(async () => {
    app?.destroy();
    stranger?.destroy();
    await t?.stop();
  });

  test('MAC answers the HMAC node:crypto computes under the key material; MAC Verify says Valid, and Invalid for other data', async () => {
    const uid = await createKey('mr/hmac', { algorithm: 'HMAC-SHA256' });
    const data = Buffer.from('01020304050607080910111213141516', 'hex');
    const made = await call(app, 'MAC', macPayload(uid, data, [hashing('SHA_256')]));
    expect(made.resultStatus).toBe('Success');
    expect(field(made, 'UniqueIdentifier')).toBe(uid);
    const got = await holderNative.request('Get', { instance: uid });
    const material = Buffer.from((got.result as { material: string }).material, 'base64');
    const mac = Buffer.from(field(made, 'MACData') as Uint8Array);
    expect(mac.equals(createHmac('sha256', material).update(data).digest())).toBe(true);

    const validity = (item: ResponseBatchItem): string | undefined => enumeration('ValidityIndicator')?.byValue.get(field(item, 'ValidityIndicator') as number);
    const valid = await call(app, 'MACVerify', macPayload(uid, data, [bytesItem('MACData', mac)]));
    expect(validity(valid)).toBe('Valid');
    const invalid = await call(app, 'MACVerify', macPayload(uid, Buffer.from('other'), [bytesItem('MACData', mac)]));
    expect(invalid.resultStatus).toBe('Success');
    expect(validity(invalid)).toBe('Invalid');
  });

  test('the HMAC asked must be the key\'s; a key of another family, a client without the grant and streaming are refused', async () => {
    const uid = await createKey('mr/hmac512', { algorithm: 'HMAC-SHA512' });
    const data = Buffer.from('x');
    expect((await call(app, 'MAC', macPayload(uid, data, [hashing('SHA_512')]))).resultStatus).toBe('Success');
    const other = await call(app, 'MAC', macPayload(uid, data, [hashing('SHA_256')]));
    expect(other).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'IncompatibleCryptographicUsageMask' });
    expect(await call(app, 'MAC', macPayload(uid, data, [hashing('MD5')]))).toMatchObject({ resultReason: 'FeatureNotSupported' });
    const byAlgorithm = structureItem('CryptographicParameters', [enumItem('CryptographicAlgorithm', 'HMAC_SHA512')]);
    expect((await call(app, 'MAC', macPayload(uid, data, [byAlgorithm]))).resultStatus).toBe('Success');

    const aes = await createKey('mr/aes', { algorithm: 'AES-256' });
    expect(await call(app, 'MAC', macPayload(aes, data))).toMatchObject({ resultReason: 'IncompatibleCryptographicUsageMask' });
    expect(await call(stranger, 'MAC', macPayload(uid, data))).toMatchObject({ resultReason: 'PermissionDenied' });
    const streaming = macPayload(uid, data, [bytesItem('CorrelationValue', Buffer.from('c'))]);
    expect(await call(app, 'MAC', streaming)).toMatchObject({ resultReason: 'FeatureNotSupported' });
  });

  test('RNG Retrieve: the lengths asked, up to the bound; beyond it, zero or none is Invalid Field; each request is audited', async () => {
    const rng = (length?: number): TtlvNode => structureItem('RequestPayload', [length === undefined ? undefined : integerItem('DataLength', length)]);
    for (const length of [1, 32, MAX_RANDOM_BYTES]) {
      const item = await call(stranger, 'RNGRetrieve', rng(length));
      expect(item.resultStatus).toBe('Success');
      expect((field(item, 'Data') as Uint8Array).length).toBe(length);
    }
    const a = Buffer.from(field(await call(stranger, 'RNGRetrieve', rng(32)), 'Data') as Uint8Array);
    const b = Buffer.from(field(await call(stranger, 'RNGRetrieve', rng(32)), 'Data') as Uint8Array);
    expect(a.equals(b)).toBe(false);
    for (const length of [MAX_RANDOM_BYTES + 1, 0, -1, undefined]) {
      expect(await call(stranger, 'RNGRetrieve', rng(length))).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidField' });
    }
    const audit = await officer.request('AuditSearch', { identity: 'mr-stranger', operation: 'RandomBytes' });
    const events = (audit.result as { events: Array<{ event: { result: string } }> }).events;
    expect(events.filter((e) => e.event.result === 'ok')).toHaveLength(5);
  });
});
