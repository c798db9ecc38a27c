/**
 * The PKCS#11 port refuses token objects it did not create, on a REAL
 * SoftHSM2 token: objects are planted under Strongroom's labels through a
 * raw session (as another application holding the PIN could), and every
 * resolve must answer HSM_ERROR with details {label, reason} instead of
 * using them. Security review findings 1 and 3.
 */
import { createHash, randomBytes, verify } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import type { HsmPort } from '../../hsm/hsm-port';
import { masterKeyLabel, SIGNING_KEY_LABEL } from '../../hsm/hsm-port';
import { acquireModule, ModuleLease } from '../../hsm/pkcs11-module';
import { findObjects, masterKeyTemplate, P256_EC_PARAMS } from '../../hsm/pkcs11-objects';
import { closeRawSession, makeSoftHsmFixture, rawSession, SoftHsmFixture, useSoftHsmConf } from '../support/softhsm-fixture';

/** DER of the OID 1.3.132.0.34 (secp384r1 / P-384). */
const P384_EC_PARAMS = Buffer.from('06052b81040022', 'hex');

async function failure(work: Promise<unknown>): Promise<{ code?: string; details?: Record<string, unknown> }> {
  return work.then(
    () => ({ code: 'NO_ERROR' }),
    (err: { code?: string; details?: Record<string, unknown> }) => ({ code: err.code, details: err.details }),
  );
}

describe('Pkcs11Hsm refuses token objects it did not create', () => {
  let fixture: SoftHsmFixture;
  let hsm: HsmPort;
  let lease: ModuleLease;
  let raw: { slot: Buffer; session: Buffer };
  /** Objects planted by the running test; destroyed after it. */
  let planted: Buffer[];

  beforeAll(async () => {
    fixture = await makeSoftHsmFixture('sr-plant');
    hsm = await fixture.open();
    useSoftHsmConf(fixture.softhsmConf);
    lease = acquireModule(fixture.modulePath);
    raw = rawSession(lease, fixture.label, fixture.userPin);
  });

  beforeEach(() => {
    planted = [];
  });

  afterEach(() => {
    for (const handle of planted ?? []) lease.pkcs11.C_DestroyObject(raw.session, handle);
  });

  afterAll(async () => {
    if (lease !== undefined) {
      if (raw !== undefined) closeRawSession(lease, raw);
      lease.release();
    }
    await fixture?.cleanup();
  });

  function plantSecret(mechanism: number, template: pkcs11js.Template): Buffer {
    const handle = lease.pkcs11.C_GenerateKey(raw.session, { mechanism }, template);
    planted.push(handle);
    return handle;
  }

  function plantAes(label: string, overrides: pkcs11js.Template = []): Buffer {
    const base: pkcs11js.Template = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_WRAP, value: true },
      { type: pkcs11js.CKA_UNWRAP, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
    ];
    const types = new Set(overrides.map((a) => a.type));
    return plantSecret(pkcs11js.CKM_AES_KEY_GEN, [...base.filter((a) => !types.has(a.type)), ...overrides]);
  }

  function plantEcPair(options: { params: Buffer; extractable?: boolean; publicId?: Buffer; id?: Buffer }): void {
    const id = options.id ?? randomBytes(16);
    const pair = lease.pkcs11.C_GenerateKeyPair(
      raw.session,
      { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
      [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_VERIFY, value: true },
        { type: pkcs11js.CKA_EC_PARAMS, value: options.params },
        { type: pkcs11js.CKA_LABEL, value: SIGNING_KEY_LABEL },
        { type: pkcs11js.CKA_ID, value: options.publicId ?? id },
      ],
      [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: options.extractable ?? false },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_LABEL, value: SIGNING_KEY_LABEL },
        { type: pkcs11js.CKA_ID, value: id },
      ],
    );
    planted.push(pair.privateKey, pair.publicKey);
  }

  function labelled(label: string): Buffer[] {
    return findObjects(lease.pkcs11, raw.session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
  }

  describe('master keys', () => {
    it('refuses an extractable AES key planted under a master-key label, though it lists its version', async () => {
      plantAes(masterKeyLabel(5), [{ type: pkcs11js.CKA_EXTRACTABLE, value: true }]);
      expect(await hsm.listMasterKeyVersions()).toContain(5);
      const refused = await failure(hsm.wrapKey(5, randomBytes(32)));
      expect(refused).toEqual({ code: 'HSM_ERROR', details: { label: masterKeyLabel(5), reason: 'extractable' } });
      expect((await failure(hsm.unwrapKey({ mechanism: 'AES_KEY_WRAP_PAD', masterKeyVersion: 5, wrapped: randomBytes(40) }))).code)
        .toBe('HSM_ERROR');
      // and it is not replaced either
      expect((await failure(hsm.generateMasterKey(5))).code).toBe('HSM_ERROR');
    });

    it('refuses a second object carrying the label of an existing master key, and works again once it is gone', async () => {
      await hsm.generateMasterKey(6);
      const key = randomBytes(32);
      const wrapped = await hsm.wrapKey(6, key);
      plantAes(masterKeyLabel(6));
      expect(await failure(hsm.wrapKey(6, randomBytes(32)))).toEqual({
        code: 'HSM_ERROR', details: { label: masterKeyLabel(6), reason: 'duplicate' },
      });
      expect((await failure(hsm.unwrapKey(wrapped))).details).toMatchObject({ reason: 'duplicate' });
      expect(await hsm.listMasterKeyVersions()).toContain(6);
      for (const handle of planted.splice(0)) lease.pkcs11.C_DestroyObject(raw.session, handle);
      expect((await hsm.unwrapKey(wrapped)).equals(key)).toBe(true);
    });

    it.each<[string, string, () => void]>([
      ['an imported AES key (known bytes: never CKA_ALWAYS_SENSITIVE)', 'not-always-sensitive', () => {
        const handle = lease.pkcs11.C_CreateObject(raw.session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_WRAP, value: true },
          { type: pkcs11js.CKA_UNWRAP, value: true },
          { type: pkcs11js.CKA_VALUE, value: Buffer.alloc(32, 0x41) },
          { type: pkcs11js.CKA_LABEL, value: masterKeyLabel(10) },
        ]);
        planted.push(handle);
      }],
      ['an AES-128 key', 'wrong-length', () => plantAes(masterKeyLabel(10), [{ type: pkcs11js.CKA_VALUE_LEN, value: 16 }])],
      ['a non-sensitive AES key', 'not-sensitive', () => plantAes(masterKeyLabel(10), [{ type: pkcs11js.CKA_SENSITIVE, value: false }])],
      ['a session object', 'not-token-object', () => plantAes(masterKeyLabel(10), [{ type: pkcs11js.CKA_TOKEN, value: false }])],
      ['a generic secret', 'not-aes', () => plantSecret(pkcs11js.CKM_GENERIC_SECRET_KEY_GEN, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_LABEL, value: masterKeyLabel(10) },
      ])],
      ['a data object', 'wrong-class', () => {
        planted.push(lease.pkcs11.C_CreateObject(raw.session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_LABEL, value: masterKeyLabel(10) },
          { type: pkcs11js.CKA_VALUE, value: Buffer.from('not a key') },
        ]));
      }],
    ])('refuses %s under a master-key label (reason %s)', async (_what, reason, plant) => {
      plant();
      expect(await failure(hsm.wrapKey(10, randomBytes(32)))).toEqual({
        code: 'HSM_ERROR', details: { label: masterKeyLabel(10), reason },
      });
    });
  });

  describe('the signing key', () => {
    const data = Buffer.from('audit checkpoint');
    const digest = createHash('sha256').update(data).digest();

    it('refuses a P-384 key pair planted under the signing label instead of signing with it', async () => {
      plantEcPair({ params: P384_EC_PARAMS });
      const expected = { code: 'HSM_ERROR', details: { label: SIGNING_KEY_LABEL, reason: 'not-p256' } };
      expect(await failure(hsm.signDigest(digest))).toEqual(expected);
      expect(await failure(hsm.signingPublicKey())).toEqual(expected);
      expect(await failure(hsm.ensureSigningKey())).toEqual(expected);
    });

    it('refuses an extractable P-256 key pair planted under the signing label', async () => {
      plantEcPair({ params: P256_EC_PARAMS, extractable: true });
      expect((await failure(hsm.signDigest(digest))).details).toEqual({ label: SIGNING_KEY_LABEL, reason: 'extractable' });
    });

    it('refuses a private key whose public key has another CKA_ID', async () => {
      plantEcPair({ params: P256_EC_PARAMS, publicId: randomBytes(16) });
      expect((await failure(hsm.signDigest(digest))).details).toEqual({ label: SIGNING_KEY_LABEL, reason: 'half-pair' });
    });

    it('refuses a pair without CKA_ID (nothing binds its halves)', async () => {
      plantEcPair({ params: P256_EC_PARAMS, id: Buffer.alloc(0) });
      expect((await failure(hsm.signDigest(digest))).details).toEqual({ label: SIGNING_KEY_LABEL, reason: 'no-id' });
    });

    it('gives both halves of the pair it generates the same random CKA_ID, and refuses a planted second pair', async () => {
      const pem = await hsm.ensureSigningKey();
      const [privateKey] = findObjects(lease.pkcs11, raw.session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_LABEL, value: SIGNING_KEY_LABEL },
      ]);
      const [{ value: id }] = lease.pkcs11.C_GetAttributeValue(raw.session, privateKey, [{ type: pkcs11js.CKA_ID }]);
      expect((id as Buffer).length).toBe(16);
      expect(findObjects(lease.pkcs11, raw.session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_ID, value: id as Buffer },
      ])).toHaveLength(1);

      plantEcPair({ params: P256_EC_PARAMS });
      expect((await failure(hsm.signDigest(digest))).details).toEqual({ label: SIGNING_KEY_LABEL, reason: 'duplicate' });
      for (const handle of planted.splice(0)) lease.pkcs11.C_DestroyObject(raw.session, handle);

      const signature = await hsm.signDigest(digest);
      expect(verify('sha256', data, { key: pem, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
      expect(labelled(SIGNING_KEY_LABEL)).toHaveLength(2);
    });
  });

  it('accepts a master key generated from Strongroom\'s own template by another process', async () => {
    planted.push(lease.pkcs11.C_GenerateKey(raw.session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, masterKeyTemplate(20)));
    const key = randomBytes(32);
    expect((await hsm.unwrapKey(await hsm.wrapKey(20, key))).equals(key)).toBe(true);
  });
});
