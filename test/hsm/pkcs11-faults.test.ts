/**
 * Token faults the real SoftHSM2 cannot be made to produce, injected through
 * the pkcs11js binding (the `pkcs11Factory` seam) on top of a real token:
 * which return values of C_UnwrapKey mean "wrong master key" and which mean
 * "broken token", a C_Sign that fails and must not leave the session stuck,
 * and another process creating the same master key at the same moment.
 *
 * The factory is used only when the module is loaded, so every port here is
 * opened while no other port or lease of the module is alive, and closed
 * before the next test.
 */
import { createHash, randomBytes, verify } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import type { HsmPort } from '../../hsm/hsm-port';
import { masterKeyLabel } from '../../hsm/hsm-port';
import { SOFTHSM_MANUFACTURER } from '../../hsm/pkcs11-errors';
import { openPkcs11Hsm } from '../../hsm/pkcs11-hsm';
import { masterKeyTemplate } from '../../hsm/pkcs11-objects';
import { rejectionCode } from '../support/error-code';
import { makeSoftHsmFixture, SoftHsmFixture, useSoftHsmConf } from '../support/softhsm-fixture';

type Patch = (pkcs11: pkcs11js.PKCS11) => void;

function ckr(name: keyof typeof pkcs11js & string, method: string): pkcs11js.Pkcs11Error {
  return new pkcs11js.Pkcs11Error(name, pkcs11js[name] as number, method);
}

/** A binding whose C_UnwrapKeyAsync always fails with `name`. */
function unwrapFails(name: keyof typeof pkcs11js & string): Patch {
  return (pkcs11) => {
    pkcs11.C_UnwrapKeyAsync = async () => {
      throw ckr(name, 'C_UnwrapKey');
    };
  };
}

/** A binding whose token reports another manufacturer than SoftHSM2. */
const otherVendor: Patch = (pkcs11) => {
  const info = pkcs11.C_GetTokenInfo.bind(pkcs11);
  pkcs11.C_GetTokenInfo = (slot: Buffer) => ({ ...info(slot), manufacturerID: 'Other HSM Vendor'.padEnd(32) });
};

describe('Pkcs11Hsm under injected token faults', () => {
  let fixture: SoftHsmFixture;

  beforeAll(async () => {
    fixture = await makeSoftHsmFixture('sr-faults');
    const hsm = await fixture.open();
    await hsm.generateMasterKey(1);
    await hsm.ensureSigningKey();
    await hsm.close(); // the module must be unloaded for withPort's factory to be used
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  async function withPort<T>(patches: Patch[], body: (hsm: HsmPort) => Promise<T>): Promise<T> {
    useSoftHsmConf(fixture.softhsmConf);
    const factory = () => {
      const pkcs11 = new pkcs11js.PKCS11();
      for (const patch of patches) patch(pkcs11);
      return pkcs11;
    };
    const pin = Buffer.from(fixture.userPin);
    const hsm = await openPkcs11Hsm({ modulePath: fixture.modulePath, tokenLabel: fixture.label, pin }, { pkcs11Factory: factory });
    try {
      return await body(hsm);
    } finally {
      await hsm.close();
    }
  }

  it('SoftHSM2 reports the manufacturer whose CKR_GENERAL_ERROR quirk is recognised', async () => {
    expect(await withPort([], async (hsm) => (await hsm.tokenInfo()).manufacturer)).toBe(SOFTHSM_MANUFACTURER);
  });

  describe('C_UnwrapKey return values', () => {
    const wrapped = { mechanism: 'AES_KEY_WRAP_PAD' as const, masterKeyVersion: 1, wrapped: randomBytes(40) };

    const vendors: Record<string, Patch[]> = { SoftHSM2: [], 'another vendor': [otherVendor] };

    it.each([
      ['CKR_FUNCTION_FAILED', 'SoftHSM2', 'HSM_ERROR'],
      ['CKR_FUNCTION_FAILED', 'another vendor', 'HSM_ERROR'],
      ['CKR_DEVICE_ERROR', 'SoftHSM2', 'HSM_ERROR'],
      ['CKR_GENERAL_ERROR', 'another vendor', 'HSM_ERROR'],
      ['CKR_GENERAL_ERROR', 'SoftHSM2', 'MASTER_KEY_MISMATCH'],
      ['CKR_WRAPPED_KEY_INVALID', 'another vendor', 'MASTER_KEY_MISMATCH'],
      ['CKR_WRAPPED_KEY_LEN_RANGE', 'another vendor', 'MASTER_KEY_MISMATCH'],
      ['CKR_ENCRYPTED_DATA_INVALID', 'another vendor', 'MASTER_KEY_MISMATCH'],
      ['CKR_ENCRYPTED_DATA_LEN_RANGE', 'another vendor', 'MASTER_KEY_MISMATCH'],
    ] as const)('%s from a token of %s is %s', async (name, vendor, code) => {
      const patches: Patch[] = [...vendors[vendor], unwrapFails(name)];
      expect(await withPort(patches, (hsm) => rejectionCode(hsm.unwrapKey(wrapped)))).toBe(code);
    });

    it('a token fault keeps the CKR name in details', async () => {
      const err = await withPort([unwrapFails('CKR_FUNCTION_FAILED')], (hsm) => hsm.unwrapKey(wrapped).then(() => null, (e: unknown) => e));
      expect(err).toMatchObject({ code: 'HSM_ERROR', details: { ckr: 'CKR_FUNCTION_FAILED' } });
    });
  });

  describe('a failed C_Sign', () => {
    const data = Buffer.from('backup manifest');
    const digest = createHash('sha256').update(data).digest();

    /**
     * The first C_Sign fails with `name` WITHOUT reaching the token, so the
     * operation C_SignInit started stays active on the real session, as a
     * token does for CKR_BUFFER_TOO_SMALL or one that breaks the rule.
     */
    function signFailsOnce(name: keyof typeof pkcs11js & string): Patch {
      return (pkcs11) => {
        const sign = pkcs11.C_SignAsync.bind(pkcs11);
        let failed = false;
        pkcs11.C_SignAsync = async (session: Buffer, inData: Buffer, outData: Buffer) => {
          if (failed) return sign(session, inData, outData);
          failed = true;
          throw ckr(name, 'C_Sign');
        };
      };
    }

    it.each(['CKR_BUFFER_TOO_SMALL', 'CKR_DEVICE_ERROR'] as const)(
      'after %s, later signs still work (no CKR_OPERATION_ACTIVE)',
      async (name) => {
        const results = await withPort([signFailsOnce(name)], async (hsm) => {
          const pem = await hsm.signingPublicKey();
          const first = await rejectionCode(hsm.signDigest(digest));
          const later: boolean[] = [];
          for (let i = 0; i < 3; i += 1) later.push(verify('sha256', data, { key: pem, dsaEncoding: 'ieee-p1363' }, await hsm.signDigest(digest)));
          // the port's other calls use the new session too
          const key = randomBytes(32);
          const roundTrip = (await hsm.unwrapKey(await hsm.wrapKey(1, key))).equals(key);
          return { first, later, roundTrip };
        });
        expect(results).toEqual({ first: 'HSM_ERROR', later: [true, true, true], roundTrip: true });
      },
    );

    it('gives the token room for more than a P-256 signature', async () => {
      const sizes: number[] = [];
      const spy: Patch = (pkcs11) => {
        const sign = pkcs11.C_SignAsync.bind(pkcs11);
        pkcs11.C_SignAsync = async (session: Buffer, inData: Buffer, outData: Buffer) => {
          sizes.push(outData.length);
          return sign(session, inData, outData);
        };
      };
      const signature = await withPort([spy], (hsm) => hsm.signDigest(digest));
      expect(signature).toHaveLength(64);
      expect(sizes[0]).toBeGreaterThan(64);
    });
  });

  it('when another process creates the same master key meanwhile, destroys its own and fails HSM_ERROR', async () => {
    const race: Patch = (pkcs11) => {
      const generate = pkcs11.C_GenerateKeyAsync.bind(pkcs11);
      pkcs11.C_GenerateKeyAsync = async (session: Buffer, mechanism: pkcs11js.Mechanism, template: pkcs11js.Template) => {
        // the "other process": same label, generated between our check and our generation
        pkcs11.C_GenerateKey(session, mechanism, masterKeyTemplate(2));
        return generate(session, mechanism, template);
      };
    };
    const outcome = await withPort([race], async (hsm) => {
      const err = await hsm.generateMasterKey(2).then(() => null, (e: unknown) => e);
      const key = randomBytes(32);
      const survivorWorks = (await hsm.unwrapKey(await hsm.wrapKey(2, key))).equals(key);
      return { err, survivorWorks };
    });
    expect(outcome.err).toMatchObject({ code: 'HSM_ERROR', details: { label: masterKeyLabel(2), reason: 'concurrent-create' } });
    // exactly one v2 is left (a duplicate would make wrapKey refuse), and it is the other process's
    expect(outcome.survivorWorks).toBe(true);
  });
});
