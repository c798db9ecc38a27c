/**
 * A key moved from one appliance to another by wrapped export and import
 * (docs/protocol.md §6.5), each on its own SoftHSM2 token and SQLite file:
 * both appliances hold the same transport key (a KEK the custodians import
 * into each, dual-controlled, as a zone master key ceremony does); on A, a
 * key is created, used, and exported wrapped under the KEK (RFC 5649); on
 * B, that blob is imported as a new key under B's copy of the KEK. B then
 * decrypts what A encrypted, and encrypts exactly as A did (the same
 * AES-GCM ciphertext and tag for the same IV and plaintext): the same key.
 * The appliances run one after the other (SoftHSM2 reads its configuration
 * once per process, so two tokens cannot be opened side by side here); what
 * crosses between them is only what an operator carries: the wrapped blob,
 * the KCV, a ciphertext.
 */
import { randomBytes } from 'node:crypto';
import { keyCheckValue } from '../../domain/keys/key-check-value';
import { required } from '../support/approval-required';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { approveAndCollect, collected, viewOf } from '../support/byok-support';

const KEK = randomBytes(32);
const PLAINTEXT = Buffer.from('the payroll run of December');
const IV = randomBytes(12);

interface Sealed {
  ciphertext: string;
  tag: string;
  iv: string;
}

/** An appliance with an app granted everything on `byok/*`, and the KEK imported as `byok/kek`. */
async function applianceWithKek(): Promise<{ t: TestAppliance; app: RawConnection; officer: RawConnection }> {
  const t = await startTestAppliance({ clear_key_import: 'dual-control' });
  const credentials = t.issue('mover', 'app');
  const officer = await t.connect(t.officer);
  expect((await officer.request('PolicyGrant', { client: 'mover', pattern: 'byok/*', permissions: ['create', 'register', 'encrypt'] })).error).toBeUndefined();
  expect((await t.approve(await officer.request('PolicyGrant', { client: 'mover', pattern: 'byok/*', permissions: ['get', 'decrypt'] }))).state).toBe('executed');
  const app = await t.connect(credentials);
  expect((await t.approve(await app.request('Register', { name: 'byok/kek', algorithm: 'AES-256', material: KEK.toString('base64') }))).state).toBe('executed');
  return { t, app, officer };
}

async function encryptWithIv(app: RawConnection, name: string): Promise<Sealed> {
  const answer = await app.request('Encrypt', { name, plaintext: PLAINTEXT.toString('base64'), mode: 'AES-GCM', iv: IV.toString('base64') });
  expect(answer.error).toBeUndefined();
  return answer.result as Sealed;
}

describe('a key moved between two appliances by wrapped export and import', () => {
  it('decrypts on B what A encrypted, and encrypts on B exactly as A did', async () => {
    // Appliance A: the key is made and used here, then exported under the transport key.
    const a = await applianceWithKek();
    let wrapped: Buffer;
    let kcv: string;
    let sealedOnA: Sealed;
    try {
      expect((await a.app.request('Create', { name: 'byok/payroll', algorithm: 'AES-256' })).error).toBeUndefined();
      sealedOnA = await encryptWithIv(a.app, 'byok/payroll');
      const exported = collected(await approveAndCollect(a.t, a.app, await a.app.request('Export', { name: 'byok/payroll', wrapMethod: 'AES-KWP', wrapKey: 'byok/kek' })));
      wrapped = exported.wrapped;
      kcv = exported.kcv;
    } finally {
      await a.t.stop();
    }

    // Appliance B: another token, another file; only the blob, the KCV and a ciphertext came over.
    const b = await applianceWithKek();
    try {
      const asked = await b.app.request('Register', { name: 'byok/payroll', algorithm: 'AES-256', material: wrapped.toString('base64'), unwrapKey: 'byok/kek' });
      // B's approvers compare the KCV the exporting side's result gave them with the one B unwrapped.
      expect((await viewOf(b.officer, required(asked).requestId)).args).toMatchObject({ kcv, kcvKind: 'AES-CMAC', unwrappedBy: { key: 'byok/kek' } });
      expect((await b.t.approve(asked)).state).toBe('executed');

      const decrypted = await b.app.request('Decrypt', { name: 'byok/payroll', mode: 'AES-GCM', ciphertext: sealedOnA.ciphertext, tag: sealedOnA.tag, iv: IV.toString('base64') });
      expect(decrypted.error).toBeUndefined();
      expect(Buffer.from((decrypted.result as { plaintext: string }).plaintext, 'base64')).toEqual(PLAINTEXT);

      const sealedOnB = await encryptWithIv(b.app, 'byok/payroll');
      expect({ ciphertext: sealedOnB.ciphertext, tag: sealedOnB.tag }).toEqual({ ciphertext: sealedOnA.ciphertext, tag: sealedOnA.tag });

      const got = await b.app.request('Get', { name: 'byok/payroll' });
      expect(keyCheckValue('AES-256', Buffer.from((got.result as { material: string }).material, 'base64')).value).toBe(kcv);
    } finally {
      await b.t.stop();
    }
  });
});
