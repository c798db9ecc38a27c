/**
 * The TransactionalStore conformance suite (storage/transactional-store.ts
 * is the contract): transactions that span every capability of one store
 * (commit, rollback, savepoints, no async fn), the change stamp caches rely
 * on, and close(). Both backends run it through
 * keychain-store-conformance.ts.
 */
import { addKey, codeOf, instance, meta, names, pointer, rowMac, StoreFactory, T0, T1, T2, wrapped, storePerTest } from './store-fixtures';

export function describeTransactionalConformance(name: string, factory: StoreFactory): void {
  describe(`TransactionalStore conformance: ${name}`, () => {
    const store = storePerTest(factory);

    describe('transaction', () => {
      it('commits everything fn did and returns its result', () => {
        const out = store.transaction(() => {
          addKey(store, 'k1', 'hr', 'payroll');
          addKey(store, 'k2', 'hr', 'bonus');
          return 'done';
        });
        expect(out).toBe('done');
        expect(store.countKeys()).toBe(2);
      });

      it('rolls back everything when fn throws, and rethrows the same error', () => {
        store.initialize(meta(), wrapped(1));
        addKey(store, 'k1', 'hr', 'payroll');
        const boom = new Error('boom');
        expect(() =>
          store.transaction(() => {
            addKey(store, 'k2', 'hr', 'bonus');
            store.putWrappedKeychainKey(wrapped(2));
            store.addCurrentInstance(instance('k1', 2), pointer(T1), { instanceId: 'k1-i1', state: 'Deactivated', rowMac: rowMac('change'), dropMaterial: true });
            throw boom;
          }),
        ).toThrow(boom);
        expect(store.countKeys()).toBe(1);
        expect(store.getInstanceByName('n-k2-i1')).toBeNull();
        expect(store.listWrappedKeychainKeys().map((w) => w.version)).toEqual([1]);
        expect(store.getKeyById('k1')?.currentInstanceId).toBe('k1-i1');
        expect(store.getInstanceById('k1-i1')).toEqual(instance('k1', 1));
      });

      it('nests: an inner failure caught by the outer fn undoes only the inner part', () => {
        store.transaction(() => {
          addKey(store, 'k1', 'hr', 'payroll');
          expect(() =>
            store.transaction(() => {
              addKey(store, 'k2', 'hr', 'bonus');
              throw new Error('inner');
            }),
          ).toThrow('inner');
          addKey(store, 'k3', 'hr', 'pension');
        });
        expect(names(store.listKeys())).toEqual(['hr/payroll', 'hr/pension']);
      });

      it('refuses an async fn and undoes what it did synchronously', () => {
        let caught: unknown;
        try {
          store.transaction(() => {
            addKey(store, 'k1', 'hr', 'payroll');
            return Promise.resolve(1);
          });
        } catch (err) {
          caught = err;
        }
        expect((caught as Error | undefined)?.name).toBe('TypeError');
        expect(store.countKeys()).toBe(0);
      });

      it('keeps a store error\'s code when it escapes a transaction', () => {
        addKey(store, 'k1', 'hr', 'payroll');
        expect(codeOf(() => store.transaction(() => addKey(store, 'k2', 'hr', 'payroll')))).toBe('KEY_EXISTS');
        expect(store.countKeys()).toBe(1);
      });
    });

    describe('change stamp', () => {
      it('moves on every keychain write, whichever capability made it, and not on reads', () => {
        const seen = [store.changeStamp()];
        const afterWrite = (write: () => void): void => {
          write();
          const stamp = store.changeStamp();
          expect(seen).not.toContain(stamp);
          seen.push(stamp);
        };
        afterWrite(() => store.initialize(meta(), wrapped(1)));
        afterWrite(() => addKey(store, 'k1', 'hr', 'payroll'));
        afterWrite(() => store.updateInstanceState({ instanceId: 'k1-i1', state: 'Deactivated', deactivatedAt: T1, rowMac: rowMac('d') }));
        afterWrite(() => store.putAlias({ alias: 'hr/pay', keyId: 'k1', updatedAt: T1, rowMac: rowMac('al') }));
        afterWrite(() => store.putUnsealPolicy({ binding: 'hsm+shares', shares: 3, threshold: 2, createdAt: T0 }));
        afterWrite(() => store.rewrapKeychainKey(1, 2, Buffer.alloc(40, 9)));
        const stamp = store.changeStamp();
        store.getKeyById('k1');
        store.listDueKeys(T2, 10);
        store.listAliases();
        store.getMeta();
        expect(store.changeStamp()).toBe(stamp);
      });

      it('counts this store\'s own commits, without moving on reads', () => {
        const before = store.ownCommitCount();
        addKey(store, 'k1', 'hr', 'payroll');
        const afterCreate = store.ownCommitCount();
        expect(afterCreate).toBeGreaterThan(before);
        store.getKeyById('k1');
        store.listKeys();
        expect(store.ownCommitCount()).toBe(afterCreate);
      });
    });

    describe('close', () => {
      it('is idempotent and later calls fail with STORAGE_ERROR', () => {
        store.close();
        store.close();
        expect(codeOf(() => store.getMeta())).toBe('STORAGE_ERROR');
        expect(codeOf(() => store.countKeys())).toBe('STORAGE_ERROR');
        // every capability shares the one connection
        expect(codeOf(() => store.listDueKeys(T2, 1))).toBe('STORAGE_ERROR');
        expect(codeOf(() => store.listAliases())).toBe('STORAGE_ERROR');
        expect(codeOf(() => store.transaction(() => 1))).toBe('STORAGE_ERROR');
      });
    });
  });
}
