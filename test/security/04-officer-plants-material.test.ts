/**
 * Attack 4 of the Trust issue: an officer plants material. One officer rolled
 * `hr/payroll` over to bytes they chose (ReKey with material), apps then
 * encrypted under it, and the officer could decrypt offline; officers also
 * encrypted, MAC'd and made data keys under every key by role.
 *
 * The rule (domain/policy/permissions.ts): a caller gives material only for a
 * key the appliance cannot generate (SECRET); for every other algorithm the
 * appliance generates and a caller's bytes are CALLER_MATERIAL_REFUSED on
 * ReKey, and on Register a key import that other officers must approve
 * (attack 14), for officers and apps alike. Using a key (encrypt, decrypt, mac,
 * generate-data-key, decrypt-data-key, get) needs a grant for everyone:
 * an officer without one is PERMISSION_DENIED. Runs over real mTLS, on a
 * SoftHSM2 token and a SQLite keychain.
 */
import { Credentials, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

const chosen = (length: number): string => Buffer.alloc(length, 0x41).toString('base64');

describe('attack 4: an officer plants material', () => {
  let app: TestAppliance;
  let payroll: Credentials;

  beforeAll(async () => {
    app = await startTestAppliance({ clear_key_import: 'dual-control' });
    payroll = app.issue('payroll-app', 'app');
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/payroll', algorithm: 'AES-256' })).error).toBeUndefined();
    expect((await officer.request('Create', { name: 'hr/tokens', algorithm: 'HMAC-SHA256' })).error).toBeUndefined();
    const grant = await officer.request('PolicyGrant', {
      client: 'payroll-app',
      pattern: 'hr/*',
      permissions: ['encrypt', 'decrypt', 'mac', 'generate-data-key', 'decrypt-data-key', 'rekey', 'register'],
    });
    expect((await app.approve(grant)).state).toBe('executed');
    officer.destroy();
  });

  afterAll(async () => app.stop());

  it('refuses an officer rolling an AES key over to bytes they chose, and leaves the key as it was', async () => {
    const officer = await app.connect(app.officer);
    const before = (await officer.request('GetAttributes', { name: 'hr/payroll' })).result as { key: { currentInstance: string } };
    expect(before.key.currentInstance).toEqual(expect.any(String));
    const res = await officer.request('ReKey', { name: 'hr/payroll', material: chosen(32) });
    expect(res.error?.code).toBe('CALLER_MATERIAL_REFUSED');
    const after = (await officer.request('GetAttributes', { name: 'hr/payroll' })).result as { key: { currentInstance: string } };
    expect(after.key.currentInstance).toBe(before.key.currentInstance);
    // The administrative rollover (the appliance generates) still works.
    const rolled = await officer.request('ReKey', { name: 'hr/payroll' });
    expect(rolled.error).toBeUndefined();
    expect((rolled.result as { key: { currentInstance: string } }).key.currentInstance).not.toBe(before.key.currentInstance);
  });

  it('holds an officer registering an AES or HMAC key with bytes they chose for other officers (a key import: attack 14)', async () => {
    const officer = await app.connect(app.officer);
    const aes = await officer.request('Register', { name: 'hr/planted', algorithm: 'AES-256', material: chosen(32) });
    expect(aes.error?.code).toBe('APPROVAL_REQUIRED');
    expect((aes.error?.details as { class: string }).class).toBe('key-import');
    const hmac = await officer.request('Register', { name: 'hr/planted-mac', algorithm: 'HMAC-SHA256', material: chosen(32) });
    expect(hmac.error?.code).toBe('APPROVAL_REQUIRED');
    expect((await officer.request('GetAttributes', { name: 'hr/planted' })).error?.code).toBe('KEY_NOT_FOUND');
    for (const res of [aes, hmac]) expect((await officer.request('ApprovalCancel', { id: (res.error?.details as { requestId: string }).requestId })).error).toBeUndefined();
  });

  it('refuses caller material for generated algorithms from a granted app too: no grant makes it acceptable', async () => {
    const conn = await app.connect(payroll);
    expect((await conn.request('ReKey', { name: 'hr/payroll', material: chosen(32) })).error?.code).toBe('CALLER_MATERIAL_REFUSED');
    // Register with it is a key import that waits for officers (attack 14).
    const planted = await conn.request('Register', { name: 'hr/app-planted', algorithm: 'AES-128', material: chosen(16) });
    expect(planted.error?.code).toBe('APPROVAL_REQUIRED');
    expect((await conn.request('ApprovalCancel', { id: (planted.error?.details as { requestId: string }).requestId })).error).toBeUndefined();
  });

  it('still accepts caller material for opaque secrets, which the appliance cannot generate', async () => {
    const officer = await app.connect(app.officer);
    const registered = await officer.request('Register', { name: 'hr/db-password', algorithm: 'SECRET', material: chosen(12) });
    expect(registered.error).toBeUndefined();
    const rolled = await officer.request('ReKey', { name: 'hr/db-password', material: chosen(20) });
    expect(rolled.error).toBeUndefined();
  });

  it("refuses an officer's Encrypt, MAC and GenerateDataKey on a key they hold no grant on", async () => {
    const officer = await app.connect(app.officer);
    const plaintext = Buffer.from('salary').toString('base64');
    expect((await officer.request('Encrypt', { name: 'hr/payroll', plaintext })).error?.code).toBe('PERMISSION_DENIED');
    expect((await officer.request('MAC', { name: 'hr/tokens', data: plaintext })).error?.code).toBe('PERMISSION_DENIED');
    expect((await officer.request('GenerateDataKey', { name: 'hr/payroll' })).error?.code).toBe('PERMISSION_DENIED');
  });

  it("holds for approval an officer's grant of key use to themselves (or to any officer): one officer cannot give themselves encrypt or mac alone", async () => {
    const officer = await app.connect(app.officer);
    for (const permissions of [['encrypt'], ['mac'], ['generate-data-key']]) {
      const res = await officer.request('PolicyGrant', { client: 'test-officer', pattern: 'hr/*', permissions });
      expect(res.error?.code).toBe('APPROVAL_REQUIRED');
      expect((res.error?.details as { class: string }).class).toBe('grant-material');
      expect((await officer.request('ApprovalCancel', { id: (res.error?.details as { requestId: string }).requestId })).error).toBeUndefined();
    }
    expect((await officer.request('Encrypt', { name: 'hr/payroll', plaintext: chosen(16) })).error?.code).toBe('PERMISSION_DENIED');
    // The same grant to an app runs at once (it is no officer's use).
    expect((await officer.request('PolicyGrant', { client: 'payroll-app', pattern: 'hr/*', permissions: ['mac'] })).error).toBeUndefined();
  });
});

describe('an app with a grant still uses its keys (no regression of the normal path)', () => {
  let app: TestAppliance;
  let shopApp: Credentials;

  beforeAll(async () => {
    app = await startTestAppliance();
    shopApp = app.issue('shop-app', 'app');
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'shop/orders', algorithm: 'AES-256' })).error).toBeUndefined();
    expect((await officer.request('Create', { name: 'shop/tags', algorithm: 'HMAC-SHA256' })).error).toBeUndefined();
    const grant = await officer.request('PolicyGrant', {
      client: 'shop-app',
      pattern: 'shop/*',
      permissions: ['encrypt', 'decrypt', 'mac', 'generate-data-key', 'decrypt-data-key'],
    });
    expect((await app.approve(grant)).state).toBe('executed');
    officer.destroy();
  });

  afterAll(async () => app.stop());

  it('encrypts and decrypts, MACs and verifies, makes and unwraps a data key', async () => {
    const shop = await app.connect(shopApp);
    const plaintext = Buffer.from('order 42').toString('base64');
    const sealed = (await shop.request('Encrypt', { name: 'shop/orders', plaintext })).result as { ciphertext: string };
    expect((await shop.request('Decrypt', { name: 'shop/orders', ciphertext: sealed.ciphertext })).result).toMatchObject({ plaintext });
    const tag = (await shop.request('MAC', { name: 'shop/tags', data: plaintext })).result as { mac: string };
    expect((await shop.request('MACVerify', { name: 'shop/tags', data: plaintext, mac: tag.mac })).result).toMatchObject({ valid: true });
    const dataKey = (await shop.request('GenerateDataKey', { name: 'shop/orders' })).result as { plaintext: string; wrapped: string };
    expect((await shop.request('DecryptDataKey', { name: 'shop/orders', wrapped: dataKey.wrapped })).result).toMatchObject({ plaintext: dataKey.plaintext });
  });
});
