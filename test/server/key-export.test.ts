/**
 * Wrapped export and import (docs/protocol.md §6.5) over the native wire,
 * against a real appliance (SoftHSM2 token, SQLite file, mutual TLS):
 * Export under the requester's RSA key (RSA-OAEP-SHA256) and under an
 * appliance AES key (RFC 5649) waits for two officers (class key-export),
 * who are shown the exported key and the wrapping key; the requester
 * collects bytes that unwrap to exactly the key's material. Register of
 * material wrapped under an appliance AES key is a key import whose
 * approvers see the unwrapped key's KCV. Refusals come before anything is
 * stored.
 */
import { randomBytes } from 'node:crypto';
import { keyCheckValue } from '../../domain/keys/key-check-value';
import { required } from '../support/approval-required';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { approveAndCollect, collected, kwpUnwrap, kwpWrap, rsaOaepUnwrap, rsaPair, viewOf } from '../support/byok-support';

describe('wrapped export and import over the native wire', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let app: RawConnection;
  let stranger: RawConnection;
  let data: Buffer;
  let kek: Buffer;
  let dataInstance: string;
  const requester = rsaPair(2048);

  const materialOf = async (name: string): Promise<Buffer> => {
    const got = await app.request('Get', { name });
    expect(got.error).toBeUndefined();
    return Buffer.from((got.result as { material: string }).material, 'base64');
  };

  beforeAll(async () => {
    t = await startTestAppliance();
    const appCredentials = t.issue('byok-app', 'app');
    const strangerCredentials = t.issue('byok-stranger', 'app');
    officer = await t.connect(t.officer);
    expect((await officer.request('PolicyGrant', { client: 'byok-app', pattern: 'byok/*', permissions: ['create', 'register', 'encrypt'] })).error).toBeUndefined();
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'byok-app', pattern: 'byok/*', permissions: ['get', 'decrypt'] }))).state).toBe('executed');
    // The stranger may read byok/data but may neither encrypt nor decrypt under the wrapping key.
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'byok-stranger', pattern: 'byok/data', permissions: ['get'] }))).state).toBe('executed');
    app = await t.connect(appCredentials);
    stranger = await t.connect(strangerCredentials);
    const created = await app.request('Create', { name: 'byok/data', algorithm: 'AES-256' });
    dataInstance = (created.result as { key: { currentInstance: string } }).key.currentInstance;
    expect((await app.request('Create', { name: 'byok/kek', algorithm: 'AES-256' })).error).toBeUndefined();
    expect((await app.request('Create', { name: 'byok/no-wrap', algorithm: 'AES-256', usage: ['encrypt', 'decrypt'] })).error).toBeUndefined();
    data = await materialOf('byok/data');
    kek = await materialOf('byok/kek');
  });

  afterAll(async () => {
    data?.fill(0);
    kek?.fill(0);
    await t.stop();
  });

  it('exports under the requester\'s RSA key once approved: approvers see the key, instance and fingerprint; the bytes unwrap to the material', async () => {
    const asked = await app.request('Export', { name: 'byok/data', wrapMethod: 'RSA-OAEP-SHA256', wrapPublicKey: requester.publicPem });
    expect(asked.error).toMatchObject({ code: 'APPROVAL_REQUIRED', details: { class: 'key-export', operation: 'Export' } });
    const view = await viewOf(officer, required(asked).requestId);
    expect(view.binding).toMatchObject({ name: 'byok/data', instance: dataInstance });
    expect(view.args).toMatchObject({ name: 'byok/data', wrapMethod: 'RSA-OAEP-SHA256', wrapFingerprint: requester.fingerprint });

    const result = collected(await approveAndCollect(t, app, asked));
    expect(result.instance.name).toBe(dataInstance);
    expect(result.wrappingKey).toEqual({ fingerprint: requester.fingerprint, bits: 2048 });
    expect(result.kcv).toBe(keyCheckValue('AES-256', data).value);
    expect(rsaOaepUnwrap(requester, result.wrapped)).toEqual(data);
    // Collected once: the approved export is spent.
    expect((await app.request('ApprovalCollect', { id: required(asked).requestId })).error?.code).toBe('APPROVAL_NOT_PENDING');
  });

  it('lets an officer without a grant ask too (the quorum is the consent), as for a clear Get', async () => {
    const asked = await officer.request('Export', { name: 'byok/data', wrapMethod: 'RSA-OAEP-SHA256', wrapPublicKey: requester.publicPem });
    expect(rsaOaepUnwrap(requester, collected(await approveAndCollect(t, officer, asked)).wrapped)).toEqual(data);
  });

  it('exports under an appliance AES key (RFC 5649): approvers see the wrapping key bound by id, name and instance', async () => {
    const asked = await app.request('Export', { name: 'byok/data', wrapMethod: 'AES-KWP', wrapKey: 'byok/kek' });
    const view = await viewOf(officer, required(asked).requestId);
    expect(view.args.wrapBinding).toMatchObject({ name: 'byok/kek', keyId: expect.any(String), instance: expect.any(String) });
    const result = collected(await approveAndCollect(t, app, asked));
    expect(result.wrappingKey).toMatchObject({ name: 'byok/kek' });
    expect(result.wrapped.length).toBe(40);
    expect(kwpUnwrap(kek, result.wrapped)).toEqual(data);
  });

  it.each([
    ['an RSA key under 2048 bits', () => ({ wrapPublicKey: rsaPair(1024).publicPem }), 'WRAPPING_KEY_REFUSED'],
    ['a text that is no public key', () => ({ wrapPublicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }), 'WRAPPING_KEY_REFUSED'],
    ['RSA without its public key', () => ({}), 'INVALID_ARGUMENT'],
    ['RSA with an AES wrapping key as well', () => ({ wrapPublicKey: requester.publicPem, wrapKey: 'byok/kek' }), 'INVALID_ARGUMENT'],
  ])('refuses %s before storing a request', async (_what, fields: () => Record<string, string>, code) => {
    const answer = await app.request('Export', { name: 'byok/data', wrapMethod: 'RSA-OAEP-SHA256', ...fields() });
    expect(answer.error?.code).toBe(code);
    expect(answer.error?.message).not.toMatch(/BEGIN/);
  });

  it.each([
    ['a wrapping key whose usage lacks wrap-key', 'byok/no-wrap', 'app', 'USAGE_NOT_PERMITTED'],
    ['a wrapping key the requester may not encrypt under', 'byok/kek', 'stranger', 'PERMISSION_DENIED'],
    ['an unknown wrapping key', 'byok/none', 'app', 'KEY_NOT_FOUND'],
  ])('refuses %s before storing a request', async (_what, wrapKey, who, code) => {
    const answer = await (who === 'app' ? app : stranger).request('Export', { name: 'byok/data', wrapMethod: 'AES-KWP', wrapKey });
    expect(answer.error?.code).toBe(code);
  });

  it('refuses an app without get on the key', async () => {
    const answer = await stranger.request('Export', { name: 'byok/kek', wrapMethod: 'RSA-OAEP-SHA256', wrapPublicKey: requester.publicPem });
    expect(answer.error?.code).toBe('PERMISSION_DENIED');
  });

  it('imports material wrapped under an appliance AES key: approvers see the unwrapped key\'s KCV and the wrapping key', async () => {
    const material = randomBytes(32);
    const asked = await app.request('Register', { name: 'byok/imported', algorithm: 'AES-256', material: kwpWrap(kek, material).toString('base64'), unwrapKey: 'byok/kek' });
    expect(asked.error).toMatchObject({ code: 'APPROVAL_REQUIRED', details: { class: 'key-import', operation: 'Register' } });
    const view = await viewOf(officer, required(asked).requestId);
    expect(view.args).toMatchObject({ name: 'byok/imported', materialLength: 32, kcv: keyCheckValue('AES-256', material).value, kcvKind: 'AES-CMAC', unwrappedBy: { method: 'AES-KWP', key: 'byok/kek' } });
    expect(view.args).not.toHaveProperty('unwrapKey');
    expect((await t.approve(asked)).state).toBe('executed');
    expect(await materialOf('byok/imported')).toEqual(material);
  });

  it('imports a wrapped SECRET as a key import too (the unwrap needs decrypt on the wrapping key)', async () => {
    const secret = Buffer.from('correct horse battery staple');
    const asked = await app.request('Register', { name: 'byok/secret', material: kwpWrap(kek, secret).toString('base64'), unwrapKey: 'byok/kek' });
    expect(required(asked).requestId).toBeDefined();
    expect((await t.approve(asked)).state).toBe('executed');
    expect(await materialOf('byok/secret')).toEqual(secret);
  });

  it.each([
    ['a blob wrapped under another key', () => kwpWrap(randomBytes(32), randomBytes(32)), 'UNWRAP_FAILED'],
    ['a blob altered on the way', () => { const b = kwpWrap(kek, randomBytes(32)); b[9] ^= 1; return b; }, 'UNWRAP_FAILED'],
    ['a blob whose material has the wrong length for AES-256', () => kwpWrap(kek, randomBytes(16)), 'INVALID_ARGUMENT'],
  ])('refuses %s and stores no request', async (_what, blob: () => Buffer, code) => {
    const before = ((await officer.request('ApprovalList', { state: 'pending' })).result as { requests: unknown[] }).requests.length;
    const answer = await app.request('Register', { name: 'byok/bad', algorithm: 'AES-256', material: blob().toString('base64'), unwrapKey: 'byok/kek' });
    expect(answer.error?.code).toBe(code);
    expect(((await officer.request('ApprovalList', { state: 'pending' })).result as { requests: unknown[] }).requests.length).toBe(before);
  });

  it('refuses a wrapped import by a client without decrypt on the wrapping key', async () => {
    const answer = await stranger.request('Register', { name: 'byok/data2', algorithm: 'AES-256', material: kwpWrap(kek, randomBytes(32)).toString('base64'), unwrapKey: 'byok/kek' });
    expect(answer.error?.code).toBe('PERMISSION_DENIED');
  });
});
