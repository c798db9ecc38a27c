/**
 * The ID Placeholder over KMIP against a real appliance (SoftHSM2, SQLite,
 * mutual TLS), at 1.4 and 2.1: a batch that creates or registers an object
 * and then acts on it without naming it, as KMIP clients send it (Create +
 * Activate + Get; Register + GetAttributes). Each item still goes through
 * the native operation with the caller's grants; the placeholder only says
 * which instance an item means. Omitted with nothing set, the item is Item
 * Not Found; a failed item sets nothing, and the next batch starts empty.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { BatchErrorContinuationOption, ProtocolVersion, ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { structureItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { createPayload, gotObject, registerSecretPayload, succeeded, uidOf, V14, V21 } from '../../support/kmip-key-payloads';

jest.setTimeout(90_000);

const APP = 'kmip-placeholder-app';
const NOW_S = (): bigint => BigInt(Math.floor(Date.now() / 1000));
const EMPTY = (): TtlvNode => structureItem('RequestPayload', []);

describe.each([
  ['1.4', V14],
  ['2.1', V21],
])('the KMIP %s ID Placeholder', (label, version) => {
  let t: TestAppliance;
  let client: KmipTlsClient;
  let officer: RawConnection;
  const ns = `idp-${label.replace('.', '')}`;

  /** One request message of several items; answers its items. */
  async function batch(items: Array<[string, TtlvNode]>, option: BatchErrorContinuationOption = 'Stop', at: ProtocolVersion = version): Promise<readonly ResponseBatchItem[]> {
    const answer = await client.request({
      header: { protocolVersion: at, batchErrorContinuationOption: option, batchCount: items.length },
      batchItems: items.map(([operation, requestPayload], i) => ({ operation, uniqueBatchItemId: new Uint8Array([i + 1]), requestPayload })),
    });
    expect(answer.batchItems.map((item) => item.operation)).toEqual(items.map(([operation]) => operation));
    return answer.batchItems;
  }

  beforeAll(async () => {
    t = await startTestAppliance();
    const credentials = t.issue(APP, 'app');
    officer = await t.connect(t.officer);
    const granted = await officer.request('PolicyGrant', { client: APP, pattern: `${ns}/*`, permissions: ['create', 'register', 'get', 'activate', 'get-attributes'] });
    // A grant of material (get) is dual-controlled: two more officers approve it.
    if (granted.error?.code === 'APPROVAL_REQUIRED') expect((await t.approve(granted)).state).toBe('executed');
    else expect(granted.error).toBeUndefined();
    client = await KmipTlsClient.open(t.server.kmipPort!, credentials);
  });

  afterAll(async () => {
    client?.destroy();
    await t?.stop();
  });

  test('Create + Activate + Get in one batch: the items after Create act on the key it made, unnamed', async () => {
    const [created, activated, got] = await batch([
      ['Create', createPayload(version, { algorithm: 'AES', length: 256, usage: ['Encrypt', 'Decrypt'], name: `${ns}/batched` })],
      ['Activate', EMPTY()],
      ['Get', EMPTY()],
    ]);
    const uid = uidOf(created);
    expect(uidOf(activated)).toBe(uid);
    expect(gotObject(got)).toMatchObject({ objectType: 'SymmetricKey', uid, algorithm: 'AES', length: 256 });
    // The native wire sees the same instance, activated by the batch.
    const native = await officer.request('GetAttributes', { name: `${ns}/batched` });
    expect((native.result as { instances: Array<{ name: string; state: string }> }).instances).toEqual([expect.objectContaining({ name: uid, state: 'Active' })]);
  });

  test('Register + GetAttributes in one batch: the attributes are those of the registered object', async () => {
    const [registered, attributes] = await batch([
      ['Register', registerSecretPayload(version, new Uint8Array([7, 7, 7]), { name: `${ns}/registered`, activationDate: NOW_S() })],
      ['GetAttributes', EMPTY()],
    ]);
    const uid = uidOf(registered);
    expect(succeeded(attributes).requiredText('UniqueIdentifier')).toBe(uid);
    expect(JSON.stringify(attributes.responsePayload, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))).toContain(`${ns}/registered`);
  });

  test('an item that omits its Unique Identifier with no placeholder set is Item Not Found, in a batch of its own or after a failed Create', async () => {
    const [alone] = await batch([['Get', EMPTY()]]);
    expect(alone).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'ItemNotFound' });
    expect(alone.resultMessage).toMatch(/UniqueIdentifier is omitted and no earlier item of this batch set the ID Placeholder/);

    // Outside the grant: the Create fails, sets nothing, and the Get after it (Continue) names nothing.
    const [refused, after] = await batch([['Create', createPayload(version, { algorithm: 'AES', length: 128, name: 'elsewhere/k' })], ['Get', EMPTY()]], 'Continue');
    expect(refused).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    expect(after).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'ItemNotFound' });
  });

  test('the placeholder lasts one request message: a batch after a Create does not see it', async () => {
    const [created] = await batch([['Create', createPayload(version, { algorithm: 'AES', length: 128, name: `${ns}/once` })]]);
    uidOf(created);
    const [next] = await batch([['GetAttributes', EMPTY()]]);
    expect(next).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'ItemNotFound' });
  });
});
