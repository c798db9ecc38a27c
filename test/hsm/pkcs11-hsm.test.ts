/**
 * The PKCS#11 port on a REAL SoftHSM2 token: the shared conformance suite,
 * then what only a PKCS#11 token can show (module and token discovery, PINs,
 * object attributes, sharing the process-global module).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { masterKeyLabel, SIGNING_KEY_LABEL } from '../../hsm/hsm-port';
import { openPkcs11Hsm } from '../../hsm/pkcs11-hsm';
import { acquireModule, ModuleLease } from '../../hsm/pkcs11-module';
import { findByLabel, findObjects, readAttribute } from '../../hsm/pkcs11-objects';
import { createSoftHsmToken } from '../../hsm/softhsm-token';
import { makeSoftHsmFixture, rawSession, SoftHsmFixture, useSoftHsmConf } from '../support/softhsm-fixture';
import { describeHsmConformance } from './hsm-conformance';
import { rejectionCode } from '../support/error-code';

describeHsmConformance('Pkcs11Hsm on SoftHSM2', async () => {
  const fixture = await makeSoftHsmFixture('sr-conformance', { extraLabels: ['sr-conformance-other'] });
  const hsm = await fixture.open();
  const other = await fixture.open('sr-conformance-other');
  return { hsm, other, cleanup: () => fixture.cleanup() };
});

function boolAttr(lease: ModuleLease, session: Buffer, object: Buffer, type: number): boolean {
  return readAttribute(lease.pkcs11, session, object, type)[0] === 1;
}

describe('Pkcs11Hsm on SoftHSM2, beyond the shared contract', () => {
  let fixture: SoftHsmFixture;

  beforeAll(async () => {
    fixture = await makeSoftHsmFixture('sr-main', { extraLabels: ['sr-pin'] });
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  function open(overrides: Partial<{ modulePath: string; tokenLabel: string; pin: string }> = {}, internals = {}) {
    useSoftHsmConf(fixture.softhsmConf);
    return openPkcs11Hsm(
      {
        modulePath: overrides.modulePath ?? fixture.modulePath,
        tokenLabel: overrides.tokenLabel ?? fixture.label,
        pin: Buffer.from(overrides.pin ?? fixture.userPin),
      },
      internals,
    );
  }

  it('createSoftHsmToken is idempotent: a second call finds the token and keeps its objects', async () => {
    const hsm = await open();
    if (!(await hsm.listMasterKeyVersions()).includes(1)) await hsm.generateMasterKey(1);
    await hsm.close();
    const again = createSoftHsmToken({ dir: fixture.dir, label: fixture.label, userPin: fixture.userPin, soPin: fixture.soPin });
    expect(again).toMatchObject({ softhsmConf: fixture.softhsmConf, label: fixture.label });
    const reopened = await open();
    expect(await reopened.listMasterKeyVersions()).toEqual([1]);
    await reopened.close();
  });

  it('a module path that does not load fails with HSM_MODULE_NOT_FOUND', async () => {
    expect(await rejectionCode(open({ modulePath: '/nonexistent/libpkcs11.so' }))).toBe('HSM_MODULE_NOT_FOUND');
  });

  it('an unknown token label fails with HSM_TOKEN_NOT_FOUND and lists the labels seen', async () => {
    const err: unknown = await open({ tokenLabel: 'no-such-token' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'HSM_TOKEN_NOT_FOUND' });
    const seen = (err as { details: { seen: string } }).details.seen;
    expect(seen.split(',').sort()).toEqual(['sr-main', 'sr-pin']);
  });

  it('a wrong PIN fails with HSM_PIN_INCORRECT, and the right PIN still works afterwards', async () => {
    expect(await rejectionCode(open({ tokenLabel: 'sr-pin', pin: 'wrong-pin' }))).toBe('HSM_PIN_INCORRECT');
    const hsm = await open({ tokenLabel: 'sr-pin' });
    expect((await hsm.tokenInfo()).label).toBe('sr-pin');
    await hsm.close();
  });

  it('SoftHSM2 2.6.1 never locks the user PIN, so a lock is injected at C_Login: HSM_PIN_LOCKED', async () => {
    // Quirk pinned here: SoftHSM2 only raises CKF_USER_PIN_COUNT_LOW and
    // answers CKR_PIN_INCORRECT forever (Token::loginUser has no counter).
    for (let attempt = 0; attempt < 12; attempt += 1) {
      expect(await rejectionCode(open({ tokenLabel: 'sr-pin', pin: `bad-${attempt}` }))).toBe('HSM_PIN_INCORRECT');
    }
    const locked = () => {
      const pkcs11 = new pkcs11js.PKCS11();
      pkcs11.C_Login = () => {
        throw new pkcs11js.Pkcs11Error('CKR_PIN_LOCKED', pkcs11js.CKR_PIN_LOCKED, 'C_Login');
      };
      return pkcs11;
    };
    expect(await rejectionCode(open({ tokenLabel: 'sr-pin' }, { pkcs11Factory: locked }))).toBe('HSM_PIN_LOCKED');
    const hsm = await open({ tokenLabel: 'sr-pin' });
    expect((await hsm.tokenInfo()).label).toBe('sr-pin');
    await hsm.close();
  });

  it('a token without CKM_AES_KEY_WRAP_PAD refuses to wrap with HSM_MECHANISM_UNSUPPORTED', async () => {
    const withoutKwp = () => {
      const pkcs11 = new pkcs11js.PKCS11();
      const list = pkcs11.C_GetMechanismList.bind(pkcs11);
      pkcs11.C_GetMechanismList = (slot: Buffer) => list(slot).filter((m) => m !== pkcs11js.CKM_AES_KEY_WRAP_PAD);
      return pkcs11;
    };
    const hsm = await open({}, { pkcs11Factory: withoutKwp });
    try {
      expect(await rejectionCode(hsm.wrapKey(1, randomBytes(32)))).toBe('HSM_MECHANISM_UNSUPPORTED');
    } finally {
      await hsm.close();
    }
  });

  describe('objects in the token', () => {
    let lease: ModuleLease;
    let slot: Buffer;
    let session: Buffer;

    beforeAll(async () => {
      const hsm = await open();
      try {
        if (!(await hsm.listMasterKeyVersions()).includes(1)) await hsm.generateMasterKey(1);
        await hsm.ensureSigningKey();
      } finally {
        await hsm.close();
      }
      useSoftHsmConf(fixture.softhsmConf);
      lease = acquireModule(fixture.modulePath);
      ({ slot, session } = rawSession(lease, fixture.label, fixture.userPin));
    });

    afterAll(() => {
      if (lease === undefined) return;
      if (lease.releaseLogin(slot)) lease.pkcs11.C_Logout(session);
      lease.pkcs11.C_CloseSession(session);
      lease.release();
    });

    it('the master key is a sensitive, non-extractable AES-256 token key that only wraps', () => {
      const key = findByLabel(lease.pkcs11, session, pkcs11js.CKO_SECRET_KEY, masterKeyLabel(1));
      expect(key).not.toBeNull();
      const k = key as Buffer;
      expect(boolAttr(lease, session, k, pkcs11js.CKA_SENSITIVE)).toBe(true);
      expect(boolAttr(lease, session, k, pkcs11js.CKA_EXTRACTABLE)).toBe(false);
      expect(boolAttr(lease, session, k, pkcs11js.CKA_TOKEN)).toBe(true);
      expect(boolAttr(lease, session, k, pkcs11js.CKA_PRIVATE)).toBe(true);
      expect(boolAttr(lease, session, k, pkcs11js.CKA_WRAP)).toBe(true);
      expect(boolAttr(lease, session, k, pkcs11js.CKA_UNWRAP)).toBe(true);
      expect(boolAttr(lease, session, k, pkcs11js.CKA_ENCRYPT)).toBe(false);
      expect(boolAttr(lease, session, k, pkcs11js.CKA_DECRYPT)).toBe(false);
      expect(readAttribute(lease.pkcs11, session, k, pkcs11js.CKA_VALUE_LEN).readUInt32LE(0)).toBe(32);
      expect(readAttribute(lease.pkcs11, session, k, pkcs11js.CKA_ID).readUInt32BE(0)).toBe(1);
    });

    it('the master key value cannot be read (CKR_ATTRIBUTE_SENSITIVE)', () => {
      const key = findByLabel(lease.pkcs11, session, pkcs11js.CKO_SECRET_KEY, masterKeyLabel(1)) as Buffer;
      expect(() => readAttribute(lease.pkcs11, session, key, pkcs11js.CKA_VALUE)).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    });

    it('the signing private key is sensitive and non-extractable', () => {
      const key = findByLabel(lease.pkcs11, session, pkcs11js.CKO_PRIVATE_KEY, SIGNING_KEY_LABEL) as Buffer;
      expect(boolAttr(lease, session, key, pkcs11js.CKA_SENSITIVE)).toBe(true);
      expect(boolAttr(lease, session, key, pkcs11js.CKA_EXTRACTABLE)).toBe(false);
      expect(boolAttr(lease, session, key, pkcs11js.CKA_TOKEN)).toBe(true);
    });

    it('wrap and unwrap leave no session objects behind, even when the unwrap is refused', async () => {
      const hsm = await open();
      const wrapped = await hsm.wrapKey(1, randomBytes(32));
      await hsm.unwrapKey(wrapped);
      const altered = Buffer.from(wrapped.wrapped);
      altered[0] ^= 1;
      expect(await rejectionCode(hsm.unwrapKey({ ...wrapped, wrapped: altered }))).toBe('MASTER_KEY_MISMATCH');
      expect(findObjects(lease.pkcs11, session, [{ type: pkcs11js.CKA_TOKEN, value: false }])).toHaveLength(0);
      await hsm.close();
    });

    it('CKM_AES_KEY_WRAP_PAD in SoftHSM2 gives the same bytes as node\'s id-aes256-wrap-pad (RFC 5649)', () => {
      const { pkcs11 } = lease;
      const aes = pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_WRAP, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: false },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
      ]);
      // A multiple of 8: for other lengths SoftHSM2 zero-pads the key before
      // wrapping (see hsm/hsm-arguments.ts), which the port refuses anyway.
      const plain = randomBytes(24);
      const secret = pkcs11.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: false },
        { type: pkcs11js.CKA_VALUE, value: plain },
      ]);
      try {
        const byToken = pkcs11.C_WrapKey(session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, aes, secret, Buffer.alloc(64));
        const aesValue = readAttribute(pkcs11, session, aes, pkcs11js.CKA_VALUE);
        const cipher = createCipheriv('id-aes256-wrap-pad', aesValue, Buffer.from('A65959A6', 'hex'));
        expect(Buffer.concat([cipher.update(plain), cipher.final()]).equals(byToken)).toBe(true);
      } finally {
        pkcs11.C_DestroyObject(session, secret);
        pkcs11.C_DestroyObject(session, aes);
      }
    });
  });

  describe('sharing the process-global module', () => {
    it('two ports on the same module work, and closing one leaves the other usable', async () => {
      const first = await open();
      const second = await open();
      const third = await open({ tokenLabel: 'sr-pin' });
      if (!(await first.listMasterKeyVersions()).includes(1)) await first.generateMasterKey(1);
      const key = randomBytes(32);
      const wrapped = await first.wrapKey(1, key);
      await first.close();
      await first.close();
      expect((await second.unwrapKey(wrapped)).equals(key)).toBe(true);
      expect(await rejectionCode(first.listMasterKeyVersions())).toBe('HSM_ERROR');
      await second.close();
      expect((await third.tokenInfo()).label).toBe('sr-pin');
      await third.close();
      const again = await open();
      expect(await again.listMasterKeyVersions()).toContain(1);
      await again.close();
    });
  });
});
