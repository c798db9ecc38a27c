/**
 * The conformance suite every KeychainStore runs (storage/keychain-store.ts is
 * the contract). Each implementation's test file is a few lines calling
 * describeStoreConformance with a factory for a fresh, empty store.
 */
import { KeychainStore } from '../../storage/keychain-store';
import { codeOf, instance, key, material, meta, T1, T2, wrapped, pointer, rowMac } from './store-fixtures';

export function describeStoreConformance(name: string, factory: () => { store: KeychainStore; cleanup(): void }): void {
  describe(`KeychainStore conformance: ${name}`, () => {
    let store: KeychainStore;
    let cleanup: () => void;

    beforeEach(() => {
      ({ store, cleanup } = factory());
    });
    afterEach(() => {
      store.close();
      cleanup();
    });

    /** A key with its first instance. */
    function addKey(id: string, namespace: string, keyName: string, algorithm = 'AES-256'): void {
      store.createKey(key(id, namespace, keyName, { algorithm }), instance(id, 1));
    }

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
    });

    describe('keys and instances', () => {
      it('round-trips every field of a key and its first instance', () => {
        const k = key('k1', 'hr', 'payroll', { cryptoperiod: null, rolloverPolicy: 'manual', customAttributes: {} });
        const i = instance('k1', 1, { activatedAt: null, state: 'PreActive' });
        store.createKey(k, i);
        expect(store.getKeyById('k1')).toEqual(k);
        expect(store.getKeyByName('hr', 'payroll')).toEqual(k);
        expect(store.getInstanceById(i.id)).toEqual(i);
        expect(store.getInstanceByName(i.name)).toEqual(i);
        expect(Buffer.isBuffer(store.getInstanceById(i.id)?.sealedMaterial)).toBe(true);
        expect(store.getKeyById('k1')?.customAttributes).toEqual({});
        store.createKey(key('k2', 'hr', 'bonus'), instance('k2', 1));
        expect(store.getKeyById('k2')?.customAttributes).toEqual({ team: 'payments', 'x-cost-centre': '42' });
      });

      it('returns null for absent keys and instances', () => {
        expect(store.getKeyById('nope')).toBeNull();
        expect(store.getKeyByName('hr', 'nope')).toBeNull();
        expect(store.getInstanceById('nope')).toBeNull();
        expect(store.getInstanceByName('nope')).toBeNull();
        expect(store.listInstances('nope')).toEqual([]);
      });

      it('refuses a duplicate (namespace, name) with KEY_EXISTS and writes nothing', () => {
        addKey('k1', 'hr', 'payroll');
        const clash = key('k2', 'hr', 'payroll');
        expect(codeOf(() => store.createKey(clash, instance('k2', 1)))).toBe('KEY_EXISTS');
        expect(store.getKeyById('k2')).toBeNull();
        expect(store.getInstanceById('k2-i1')).toBeNull();
        expect(store.getInstanceByName('n-k2-i1')).toBeNull();
        expect(store.countKeys()).toBe(1);
      });

      it('allows the same name in another namespace', () => {
        addKey('k1', 'hr', 'payroll');
        addKey('k2', 'finance', 'payroll');
        expect(store.getKeyByName('finance', 'payroll')?.id).toBe('k2');
        expect(store.getKeyByName('hr', 'payroll')?.id).toBe('k1');
      });

      it('writes nothing when the first instance clashes (duplicate instance name)', () => {
        addKey('k1', 'hr', 'payroll');
        const clash = instance('k2', 1, { name: 'n-k1-i1' });
        expect(codeOf(() => store.createKey(key('k2', 'hr', 'bonus'), clash))).toBe('STORAGE_ERROR');
        expect(store.getKeyById('k2')).toBeNull();
        expect(store.getKeyByName('hr', 'bonus')).toBeNull();
        expect(store.countKeys()).toBe(1);
      });

      it('refuses a key whose current instance does not exist, writing nothing', () => {
        const k = key('k1', 'hr', 'payroll', { currentInstanceId: 'elsewhere' });
        expect(codeOf(() => store.createKey(k, instance('k1', 1)))).toBe('STORAGE_ERROR');
        expect(store.getKeyById('k1')).toBeNull();
        expect(store.getInstanceById('k1-i1')).toBeNull();
      });

      it('refuses an instance of a key that does not exist', () => {
        expect(codeOf(() => store.addCurrentInstance(instance('ghost', 2), pointer(T1)))).toBe('STORAGE_ERROR');
        expect(store.getInstanceById('ghost-i2')).toBeNull();
      });
    });

    describe('addCurrentInstance', () => {
      beforeEach(() => addKey('k1', 'hr', 'payroll'));

      it('inserts the instance, moves the current pointer and applies previousChange together', () => {
        store.addCurrentInstance(instance('k1', 2, { createdAt: T1 }), pointer(T1), {
          instanceId: 'k1-i1',
          state: 'Deactivated',
          deactivatedAt: T1,
          rowMac: rowMac('previous'),
        });
        const k = store.getKeyById('k1');
        expect(k?.currentInstanceId).toBe('k1-i2');
        expect(k?.updatedAt).toBe(T1);
        expect(k?.rowMac).toEqual(pointer(T1).rowMac);
        const old = store.getInstanceById('k1-i1');
        expect(old?.state).toBe('Deactivated');
        expect(old?.rowMac).toEqual(rowMac('previous'));
        expect(old?.deactivatedAt).toBe(T1);
        expect(old?.activatedAt).toBe(instance('k1', 1).activatedAt); // untouched when absent
        expect(old?.sealedMaterial).toEqual(material('k1-i1'));
        expect(store.getInstanceById('k1-i2')).toEqual(instance('k1', 2, { createdAt: T1 }));
      });

      it('refuses a version that is taken and changes nothing', () => {
        const before = { key: store.getKeyById('k1'), inst: store.getInstanceById('k1-i1') };
        const clash = instance('k1', 1, { id: 'k1-other', name: 'n-other' });
        const change = { instanceId: 'k1-i1', state: 'Deactivated', rowMac: rowMac('change'), deactivatedAt: T1 };
        expect(codeOf(() => store.addCurrentInstance(clash, pointer(T1), change))).toBe('STORAGE_ERROR');
        expect(store.getKeyById('k1')).toEqual(before.key);
        expect(store.getInstanceById('k1-i1')).toEqual(before.inst);
        expect(store.getInstanceById('k1-other')).toBeNull();
        expect(store.listInstances('k1')).toHaveLength(1);
      });

      it('rolls everything back when previousChange names no instance', () => {
        const change = { instanceId: 'missing', state: 'Deactivated', rowMac: rowMac('change') };
        expect(codeOf(() => store.addCurrentInstance(instance('k1', 2), pointer(T1), change))).toBe('INSTANCE_NOT_FOUND');
        expect(store.getInstanceById('k1-i2')).toBeNull();
        expect(store.getKeyById('k1')?.currentInstanceId).toBe('k1-i1');
      });

      it('lists instances ascending by version', () => {
        store.addCurrentInstance(instance('k1', 3), pointer(T1));
        store.addCurrentInstance(instance('k1', 2), pointer(T2));
        expect(store.listInstances('k1').map((i) => i.version)).toEqual([1, 2, 3]);
        expect(store.listInstances('k1')[2]).toEqual(instance('k1', 3));
      });
    });

    describe('undo and scheduled destruction', () => {
      it('moves the current pointer back to an existing instance with its state changes, atomically', () => {
        store.createKey(key('a', 'ns', 'a'), instance('a', 1));
        store.addCurrentInstance(instance('a', 2), pointer(T1), { instanceId: 'a-i1', state: 'Deactivated', deactivatedAt: T1, rowMac: rowMac('d') });
        store.moveCurrentInstance('a', 'a-i1', pointer(T2), [
          { instanceId: 'a-i1', state: 'Active', deactivatedAt: null, rowMac: rowMac('back') },
          { instanceId: 'a-i2', state: 'Deactivated', deactivatedAt: T2, rowMac: rowMac('off') },
        ]);
        expect(store.getKeyById('a')?.currentInstanceId).toBe('a-i1');
        expect(store.getInstanceById('a-i1')).toMatchObject({ state: 'Active', deactivatedAt: null });
        expect(store.getInstanceById('a-i2')).toMatchObject({ state: 'Deactivated', deactivatedAt: T2 });
        expect(codeOf(() => store.moveCurrentInstance('a', 'a-i2', pointer(T2), [{ instanceId: 'nope', state: 'Active', rowMac: rowMac('x') }]))).toBe('INSTANCE_NOT_FOUND');
        expect(store.getKeyById('a')?.currentInstanceId).toBe('a-i1');
      });

      it('lists deactivated, non-current instances with material and no pending destruction, by deactivation date', () => {
        store.createKey(key('a', 'ns', 'a'), instance('a', 1));
        store.addCurrentInstance(instance('a', 2), pointer(T1), { instanceId: 'a-i1', state: 'Deactivated', deactivatedAt: T1, rowMac: rowMac('d') });
        expect(store.listRetentionExpired(T2, 10)).toEqual(['a-i1']);
        expect(store.listRetentionExpired('2024-01-01T00:00:00.000Z', 10)).toEqual([]);
        store.updateInstanceState({ instanceId: 'a-i1', state: 'Deactivated', destroyAt: T2, rowMac: rowMac('s') });
        expect(store.listRetentionExpired(T2, 10)).toEqual([]);
      });

      it('summarises namespaces and deletes one with its instances and aliases', () => {
        store.createKey(key('a', 'gone', 'a'), instance('a', 1));
        store.createKey(key('b', 'kept', 'b'), instance('b', 1));
        store.updateInstanceState({ instanceId: 'a-i1', state: 'Destroyed', dropMaterial: true, rowMac: rowMac('x') });
        store.putAlias({ alias: 'kept/alias-to-a', keyId: 'a', updatedAt: T1, rowMac: rowMac('al') });
        expect(store.listNamespaces()).toEqual([
          { namespace: 'gone', keys: 1, liveKeys: 0 },
          { namespace: 'kept', keys: 1, liveKeys: 1 },
        ]);
        expect(store.deleteNamespace('gone')).toBe(1);
        expect(store.getKeyById('a')).toBeNull();
        expect(store.getInstanceById('a-i1')).toBeNull();
        expect(store.getAlias('kept/alias-to-a')).toBeNull();
        expect(store.listNamespaces().map((n) => n.namespace)).toEqual(['kept']);
      });

      it('lists due destructions soonest first and forgets cancelled ones', () => {
        store.createKey(key('a', 'ns', 'a'), instance('a', 1));
        store.createKey(key('b', 'ns', 'b'), instance('b', 1));
        store.updateInstanceState({ instanceId: 'a-i1', state: 'Deactivated', destroyAt: T2, rowMac: rowMac('1') });
        store.updateInstanceState({ instanceId: 'b-i1', state: 'Deactivated', destroyAt: T1, rowMac: rowMac('2') });
        expect(store.listDueDestructions(T2, 10)).toEqual([{ instanceId: 'b-i1', destroyAt: T1 }, { instanceId: 'a-i1', destroyAt: T2 }]);
        store.updateInstanceState({ instanceId: 'b-i1', state: 'Deactivated', destroyAt: null, rowMac: rowMac('3') });
        expect(store.listDueDestructions(T2, 10).map((d) => d.instanceId)).toEqual(['a-i1']);
        expect(store.getInstanceById('a-i1')?.destroyAt).toBe(T2);
      });
    });

    describe('rollover schedule', () => {
      it('lists due keys soonest first, up to the limit, and follows policy updates', () => {
        store.createKey(key('a', 'ns', 'a', { nextRolloverAt: T2 }), instance('a', 1));
        store.createKey(key('b', 'ns', 'b', { nextRolloverAt: T1 }), instance('b', 1));
        store.createKey(key('c', 'ns', 'c'), instance('c', 1));
        expect(store.listDueKeys(T2, 10)).toEqual([{ keyId: 'b', nextRolloverAt: T1 }, { keyId: 'a', nextRolloverAt: T2 }]);
        expect(store.listDueKeys(T1, 10).map((d) => d.keyId)).toEqual(['b']);
        expect(store.listDueKeys(T2, 1).map((d) => d.keyId)).toEqual(['b']);
        store.updateKeyPolicy({ keyId: 'b', rolloverPolicy: 'manual', cryptoperiod: null, nextRolloverAt: null, protectPeriod: null, processPeriod: null, updatedAt: T2, rowMac: rowMac('policy') });
        expect(store.listDueKeys(T2, 10).map((d) => d.keyId)).toEqual(['a']);
        expect(store.getKeyById('b')).toMatchObject({ rolloverPolicy: 'manual', cryptoperiod: null, nextRolloverAt: null, updatedAt: T2 });
        expect(store.getKeyById('b')?.rowMac).toEqual(rowMac('policy'));
        expect(codeOf(() => store.updateKeyPolicy({ keyId: 'zz', rolloverPolicy: 'manual', cryptoperiod: null, nextRolloverAt: null, protectPeriod: null, processPeriod: null, updatedAt: T2, rowMac: rowMac('p') }))).toBe('KEY_NOT_FOUND');
      });

      it('moves the next rollover with the current pointer when asked, and keeps it otherwise', () => {
        store.createKey(key('a', 'ns', 'a', { nextRolloverAt: T1 }), instance('a', 1));
        store.addCurrentInstance(instance('a', 2), { ...pointer(T1), nextRolloverAt: T2 });
        expect(store.getKeyById('a')?.nextRolloverAt).toBe(T2);
        store.addCurrentInstance(instance('a', 3), pointer(T2));
        expect(store.getKeyById('a')?.nextRolloverAt).toBe(T2);
      });
    });

    describe('listKeys and countKeys', () => {
      beforeEach(() => {
        addKey('k1', 'hr', 'payroll');
        addKey('k2', 'hr', 'bonus', 'RSA-2048');
        addKey('k3', 'finance', 'payments');
        addKey('k4', 'finance', 'ledger', 'RSA-2048');
        addKey('k5', 'ops', 'tls?[1]');
      });

      it('lists all keys ordered by namespace then name', () => {
        expect(names(store.listKeys())).toEqual(['finance/ledger', 'finance/payments', 'hr/bonus', 'hr/payroll', 'ops/tls?[1]']);
        expect(store.countKeys()).toBe(5);
      });

      it('filters by namespace, glob and algorithm, alone and together', () => {
        expect(names(store.listKeys({ namespace: 'hr' }))).toEqual(['hr/bonus', 'hr/payroll']);
        expect(names(store.listKeys({ namePattern: 'hr/*' }))).toEqual(['hr/bonus', 'hr/payroll']);
        expect(names(store.listKeys({ namePattern: '*pay*' }))).toEqual(['finance/payments', 'hr/payroll']);
        expect(names(store.listKeys({ algorithm: 'RSA-2048' }))).toEqual(['finance/ledger', 'hr/bonus']);
        expect(names(store.listKeys({ namespace: 'hr', namePattern: '*pay*' }))).toEqual(['hr/payroll']);
        expect(names(store.listKeys({ namePattern: 'hr/payroll' }))).toEqual(['hr/payroll']);
        expect(store.listKeys({ namePattern: 'payroll' })).toEqual([]);
      });

      it('treats only * as a wildcard (?, [ ], %, _ are literal)', () => {
        expect(names(store.listKeys({ namePattern: 'ops/tls?[1]' }))).toEqual(['ops/tls?[1]']);
        expect(store.listKeys({ namePattern: 'ops/tls1[1]' })).toEqual([]);
        expect(store.listKeys({ namePattern: 'hr/?onus' })).toEqual([]);
        expect(store.listKeys({ namePattern: 'hr/%' })).toEqual([]);
        expect(store.listKeys({ namePattern: 'hr/_onus' })).toEqual([]);
        expect(store.listKeys({ namePattern: 'HR/*' })).toEqual([]);
      });

      it('pages with limit and offset', () => {
        expect(names(store.listKeys({ limit: 2 }))).toEqual(['finance/ledger', 'finance/payments']);
        expect(names(store.listKeys({ limit: 2, offset: 2 }))).toEqual(['hr/bonus', 'hr/payroll']);
        expect(names(store.listKeys({ offset: 4 }))).toEqual(['ops/tls?[1]']);
        expect(store.listKeys({ limit: 0 })).toEqual([]);
        expect(store.listKeys({ offset: 10 })).toEqual([]);
      });

      it('refuses a negative or fractional limit or offset', () => {
        expect(codeOf(() => store.listKeys({ limit: -1 }))).toBe('INVALID_ARGUMENT');
        expect(codeOf(() => store.listKeys({ offset: 1.5 }))).toBe('INVALID_ARGUMENT');
      });
    });

    describe('updateInstanceState', () => {
      beforeEach(() => addKey('k1', 'hr', 'payroll'));

      it('sets given fields, leaves absent ones, and dropMaterial nulls the material', () => {
        store.updateInstanceState({ instanceId: 'k1-i1', state: 'Destroyed', rowMac: rowMac('change'), destroyedAt: T2, activatedAt: null, dropMaterial: true });
        const i = store.getInstanceById('k1-i1');
        expect(i).toEqual(instance('k1', 1, { state: 'Destroyed', destroyedAt: T2, activatedAt: null, sealedMaterial: null, rowMac: rowMac('change') }));
      });

      it('keeps the material without dropMaterial', () => {
        store.updateInstanceState({ instanceId: 'k1-i1', state: 'Deactivated', rowMac: rowMac('change'), deactivatedAt: T1 });
        expect(store.getInstanceById('k1-i1')?.sealedMaterial).toEqual(material('k1-i1'));
      });

      it('reports INSTANCE_NOT_FOUND for an absent instance', () => {
        expect(codeOf(() => store.updateInstanceState({ instanceId: 'missing', state: 'Active', rowMac: rowMac('change') }))).toBe('INSTANCE_NOT_FOUND');
      });
    });

    describe('isolation of returned and passed buffers', () => {
      it('returns copies: mutating a result changes nothing stored', () => {
        store.initialize(meta(), wrapped(1));
        addKey('k1', 'hr', 'payroll');
        store.getInstanceById('k1-i1')?.sealedMaterial?.fill(0);
        store.listInstances('k1')[0].sealedMaterial?.fill(0);
        store.listWrappedKeychainKeys()[0].wrapped.fill(0);
        (store.getKeyById('k1')?.customAttributes as Record<string, string>).team = 'mallory';
        expect(store.getInstanceById('k1-i1')?.sealedMaterial).toEqual(material('k1-i1'));
        expect(store.listWrappedKeychainKeys()[0].wrapped).toEqual(wrapped(1).wrapped);
        expect(store.getKeyById('k1')?.customAttributes.team).toBe('payments');
      });

      it('copies on the way in: mutating the caller\'s buffer after a write changes nothing stored', () => {
        const first = instance('k1', 1);
        store.createKey(key('k1', 'hr', 'payroll'), first);
        first.sealedMaterial?.fill(0);
        expect(store.getInstanceById('k1-i1')?.sealedMaterial).toEqual(material('k1-i1'));
      });
    });

    describe('transaction', () => {
      it('commits everything fn did and returns its result', () => {
        const out = store.transaction(() => {
          addKey('k1', 'hr', 'payroll');
          addKey('k2', 'hr', 'bonus');
          return 'done';
        });
        expect(out).toBe('done');
        expect(store.countKeys()).toBe(2);
      });

      it('rolls back everything when fn throws, and rethrows the same error', () => {
        store.initialize(meta(), wrapped(1));
        addKey('k1', 'hr', 'payroll');
        const boom = new Error('boom');
        expect(() =>
          store.transaction(() => {
            addKey('k2', 'hr', 'bonus');
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
          addKey('k1', 'hr', 'payroll');
          expect(() =>
            store.transaction(() => {
              addKey('k2', 'hr', 'bonus');
              throw new Error('inner');
            }),
          ).toThrow('inner');
          addKey('k3', 'hr', 'pension');
        });
        expect(names(store.listKeys())).toEqual(['hr/payroll', 'hr/pension']);
      });

      it('refuses an async fn and undoes what it did synchronously', () => {
        let caught: unknown;
        try {
          store.transaction(() => {
            addKey('k1', 'hr', 'payroll');
            return Promise.resolve(1);
          });
        } catch (err) {
          caught = err;
        }
        expect((caught as Error | undefined)?.name).toBe('TypeError');
        expect(store.countKeys()).toBe(0);
      });

      it('keeps a store error\'s code when it escapes a transaction', () => {
        addKey('k1', 'hr', 'payroll');
        expect(codeOf(() => store.transaction(() => addKey('k2', 'hr', 'payroll')))).toBe('KEY_EXISTS');
        expect(store.countKeys()).toBe(1);
      });
    });

    describe('close', () => {
      it('is idempotent and later calls fail with STORAGE_ERROR', () => {
        store.close();
        store.close();
        expect(codeOf(() => store.getMeta())).toBe('STORAGE_ERROR');
        expect(codeOf(() => store.countKeys())).toBe('STORAGE_ERROR');
      });
    });
  });
}

function names(ks: { namespace: string; name: string }[]): string[] {
  return ks.map((k) => `${k.namespace}/${k.name}`);
}
