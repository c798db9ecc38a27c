/**
 * The KeychainRootStore conformance suite (storage/keychain-root-store.ts is
 * the contract): the meta row and the wrapped keychain keys written at init,
 * and what the keychain keeps for split-knowledge unsealing and master-key
 * rotation: the unseal policy, HSM-sealed secrets, and the rewrapping of
 * keychain keys and secrets, which rotation does in one transaction (all or
 * nothing). Both backends run it through keychain-store-conformance.ts.
 */
import type { HsmSealedSecretRecord } from '../../storage/records';
import { codeOf, meta, StoreFactory, T0, wrapped, storePerTest } from './store-fixtures';

function secret(name: string, overrides: Partial<HsmSealedSecretRecord> = {}): HsmSealedSecretRecord {
  return { name, masterKeyVersion: 1, mechanism: 'AES_KEY_WRAP_PAD', wrappedKey: Buffer.alloc(40, 1), sealed: Buffer.alloc(60, 2), createdAt: T0, ...overrides };
}

export function describeKeychainRootConformance(name: string, factory: StoreFactory): void {
  describe(`KeychainRootStore conformance: ${name}`, () => {
    const store = storePerTest(factory);

    describe('keychain meta and wrapped keychain keys', () => {
      it('has no meta before initialize, then returns it', () => {
        expect(store.getMeta()).toBeNull();
        store.initialize(meta(), wrapped(1));
        expect(store.getMeta()).toEqual(meta());
        expect(store.listWrappedKeychainKeys()).toEqual([wrapped(1)]);
      });

      it('refuses a second initialize and keeps the first', () => {
        store.initialize(meta(), wrapped(1));
        expect(codeOf(() => store.initialize(meta({ keychainId: 'kc-2' }), wrapped(2)))).toBe('KEYCHAIN_ALREADY_INITIALIZED');
        expect(store.getMeta()?.keychainId).toBe('kc-1');
        expect(store.listWrappedKeychainKeys().map((w) => w.version)).toEqual([1]);
      });

      it('lists wrapped keychain keys ascending by version', () => {
        store.initialize(meta(), wrapped(1));
        store.putWrappedKeychainKey(wrapped(3));
        store.putWrappedKeychainKey(wrapped(2));
        expect(store.listWrappedKeychainKeys()).toEqual([wrapped(1), wrapped(2), wrapped(3)]);
      });

      it('refuses a wrapped keychain key version that exists', () => {
        store.initialize(meta(), wrapped(1));
        expect(codeOf(() => store.putWrappedKeychainKey(wrapped(1, { mechanism: 'other' })))).toBe('STORAGE_ERROR');
        expect(store.listWrappedKeychainKeys()).toEqual([wrapped(1)]);
      });

      it('returns copies: mutating a returned wrapped keychain key changes nothing stored', () => {
        store.initialize(meta(), wrapped(1));
        store.listWrappedKeychainKeys()[0].wrapped.fill(0);
        expect(store.listWrappedKeychainKeys()[0].wrapped).toEqual(wrapped(1).wrapped);
      });
    });

    describe('unseal policy, HSM-sealed secrets and rotation', () => {
      beforeEach(() => {
        store.initialize(meta(), wrapped(1));
      });

      it('has no unseal policy until one is put, and keeps the one put', () => {
        expect(store.getUnsealPolicy()).toBeNull();
        store.putUnsealPolicy({ binding: 'hsm+shares', shares: 5, threshold: 3, createdAt: T0 });
        expect(store.getUnsealPolicy()).toEqual({ binding: 'hsm+shares', shares: 5, threshold: 3, createdAt: T0 });
      });

      it('refuses a second unseal policy (KEYCHAIN_ALREADY_INITIALIZED) and keeps the first', () => {
        store.putUnsealPolicy({ binding: 'hsm+shares', shares: 3, threshold: 2, createdAt: T0 });
        expect(codeOf(() => store.putUnsealPolicy({ binding: 'hsm+shares', shares: 2, threshold: 2, createdAt: T0 }))).toBe('KEYCHAIN_ALREADY_INITIALIZED');
        expect(store.getUnsealPolicy()?.shares).toBe(3);
      });

      it('refuses a threshold above the share count (STORAGE_ERROR)', () => {
        expect(codeOf(() => store.putUnsealPolicy({ binding: 'hsm+shares', shares: 2, threshold: 3, createdAt: T0 }))).toBe('STORAGE_ERROR');
        expect(store.getUnsealPolicy()).toBeNull();
      });

      it('rewraps a keychain key version in place', () => {
        store.rewrapKeychainKey(1, 2, Buffer.alloc(40, 9));
        expect(store.listWrappedKeychainKeys()).toEqual([{ ...wrapped(1), masterKeyVersion: 2, wrapped: Buffer.alloc(40, 9) }]);
      });

      it('refuses to rewrap a keychain key version that does not exist (STORAGE_ERROR)', () => {
        expect(codeOf(() => store.rewrapKeychainKey(7, 2, Buffer.alloc(40, 9)))).toBe('STORAGE_ERROR');
      });

      it('puts, replaces, lists and rewraps HSM-sealed secrets', () => {
        expect(store.getHsmSealedSecret('b')).toBeNull();
        store.putHsmSealedSecret(secret('b'));
        store.putHsmSealedSecret(secret('a'));
        store.putHsmSealedSecret(secret('b', { sealed: Buffer.alloc(60, 3) }));
        expect(store.listHsmSealedSecrets().map((s) => s.name)).toEqual(['a', 'b']);
        expect(store.getHsmSealedSecret('b')?.sealed).toEqual(Buffer.alloc(60, 3));
        store.rewrapHsmSealedSecret('a', 2, Buffer.alloc(40, 7));
        expect(store.getHsmSealedSecret('a')).toEqual({ ...secret('a'), masterKeyVersion: 2, wrappedKey: Buffer.alloc(40, 7) });
        expect(codeOf(() => store.rewrapHsmSealedSecret('zz', 2, Buffer.alloc(40, 7)))).toBe('STORAGE_ERROR');
      });

      it('returns copies: mutating a returned secret changes nothing stored', () => {
        store.putHsmSealedSecret(secret('a'));
        store.getHsmSealedSecret('a')?.wrappedKey.fill(0);
        store.listHsmSealedSecrets()[0].sealed.fill(0);
        expect(store.getHsmSealedSecret('a')).toEqual(secret('a'));
      });

      it('undoes every rewrap of a transaction that throws (rotation is all or nothing)', () => {
        store.putHsmSealedSecret(secret('a'));
        expect(() =>
          store.transaction(() => {
            store.rewrapKeychainKey(1, 2, Buffer.alloc(40, 9));
            store.rewrapHsmSealedSecret('a', 2, Buffer.alloc(40, 7));
            throw new Error('killed mid-rotation');
          }),
        ).toThrow('killed mid-rotation');
        expect(store.listWrappedKeychainKeys()).toEqual([wrapped(1)]);
        expect(store.getHsmSealedSecret('a')).toEqual(secret('a'));
      });
    });
  });
}
