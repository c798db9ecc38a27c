/**
 * Create, Register, Get and ReKey over KMIP against a real appliance
 * (SoftHSM2 token, SQLite keychain, mutual TLS), in the request shapes of
 * KMIP 1.4 and 2.1: a created key is PreActive until activated and then
 * served in Raw and Transparent Symmetric Key formats, Secret Data comes
 * back byte for byte, ReKey answers a new Unique Identifier and both
 * instances stay retrievable. State is checked on the native wire, which
 * sees the same keychain.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { bytesItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { callOne, createPayload, getPayload, gotObject, reKeyPayload, registerSecretPayload, succeeded, uidOf, V14, V21 } from '../../support/kmip-key-payloads';

jest.setTimeout(90_000);

const APP = 'kmip-keys-app';
const NOW_S = (): bigint => BigInt(Math.floor(Date.now() / 1000));

interface InstanceState {
  name: string;
  state: string;
  current: boolean;
  activatesAt: string | null;
}

describe.each([
  ['1.4', V14],
  ['2.1', V21],
])('KMIP %s key operations', (label, version) => {
  let t: TestAppliance;
  let client: KmipTlsClient;
  let officer: RawConnection;
  const ns = `kmip-${label.replace('.', '')}`;

  /** The key's instances as the native wire sees them. */
  async function instancesOf(name: string): Promise<InstanceState[]> {
    const answer = await officer.request('GetAttributes', { name });
    expect(answer.error).toBeUndefined();
    return (answer.result as { instances: InstanceState[] }).instances;
  }

  beforeAll(async () => {
    t = await startTestAppliance();
    const credentials = t.issue(APP, 'app');
    officer = await t.connect(t.officer);
    for (const pattern of [`${ns}/*`, `kmip/${APP}/*`]) {
      const granted = await officer.request('PolicyGrant', { client: APP, pattern, permissions: ['create', 'register', 'get', 'rekey', 'activate', 'get-attributes', 'encrypt'] });
      // A grant of material (get) is dual-controlled: two more officers approve it.
      if (granted.error?.code === 'APPROVAL_REQUIRED') expect((await t.approve(granted)).state).toBe('executed');
      else expect(granted.error).toBeUndefined();
    }
    client = await KmipTlsClient.open(t.server.kmipPort!, credentials);
  });

  afterAll(async () => {
    client?.destroy();
    await t?.stop();
  });

  test('Create makes a PreActive AES key whose UID is its instance; Get serves its material before and after Activate, Raw and Transparent', async () => {
    const uid = uidOf(await callOne(client, 'Create', createPayload(version, { algorithm: 'AES', length: 256, usage: ['Encrypt', 'Decrypt'], name: `${ns}/sk` }), version));
    const [instance] = await instancesOf(`${ns}/sk`);
    expect(instance).toMatchObject({ name: uid, state: 'PreActive', current: true, activatesAt: null });

    // A PreActive key may be distributed (KMIP Get, SP 800-57 pre-activation), though it does no cryptography here yet.
    const early = gotObject(await callOne(client, 'Get', getPayload(uid), version));
    expect(early).toMatchObject({ objectType: 'SymmetricKey', uid, format: 'Raw', algorithm: 'AES', length: 256 });
    const encrypt = await callOne(client, 'Encrypt', structureItem('RequestPayload', [textItem('UniqueIdentifier', uid), bytesItem('Data', Buffer.from('not yet'))]), version);
    expect(encrypt).toMatchObject({ resultStatus: 'OperationFailed', resultReason: version.major >= 2 ? 'WrongKeyLifecycleState' : 'IllegalOperation' });

    // The whole flow in KMIP: Activate (docs/kmip.md §3.2), then Get: the same material.
    expect(uidOf(await callOne(client, 'Activate', structureItem('RequestPayload', [textItem('UniqueIdentifier', uid)]), version))).toBe(uid);
    expect((await instancesOf(`${ns}/sk`))[0]).toMatchObject({ name: uid, state: 'Active' });
    const raw = gotObject(await callOne(client, 'Get', getPayload(uid), version));
    expect(raw).toMatchObject({ objectType: 'SymmetricKey', uid, format: 'Raw', algorithm: 'AES', length: 256 });
    expect(raw.material).toHaveLength(32);
    expect(raw.material.equals(early.material)).toBe(true);
    const transparent = gotObject(await callOne(client, 'Get', getPayload(uid, 'TransparentSymmetricKey'), version));
    expect(transparent).toMatchObject({ objectType: 'SymmetricKey', uid, format: 'TransparentSymmetricKey', algorithm: 'AES', length: 256 });
    expect(transparent.material.equals(raw.material)).toBe(true);
  });

  test.each([
    ['AES', 128, 16],
    ['AES', 192, 24],
    ['HMAC_SHA256', 256, 32],
    ['HMAC_SHA512', 512, 64],
  ])('Create %s %i with an Activation Date already come is Active at once and %i bytes long', async (algorithm, length, bytes) => {
    const name = `${ns}/${algorithm.toLowerCase()}-${length}`;
    const usage = algorithm === 'AES' ? ['Encrypt', 'Decrypt'] : ['MACGenerate', 'MACVerify'];
    const uid = uidOf(await callOne(client, 'Create', createPayload(version, { algorithm, length, usage, name, activationDate: NOW_S() - 60n }), version));
    expect((await instancesOf(name))[0]).toMatchObject({ name: uid, state: 'Active' });
    const got = gotObject(await callOne(client, 'Get', getPayload(uid), version));
    expect(got).toMatchObject({ objectType: 'SymmetricKey', format: 'Raw', algorithm, length });
    expect(got.material).toHaveLength(bytes);
  });

  test('an Activation Date to come leaves the key PreActive until then, with the date the server will activate it', async () => {
    const at = NOW_S() + 86_400n;
    const uid = uidOf(await callOne(client, 'Create', createPayload(version, { algorithm: 'AES', length: 128, name: `${ns}/later`, activationDate: at }), version));
    expect((await instancesOf(`${ns}/later`))[0]).toMatchObject({ name: uid, state: 'PreActive', activatesAt: new Date(Number(at) * 1000).toISOString() });
  });

  test('Create without a Name names the key in the client\'s own namespace, kmip/<client>/…', async () => {
    const uid = uidOf(await callOne(client, 'Create', createPayload(version, { algorithm: 'AES', length: 256 }), version));
    const located = await officer.request('Locate', { pattern: `kmip/${APP}/*` });
    const keys = (located.result as { keys: Array<{ fullName: string; currentInstance: string }> }).keys;
    expect(keys.find((key) => key.currentInstance === uid)?.fullName).toMatch(new RegExp(`^kmip/${APP}/[0-9a-f-]{36}$`));
  });

  test('Register of Secret Data, then Get, gives the bytes back (Opaque by default, Raw on request)', async () => {
    const secret = Buffer.from(`correct horse battery staple ${label}`);
    const uid = uidOf(await callOne(client, 'Register', registerSecretPayload(version, new Uint8Array(secret), { name: `${ns}/secret`, activationDate: NOW_S() }), version));
    expect((await instancesOf(`${ns}/secret`))[0]).toMatchObject({ name: uid, state: 'Active' });
    const opaque = gotObject(await callOne(client, 'Get', getPayload(uid), version));
    expect(opaque).toMatchObject({ objectType: 'SecretData', uid, format: 'Opaque', secretDataType: 'Password', algorithm: undefined, length: undefined });
    expect(opaque.material.equals(secret)).toBe(true);
    const raw = gotObject(await callOne(client, 'Get', getPayload(uid, 'Raw'), version));
    expect(raw).toMatchObject({ objectType: 'SecretData', format: 'Raw' });
    expect(raw.material.equals(secret)).toBe(true);
  });

  test('Registered Secret Data without an Activation Date waits PreActive, like a created key', async () => {
    const uid = uidOf(await callOne(client, 'Register', registerSecretPayload(version, new Uint8Array([1, 2, 3]), { name: `${ns}/secret-later` }), version));
    expect((await instancesOf(`${ns}/secret-later`))[0]).toMatchObject({ name: uid, state: 'PreActive' });
  });

  test('ReKey answers the new instance\'s UID; old and new are both served, and the old one cannot be rekeyed again', async () => {
    const old = uidOf(await callOne(client, 'Create', createPayload(version, { algorithm: 'AES', length: 256, name: `${ns}/rolled`, activationDate: NOW_S() }), version));
    const fresh = uidOf(await callOne(client, 'ReKey', reKeyPayload(old), version));
    expect(fresh).not.toBe(old);
    const instances = await instancesOf(`${ns}/rolled`);
    expect(instances.find((i) => i.name === old)).toMatchObject({ state: 'Deactivated', current: false });
    expect(instances.find((i) => i.name === fresh)).toMatchObject({ state: 'Active', current: true });

    const oldKey = gotObject(await callOne(client, 'Get', getPayload(old), version));
    const newKey = gotObject(await callOne(client, 'Get', getPayload(fresh), version));
    expect(oldKey.uid).toBe(old);
    expect(newKey.uid).toBe(fresh);
    expect(newKey.material).toHaveLength(32);
    expect(newKey.material.equals(oldKey.material)).toBe(false);

    const again = await callOne(client, 'ReKey', reKeyPayload(old), version);
    expect(again).toMatchObject({ resultStatus: 'OperationFailed', resultReason: version.major >= 2 ? 'WrongKeyLifecycleState' : 'IllegalOperation' });
    expect(again.resultMessage).toContain(`${old} is not the current instance of ${ns}/rolled (${fresh} is)`);
  });

  test('ReKey with an Offset schedules the new instance: PreActive, not current, activated that many seconds from now', async () => {
    const old = uidOf(await callOne(client, 'Create', createPayload(version, { algorithm: 'AES', length: 128, name: `${ns}/scheduled`, activationDate: NOW_S() }), version));
    const before = Date.now();
    const fresh = uidOf(await callOne(client, 'ReKey', reKeyPayload(old, 3600), version));
    const instances = await instancesOf(`${ns}/scheduled`);
    expect(instances.find((i) => i.name === old)).toMatchObject({ state: 'Active', current: true });
    const pending = instances.find((i) => i.name === fresh) as InstanceState;
    expect(pending).toMatchObject({ state: 'PreActive', current: false });
    const activatesAt = Date.parse(pending.activatesAt as string);
    expect(activatesAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3_600_000);
    expect(activatesAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(succeeded(await callOne(client, 'Get', getPayload(old), version)).requiredText('UniqueIdentifier')).toBe(old);
  });
});
