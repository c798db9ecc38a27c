/**
 * Attack (Trust issue, lesser findings): random-IV AES-GCM had no
 * per-key invocation limit. With random 96-bit IVs NIST SP 800-38D §8.3
 * allows at most 2^32 invocations per key; past that an IV repeats with
 * more than 2^-32 probability, and one repeat gives away the GHASH key
 * (forgeries) and the XOR of two plaintexts. An application (or an attacker
 * holding its certificate) could keep sealing under one instance for ever,
 * and a restart forgot any count there was.
 *
 * The rule (domain/gcm-invocations.ts): every Encrypt and GenerateDataKey
 * counts against its instance's gcm_invocation_limit (2^31 by default; here
 * 6, so the test needs no 2^31 calls), durably, reserved in blocks before
 * use; past the limit both are INVOCATION_LIMIT_REACHED until the key is
 * rolled over, and a restart resumes the count instead of resetting it.
 * Decrypt of what was sealed stays possible. Real server on a SoftHSM2 token
 * and a SQLite keychain, over mTLS.
 */
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

const LIMIT = 6;
const plaintext = (n: number): string => Buffer.from(`record ${n}`).toString('base64');

describe('attack 12: random-IV AES-GCM sealed without an invocation limit', () => {
  let app: TestAppliance;
  let client: Credentials;

  beforeAll(async () => {
    app = await startTestAppliance({ gcm_invocation_limit: String(LIMIT) });
    client = app.issue('sealing-app', 'app');
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'pay/cards', algorithm: 'AES-256' })).error).toBeUndefined();
    const grant = await officer.request('PolicyGrant', { client: 'sealing-app', pattern: 'pay/*', permissions: ['encrypt', 'decrypt', 'generate-data-key'] });
    expect((await app.approve(grant)).state).toBe('executed');
    officer.destroy();
  });

  afterAll(async () => app.stop());

  const encrypt = (conn: RawConnection, n: number) => conn.request('Encrypt', { name: 'pay/cards', plaintext: plaintext(n) });

  it('refuses Encrypt and GenerateDataKey past the limit, across a restart, until the key is rolled over', async () => {
    let conn = await app.connect(client);
    const first = await encrypt(conn, 1);
    expect(first.error).toBeUndefined();
    expect((await conn.request('GenerateDataKey', { name: 'pay/cards' })).error).toBeUndefined();
    expect((await encrypt(conn, 3)).error).toBeUndefined();

    // A restart must not reset the count: 3 of 6 are used.
    await app.restart();
    conn = await app.connect(client);
    for (const n of [4, 5, 6]) expect((await encrypt(conn, n)).error).toBeUndefined();
    const refused = await encrypt(conn, 7);
    expect(refused.error?.code).toBe('INVOCATION_LIMIT_REACHED');
    expect(refused.error?.details).toMatchObject({ limit: LIMIT });
    expect((await conn.request('GenerateDataKey', { name: 'pay/cards' })).error?.code).toBe('INVOCATION_LIMIT_REACHED');

    // And another restart does not hand out a fresh budget either.
    await app.restart();
    conn = await app.connect(client);
    expect((await encrypt(conn, 8)).error?.code).toBe('INVOCATION_LIMIT_REACHED');
    // What was sealed still opens.
    const opened = await conn.request('Decrypt', { name: 'pay/cards', ciphertext: (first.result as { ciphertext: string }).ciphertext });
    expect((opened.result as { plaintext: string }).plaintext).toBe(plaintext(1));

    // The remedy: a rollover, whose new instance has new material and a count of its own.
    const officer = await app.connect(app.officer);
    expect((await officer.request('ReKey', { name: 'pay/cards' })).error).toBeUndefined();
    const after = await encrypt(conn, 9);
    expect(after.error).toBeUndefined();
    expect((after.result as { instance: string }).instance).not.toBe((first.result as { instance: string }).instance);
  });
});
