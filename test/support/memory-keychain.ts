/**
 * A keychain on a memory store and the in-process fake HSM, initialised and
 * unsealed: the set-up of unit tests that drive the Keychain and the
 * services over it, written once.
 */
import { Clock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';

export interface MemoryKeychain {
  readonly hsm: SoftHsm;
  readonly store: MemoryStore;
  readonly keychain: Keychain;
}

export async function unsealedMemoryKeychain(clock: Clock): Promise<MemoryKeychain> {
  const hsm = new SoftHsm();
  const store = new MemoryStore();
  await initializeKeychain(store, hsm, clock, randomIds);
  const keychain = new Keychain({ store, clock });
  await keychain.unseal(hsm);
  return { hsm, store, keychain };
}
