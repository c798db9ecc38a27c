/**
 * Master-key rotation on the fast fakes: a plain and a share-bound
 * keychain, HSM-sealed secrets rewrapped too, old versions kept (destroyed
 * only with destroyOld), a version left by a crashed run reused, and a failure before the
 * commit leaving the keychain as it was. SIGKILL at each step, on SoftHSM2
 * and SQLite: test/integration/crash-during-master-key-rotation.test.ts.
 */
import { ManualClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { masterKeyStatus, rotateMasterKey } from '../../domain/master-key-rotation';
import { getHsmSealedSecret, putHsmSealedSecret } from '../../domain/unseal/hsm-sealed-secrets';
import { makeShareSet } from '../../domain/unseal/split-secret';
import { decodeShare } from '../../domain/unseal/share-codec';
import { combineShares } from '../../domain/unseal/split-secret';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { rejectionCode } from '../support/error-code';

const clock = new ManualClock(new Date('2026-12-01T00:00:00Z'));

async function plainKeychain(): Promise<{ store: MemoryStore; hsm: SoftHsm; keychain: Keychain; material: Buffer }> {
  const store = new MemoryStore();
  const hsm = new SoftHsm();
  await initializeKeychain(store, hsm, clock, randomIds);
  const keychain = new Keychain({ store, clock });
  await keychain.unseal(hsm);
  keychain.createKey({ fullName: 'app/k1', algorithm: 'AES-256' });
  const material = keychain.getKey({ fullName: 'app/k1' }).material;
  await putHsmSealedSecret(store, hsm, clock, 'tls/server-key', Buffer.from('pretend PEM'));
  return { store, hsm, keychain, material };
}

async function reopens(store: MemoryStore, hsm: SoftHsm, material: Buffer, secret?: Uint8Array): Promise<boolean> {
  const fresh = new Keychain({ store, clock });
  await fresh.unseal(hsm, secret);
  const ok = fresh.getKey({ fullName: 'app/k1' }).material.equals(material);
  fresh.seal();
  return ok;
}

describe('master-key rotation', () => {
  it('rewraps every keychain key and HSM-sealed secret under v2 and keeps v1 by default (a backup or DR copy may need it)', async () => {
    const { store, hsm, material } = await plainKeychain();
    // A backup of the keychain taken before the rotation: it still names v1.
    const backup = { keys: store.listWrappedKeychainKeys(), secrets: store.listHsmSealedSecrets() };
    const result = await rotateMasterKey(store, hsm);
    expect(result).toEqual({ from: [1], to: 2, reusedVersion: false, rewrapped: { keychainKeys: 1, secrets: 1 }, destroyed: [] });
    expect(await hsm.listMasterKeyVersions()).toEqual([1, 2]);
    expect(store.listWrappedKeychainKeys().map((r) => r.masterKeyVersion)).toEqual([2]);
    expect(await reopens(store, hsm, material)).toBe(true);
    expect((await getHsmSealedSecret(store, hsm, 'tls/server-key'))?.toString()).toBe('pretend PEM');
    expect(await masterKeyStatus(store, hsm)).toMatchObject({ tokenVersions: [1, 2], current: 2, unreferenced: [1], missing: [] });
    // The pre-rotation backup still opens with the same token.
    const old = backup.keys[0];
    const unwrapped = await hsm.unwrapKey({ mechanism: 'AES_KEY_WRAP_PAD', masterKeyVersion: old.masterKeyVersion, wrapped: old.wrapped });
    expect(unwrapped).toHaveLength(32);
    unwrapped.fill(0);
    // A second rotation keeps both older versions too.
    expect((await rotateMasterKey(store, hsm)).destroyed).toEqual([]);
    expect(await hsm.listMasterKeyVersions()).toEqual([1, 2, 3]);
  });

  it('destroys the old versions this keychain no longer references only with destroyOld', async () => {
    const { store, hsm, material } = await plainKeychain();
    await rotateMasterKey(store, hsm);
    const second = await rotateMasterKey(store, hsm, { destroyOld: true });
    expect(second.destroyed).toEqual([1, 2]);
    expect(await hsm.listMasterKeyVersions()).toEqual([3]);
    expect(await reopens(store, hsm, material)).toBe(true);
    expect((await masterKeyStatus(store, hsm)).unreferenced).toEqual([]);
  });

  it('reuses the new version a crashed run generated (and leaves no unreferenced version)', async () => {
    const { store, hsm, material } = await plainKeychain();
    await hsm.generateMasterKey(2);
    const result = await rotateMasterKey(store, hsm, { destroyOld: true });
    expect(result).toMatchObject({ to: 2, reusedVersion: true, destroyed: [1] });
    expect(await reopens(store, hsm, material)).toBe(true);
  });

  it('keeps the share binding: the same shares unseal after rotation, the HSM alone still cannot', async () => {
    const store = new MemoryStore();
    const hsm = new SoftHsm();
    const set = await makeShareSet(3, 2);
    await initializeKeychain(store, hsm, clock, randomIds, { secret: set.secret, shares: 3, threshold: 2 });
    const keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm, set.secret);
    keychain.createKey({ fullName: 'app/k1', algorithm: 'AES-256' });
    const material = keychain.getKey({ fullName: 'app/k1' }).material;
    keychain.seal();
    await rotateMasterKey(store, hsm);
    const secret = await combineShares([decodeShare(set.shares[2]).bytes, decodeShare(set.shares[0]).bytes], 2);
    expect(await reopens(store, hsm, material, secret)).toBe(true);
    expect(await rejectionCode(new Keychain({ store, clock }).unseal(hsm))).toBe('UNSEAL_SHARES_REQUIRED');
  });

  it('an HSM failure before the commit changes nothing the keychain uses (MASTER_KEY_ROTATION_FAILED), and a rerun completes', async () => {
    const { store, hsm, material } = await plainKeychain();
    const before = store.listWrappedKeychainKeys();
    let calls = 0;
    const failing = rotateMasterKey(store, hsm, {
      at: (step) => {
        if (step === 'after-generate' && calls++ === 0) hsm.failNext('HSM_ERROR');
      },
    });
    expect(await rejectionCode(failing)).toBe('MASTER_KEY_ROTATION_FAILED');
    expect(store.listWrappedKeychainKeys()).toEqual(before);
    expect(await reopens(store, hsm, material)).toBe(true);
    expect(await rotateMasterKey(store, hsm)).toMatchObject({ to: 2, reusedVersion: true });
    expect(await reopens(store, hsm, material)).toBe(true);
  });

  it('a failure inside the transaction rolls every row back', async () => {
    const { store, hsm, material } = await plainKeychain();
    const before = { keys: store.listWrappedKeychainKeys(), secrets: store.listHsmSealedSecrets() };
    const failing = rotateMasterKey(store, hsm, {
      at: (step) => {
        if (step === 'mid-transaction') throw new Error('power cut');
      },
    });
    expect(await rejectionCode(failing)).toBe('MASTER_KEY_ROTATION_FAILED');
    expect({ keys: store.listWrappedKeychainKeys(), secrets: store.listHsmSealedSecrets() }).toEqual(before);
    expect(await hsm.listMasterKeyVersions()).toEqual([1, 2]);
    expect(await reopens(store, hsm, material)).toBe(true);
  });

  it('reports a referenced version missing from the token', async () => {
    const { store, hsm } = await plainKeychain();
    hsm.deleteMasterKey(1);
    expect(await masterKeyStatus(store, hsm)).toMatchObject({ missing: [1] });
    expect(await rejectionCode(rotateMasterKey(store, hsm))).toBe('MASTER_KEY_ROTATION_FAILED');
  });
});
