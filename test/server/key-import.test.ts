/**
 * A key import end to end over the native wire, against a real appliance:
 * Register of an AES key with its material waits for two other officers
 * (APPROVAL_REQUIRED, class key-import), whose view shows the key check
 * value the custodian reads out; once approved, the key is registered with
 * exactly those bytes: Encrypt under it gives the NIST SP 800-38A known
 * answer (F.2.1, CBC-AES128), and a Get by a granted client returns them.
 */
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

// NIST SP 800-38A F.2.1: CBC-AES128.Encrypt, first block.
const KEY = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
const IV = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const PLAINTEXT = Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex');
const CIPHERTEXT = '7649abac8119b246cee98e9b12e9197d';
/** X9.24-1:2017 KCV of KEY (AES-CMAC of a zero block, 5 bytes), as `openssl mac -cipher AES-128-CBC … CMAC` gives it. */
const KCV = '7AD386C376';

describe('key import over the native wire', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let app: RawConnection;

  beforeAll(async () => {
    t = await startTestAppliance({ clear_key_import: 'dual-control' });
    officer = await t.connect(t.officer);
    const appCredentials = t.issue('kat-app', 'app');
    expect((await officer.request('PolicyGrant', { client: 'kat-app', pattern: 'kat/*', permissions: ['encrypt', 'register'] })).error).toBeUndefined();
    const material = await officer.request('PolicyGrant', { client: 'kat-app', pattern: 'kat/*', permissions: ['get'] });
    expect((await t.approve(material)).state).toBe('executed');
    app = await t.connect(appCredentials);
  });

  afterAll(async () => t.stop());

  it('registers the approved bytes: the view shows the KCV, and Encrypt gives the SP 800-38A answer', async () => {
    const asked = await app.request('Register', { name: 'kat/aes128', algorithm: 'AES-128', material: KEY.toString('base64'), usage: ['encrypt', 'decrypt'] });
    expect(asked.error).toMatchObject({ code: 'APPROVAL_REQUIRED', details: { class: 'key-import', operation: 'Register' } });
    expect(asked.error?.message).toMatch(/^Register needs 2 officer approval\(s\): request /);
    const id = (asked.error?.details as { requestId: string }).requestId;
    const shown = await officer.request('ApprovalGet', { id });
    expect((shown.result as { request: { args: unknown } }).request.args).toEqual({ name: 'kat/aes128', algorithm: 'AES-128', usage: ['encrypt', 'decrypt'], materialLength: 16, kcv: KCV, kcvKind: 'AES-CMAC' });

    const approved = await t.approve(asked);
    expect(approved).toMatchObject({ state: 'executed', error: null, result: { key: { fullName: 'kat/aes128', algorithm: 'AES-128' } } });

    const encrypted = await app.request('Encrypt', { name: 'kat/aes128', plaintext: PLAINTEXT.toString('base64'), mode: 'AES-CBC-PKCS5', iv: IV.toString('base64') });
    expect(encrypted.error).toBeUndefined();
    const ciphertext = Buffer.from((encrypted.result as { ciphertext: string }).ciphertext, 'base64');
    // One block of plaintext and one of PKCS#5 padding: the first is the standard's.
    expect(ciphertext.subarray(0, 16).toString('hex')).toBe(CIPHERTEXT);

    const got = await app.request('Get', { name: 'kat/aes128' });
    expect(Buffer.from((got.result as { material: string }).material, 'base64')).toEqual(KEY);
  });

  it('fails an approved import whose name was taken meanwhile, registering nothing twice (the request fails, the first key stays)', async () => {
    const first = await app.request('Register', { name: 'kat/race', algorithm: 'AES-128', material: KEY.toString('base64') });
    const second = await app.request('Register', { name: 'kat/race', algorithm: 'AES-128', material: Buffer.alloc(16, 7).toString('base64') });
    expect((await t.approve(first)).state).toBe('executed');
    expect(await t.approve(second)).toMatchObject({ state: 'failed', error: { code: 'KEY_EXISTS' } });
    const got = await app.request('Get', { name: 'kat/race' });
    expect(Buffer.from((got.result as { material: string }).material, 'base64')).toEqual(KEY);
  });
});
