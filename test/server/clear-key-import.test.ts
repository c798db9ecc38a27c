/**
 * clear_key_import = off (the default), against a real appliance: Register of
 * clear AES, HMAC or CHACHA20 material is CLEAR_IMPORT_DISABLED on the native
 * wire and Permission Denied over KMIP (the same rule: KMIP calls the native
 * Register), before any approval request is stored, with a message that
 * names the ways forward (a wrapped import, or clear_key_import =
 * dual-control). SECRET data registers at once as before, and a key wrapped
 * under an appliance AES key is still a dual-controlled import. With
 * dual-control the import is today's, the server-start event records the
 * setting, and an import approved after a restart with the setting off
 * registers nothing.
 */
import { randomBytes } from 'node:crypto';
import { KmipTlsClient } from '../../scripts/kmip/kmip-tls-client';
import { kwpWrap } from '../../domain/keys/key-wrapping';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { callOne, registerSecretPayload, registerSymmetricPayload, succeeded, V14, V21 } from '../support/kmip-key-payloads';

jest.setTimeout(90_000);

describe('clear_key_import = off (the default)', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let app: RawConnection;
  let kmip: KmipTlsClient;

  /** Every approval request the appliance holds, in any state: a refused import must have stored none. */
  const allRequests = async (): Promise<unknown[]> => {
    const listed = await officer.request('ApprovalList', {});
    expect(listed.error).toBeUndefined();
    return (listed.result as { requests: unknown[] }).requests;
  };

  beforeAll(async () => {
    t = await startTestAppliance();
    const appCredentials = t.issue('ceremony-app', 'app');
    officer = await t.connect(t.officer);
    expect((await officer.request('PolicyGrant', { client: 'ceremony-app', pattern: 'imp/*', permissions: ['create', 'register', 'get-attributes'] })).error).toBeUndefined();
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'ceremony-app', pattern: 'imp/*', permissions: ['get', 'decrypt'] }))).state).toBe('executed');
    app = await t.connect(appCredentials);
    kmip = await KmipTlsClient.open(t.server.kmipPort!, appCredentials);
  });

  afterAll(async () => {
    kmip?.destroy();
    await t?.stop();
  });

  it.each([
    ['AES-256', 32],
    ['HMAC-SHA256', 32],
    ['CHACHA20', 32],
  ])('refuses clear %s material on the native wire, storing no approval request and no key', async (algorithm, length) => {
    const before = (await allRequests()).length;
    const answer = await app.request('Register', { name: `imp/clear-${algorithm.toLowerCase()}`, algorithm, material: randomBytes(length).toString('base64') });
    expect(answer.error).toMatchObject({ code: 'CLEAR_IMPORT_DISABLED', details: { algorithm } });
    expect(answer.error?.message).toMatch(/\(clear_key_import = off\); nothing was stored\. Import the key wrapped .*--unwrap-key.*clear_key_import = dual-control/);
    expect(await allRequests()).toHaveLength(before);
    expect((await officer.request('GetAttributes', { name: `imp/clear-${algorithm.toLowerCase()}` })).error?.code).toBe('KEY_NOT_FOUND');
  });

  it('refuses an officer\'s clear import too: no role makes it possible while the setting is off', async () => {
    const before = (await allRequests()).length;
    const answer = await officer.request('Register', { name: 'ops/planted', algorithm: 'AES-128', material: randomBytes(16).toString('base64') });
    expect(answer.error?.code).toBe('CLEAR_IMPORT_DISABLED');
    expect(await allRequests()).toHaveLength(before);
  });

  it('still registers SECRET data at once, with the material as given', async () => {
    const secret = Buffer.from('correct horse battery staple');
    const answer = await app.request('Register', { name: 'imp/secret', material: secret.toString('base64') });
    expect(answer.error).toBeUndefined();
    const got = await app.request('Get', { name: 'imp/secret' });
    expect(Buffer.from((got.result as { material: string }).material, 'base64')).toEqual(secret);
  });

  it('still takes a key wrapped under an appliance AES key, as a dual-controlled import', async () => {
    expect((await app.request('Create', { name: 'imp/kek', algorithm: 'AES-256' })).error).toBeUndefined();
    const kek = Buffer.from(((await app.request('Get', { name: 'imp/kek' })).result as { material: string }).material, 'base64');
    const material = randomBytes(32);
    try {
      const asked = await app.request('Register', { name: 'imp/wrapped', algorithm: 'AES-256', material: kwpWrap(kek, material).toString('base64'), unwrapKey: 'imp/kek' });
      expect(asked.error).toMatchObject({ code: 'APPROVAL_REQUIRED', details: { class: 'key-import', operation: 'Register' } });
      expect((await t.approve(asked)).state).toBe('executed');
      const got = await app.request('Get', { name: 'imp/wrapped' });
      expect(Buffer.from((got.result as { material: string }).material, 'base64')).toEqual(material);
    } finally {
      kek.fill(0);
      material.fill(0);
    }
  });

  it.each([
    ['1.4', V14],
    ['2.1', V21],
  ] as const)('answers a KMIP %s Register of a Symmetric Key Permission Denied naming CLEAR_IMPORT_DISABLED, and stores nothing', async (label, version) => {
    const before = (await allRequests()).length;
    const item = await callOne(kmip, 'Register', registerSymmetricPayload(version, randomBytes(32), { name: `imp/kmip-${label}`, usage: ['Encrypt', 'Decrypt'] }), version);
    expect({ status: item.resultStatus, reason: item.resultReason }).toEqual({ status: 'OperationFailed', reason: 'PermissionDenied' });
    expect(item.resultMessage).toMatch(/^CLEAR_IMPORT_DISABLED: .*clear_key_import = dual-control/);
    expect(item.asynchronousCorrelationValue).toBeUndefined();
    expect(await allRequests()).toHaveLength(before);
    expect((await officer.request('GetAttributes', { name: `imp/kmip-${label}` })).error?.code).toBe('KEY_NOT_FOUND');
  });

  it('still registers KMIP Secret Data at once', async () => {
    const item = await callOne(kmip, 'Register', registerSecretPayload(V21, Buffer.from('s3cret'), { name: 'imp/kmip-secret' }), V21);
    expect(succeeded(item).requiredText('UniqueIdentifier')).toMatch(/\S/);
  });
});

describe('clear_key_import = dual-control', () => {
  let t: TestAppliance;

  beforeAll(async () => {
    t = await startTestAppliance({ clear_key_import: 'dual-control' });
  });

  afterAll(async () => t?.stop());

  it('makes a clear import a key import officers approve, and records the setting in the server-start event', async () => {
    const officer = await t.connect(t.officer);
    const asked = await officer.request('Register', { name: 'ops/ceremony', algorithm: 'AES-128', material: randomBytes(16).toString('base64') });
    expect(asked.error).toMatchObject({ code: 'APPROVAL_REQUIRED', details: { class: 'key-import' } });
    expect((await t.approve(asked)).state).toBe('executed');
    const started = await officer.request('AuditSearch', { type: 'server-start' });
    expect(started.error).toBeUndefined();
    const events = (started.result as { events: Array<{ event: { custom: Record<string, string> } }> }).events;
    expect(events.at(-1)?.event.custom['setting.clear_key_import']).toBe('dual-control');
  });

  it('fails a clear import approved after the operator turned clear imports off, registering nothing (the setting holds when the key would come in)', async () => {
    const officer = await t.connect(t.officer);
    const asked = await officer.request('Register', { name: 'ops/late', algorithm: 'AES-256', material: randomBytes(32).toString('base64') });
    expect(asked.error?.code).toBe('APPROVAL_REQUIRED');
    await t.restart({ clear_key_import: 'off' });
    expect(await t.approve(asked)).toMatchObject({ state: 'failed', error: { code: 'CLEAR_IMPORT_DISABLED', message: expect.stringMatching(/registers nothing/) } });
    expect((await (await t.connect(t.officer)).request('GetAttributes', { name: 'ops/late' })).error?.code).toBe('KEY_NOT_FOUND');
  });
});
