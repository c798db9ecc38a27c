/**
 * A master key imported on purpose (hsm_imported_master_keys; docs/backup.md
 * §6) on a REAL SoftHSM2 token: written with known bytes through a raw
 * session, as pkcs11-tool --write-object does, so CKA_ALWAYS_SENSITIVE and
 * CKA_NEVER_EXTRACTABLE are false. A port that names its version uses it
 * (and wraps under exactly those bytes); a port that does not still refuses
 * it; and naming a version relaxes nothing else.
 */
import { createDecipheriv, randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import type { HsmPort } from '../../hsm/hsm-port';
import { masterKeyLabel } from '../../hsm/hsm-port';
import { openPkcs11Hsm } from '../../hsm/pkcs11-hsm';
import { acquireModule, ModuleLease } from '../../hsm/pkcs11-module';
import { masterKeyId } from '../../hsm/pkcs11-objects';
import { closeRawSession, makeSoftHsmFixture, rawSession, SoftHsmFixture, useSoftHsmConf } from '../support/softhsm-fixture';

async function failure(work: Promise<unknown>): Promise<{ code?: string; details?: Record<string, unknown> }> {
  return work.then(
    () => ({ code: 'NO_ERROR' }),
    (err: { code?: string; details?: Record<string, unknown> }) => ({ code: err.code, details: err.details }),
  );
}

/** RFC 5649 unwrap in Node: what the token's CKM_AES_KEY_WRAP_PAD under `kek` must open. */
function kwpUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const decipher = createDecipheriv('id-aes256-wrap-pad', kek, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
}

describe('a master key imported on purpose (hsm_imported_master_keys)', () => {
  let fixture: SoftHsmFixture;
  let lease: ModuleLease;
  let raw: { slot: Buffer; session: Buffer };
  let strict: HsmPort;
  let accepting: HsmPort;
  const known = randomBytes(32);

  function importAes(version: number, overrides: pkcs11js.Template = []): void {
    const base: pkcs11js.Template = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_WRAP, value: true },
      { type: pkcs11js.CKA_UNWRAP, value: true },
      { type: pkcs11js.CKA_VALUE, value: known },
      { type: pkcs11js.CKA_LABEL, value: masterKeyLabel(version) },
      { type: pkcs11js.CKA_ID, value: masterKeyId(version) },
    ];
    const types = new Set(overrides.map((a) => a.type));
    lease.pkcs11.C_CreateObject(raw.session, [...base.filter((a) => !types.has(a.type)), ...overrides]);
  }

  beforeAll(async () => {
    fixture = await makeSoftHsmFixture('sr-imported');
    useSoftHsmConf(fixture.softhsmConf);
    lease = acquireModule(fixture.modulePath);
    raw = rawSession(lease, fixture.label, fixture.userPin);
    importAes(1);
    importAes(2, [{ type: pkcs11js.CKA_EXTRACTABLE, value: true }]);
    importAes(3, [{ type: pkcs11js.CKA_SENSITIVE, value: false }]);
    importAes(4);
    strict = await fixture.open();
    accepting = await openPkcs11Hsm({ modulePath: fixture.modulePath, tokenLabel: fixture.label, pin: Buffer.from(fixture.userPin), importedMasterKeyVersions: [1, 2, 3] });
  });

  afterAll(async () => {
    await accepting?.close();
    if (lease !== undefined) {
      if (raw !== undefined) closeRawSession(lease, raw);
      lease.release();
    }
    await fixture?.cleanup();
  });

  it('is used when its version is named, and wraps under exactly the imported bytes', async () => {
    const keychainKey = randomBytes(32);
    const wrapped = await accepting.wrapKey(1, keychainKey);
    expect(kwpUnwrap(known, wrapped.wrapped).equals(keychainKey)).toBe(true);
    expect((await accepting.unwrapKey(wrapped)).equals(keychainKey)).toBe(true);
  });

  it('is refused by a port that does not name it (the default): not generated in the token', async () => {
    expect(await failure(strict.wrapKey(1, randomBytes(32)))).toEqual({
      code: 'HSM_ERROR', details: { label: masterKeyLabel(1), reason: 'not-always-sensitive' },
    });
  });

  it('relaxes only "generated here": a named version that is extractable or not sensitive is still refused', async () => {
    expect((await failure(accepting.wrapKey(2, randomBytes(32)))).details).toEqual({ label: masterKeyLabel(2), reason: 'extractable' });
    expect((await failure(accepting.wrapKey(3, randomBytes(32)))).details).toEqual({ label: masterKeyLabel(3), reason: 'not-sensitive' });
  });

  it('relaxes only the named versions: an imported v4 is refused by the port that names 1, 2 and 3', async () => {
    expect((await failure(accepting.wrapKey(4, randomBytes(32)))).details).toEqual({ label: masterKeyLabel(4), reason: 'not-always-sensitive' });
  });
});
