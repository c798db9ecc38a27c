/**
 * The KeyStore conformance suite (storage/key-store.ts is the contract):
 * key and instance rows, the current-instance pointer, state changes,
 * filtered listing, and the copies that keep stored records out of callers'
 * reach. Both backends run it through keychain-store-conformance.ts.
 */
import { codeOf, addKey, instance, key, material, names, T1, T2, pointer, rowMac, StoreFactory, storePerTest } from './store-fixtures';

export function describeKeyStoreConformance(name: string, factory: StoreFactory): void {
  describe(`KeyStore conformance: ${name}`, () => {
    const store = storePerTest(factory);

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

      it('round-trips the usage dates of an instance (protect-stop, process-start), in its first and later instances', () => {
        const first = instance('k1', 1, { protectStopAt: T1, processStartAt: T2 });
        store.createKey(key('k1', 'hr', 'payroll'), first);
        expect(store.getInstanceById(first.id)).toEqual(first);
        const later = instance('k1', 2, { processStartAt: T1 });
        store.addPendingInstance(later);
        expect(store.listInstances('k1').map((i) => i.processStartAt)).toEqual([T2, T1]);
      });

      it("keeps an instance's material origin, through a state change too", () => {
        const imported = instance('k1', 1, { origin: 'imported' });
        store.createKey(key('k1', 'hr', 'payroll'), imported);
        expect(store.getInstanceById(imported.id)?.origin).toBe('imported');
        store.updateInstanceState({ instanceId: imported.id, state: 'Deactivated', deactivatedAt: T1, rowMac: rowMac('after') });
        expect(store.getInstanceByName(imported.name)).toMatchObject({ origin: 'imported', revocationReason: null, compromisedAt: null, compromiseOccurredAt: null });
        const generated = instance('k1', 2);
        store.addPendingInstance({ ...generated, state: 'PreActive' });
        expect(store.listInstances('k1').map((i) => i.origin)).toEqual(['imported', 'generated']);
      });

      it("keeps an instance's usage limit, through a state change too, and none for one made without", () => {
        const limited = instance('k1', 1, { usageLimit: 'byte:16' });
        store.createKey(key('k1', 'hr', 'payroll'), limited);
        store.updateInstanceState({ instanceId: limited.id, state: 'Deactivated', deactivatedAt: T1, rowMac: rowMac('after') });
        expect(store.getInstanceById(limited.id)?.usageLimit).toBe('byte:16');
        const { usageLimit: _none, ...older } = instance('k1', 2);
        store.addPendingInstance({ ...older, state: 'PreActive' });
        expect(store.listInstances('k1').map((i) => i.usageLimit ?? null)).toEqual(['byte:16', null]);
      });

      it("keeps an instance's Fresh flag, which a change turns false and a change that omits it leaves; and a key's Sensitive flag", () => {
        store.createKey(key('k1', 'hr', 'payroll', { sensitive: true }), instance('k1', 1, { fresh: true }));
        store.addPendingInstance(instance('k1', 2, { state: 'PreActive' }));
        expect(store.getKeyById('k1')?.sensitive).toBe(true);
        expect(store.listInstances('k1').map((i) => i.fresh)).toEqual([true, false]);
        store.updateInstanceState({ instanceId: 'k1-i1', state: 'Active', rowMac: rowMac('kept') });
        expect(store.getInstanceById('k1-i1')?.fresh).toBe(true);
        store.updateInstanceState({ instanceId: 'k1-i1', state: 'Active', fresh: false, rowMac: rowMac('served') });
        expect(store.getInstanceByName('n-k1-i1')).toMatchObject({ fresh: false, rowMac: rowMac('served') });
        addKey(store, 'k2', 'hr', 'plain');
        expect(store.getKeyByName('hr', 'plain')?.sensitive).toBe(false);
      });

      it('keeps the revocation reason and compromise date a state change sets, and leaves them when a change omits them', () => {
        addKey(store, 'k1', 'hr', 'payroll');
        store.updateInstanceState({ instanceId: 'k1-i1', state: 'Compromised', deactivatedAt: T1, revocationReason: 'keyCompromise', compromisedAt: T2, rowMac: rowMac('c') });
        expect(store.getInstanceById('k1-i1')).toMatchObject({ state: 'Compromised', deactivatedAt: T1, revocationReason: 'keyCompromise', compromisedAt: T2 });
        store.updateInstanceState({ instanceId: 'k1-i1', state: 'DestroyedCompromised', destroyedAt: T2, dropMaterial: true, rowMac: rowMac('d') });
        expect(store.getInstanceById('k1-i1')).toMatchObject({ state: 'DestroyedCompromised', revocationReason: 'keyCompromise', compromisedAt: T2 });
      });

      it('returns null for absent keys and instances', () => {
        expect(store.getKeyById('nope')).toBeNull();
        expect(store.getKeyByName('hr', 'nope')).toBeNull();
        expect(store.getInstanceById('nope')).toBeNull();
        expect(store.getInstanceByName('nope')).toBeNull();
        expect(store.listInstances('nope')).toEqual([]);
      });

      it('refuses a duplicate (namespace, name) with KEY_EXISTS and writes nothing', () => {
        addKey(store, 'k1', 'hr', 'payroll');
        const clash = key('k2', 'hr', 'payroll');
        expect(codeOf(() => store.createKey(clash, instance('k2', 1)))).toBe('KEY_EXISTS');
        expect(store.getKeyById('k2')).toBeNull();
        expect(store.getInstanceById('k2-i1')).toBeNull();
        expect(store.getInstanceByName('n-k2-i1')).toBeNull();
        expect(store.countKeys()).toBe(1);
      });

      it('allows the same name in another namespace', () => {
        addKey(store, 'k1', 'hr', 'payroll');
        addKey(store, 'k2', 'finance', 'payroll');
        expect(store.getKeyByName('finance', 'payroll')?.id).toBe('k2');
        expect(store.getKeyByName('hr', 'payroll')?.id).toBe('k1');
      });

      it('writes nothing when the first instance clashes (duplicate instance name)', () => {
        addKey(store, 'k1', 'hr', 'payroll');
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
      beforeEach(() => addKey(store, 'k1', 'hr', 'payroll'));

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

    describe('addPendingInstance', () => {
      it('inserts a not-yet-current instance and leaves the key row as it was; a taken version changes nothing', () => {
        store.createKey(key('p', 'ns', 'p'), instance('p', 1));
        const before = store.getKeyById('p');
        const pending = instance('p', 2, { state: 'PreActive', activatedAt: T2 });
        store.addPendingInstance(pending);
        expect(store.getInstanceById('p-i2')).toEqual(pending);
        expect(store.getKeyById('p')).toEqual(before);
        expect(codeOf(() => store.addPendingInstance(instance('p', 2, { id: 'p-other', name: 'n-other' })))).toBe('STORAGE_ERROR');
        expect(store.getInstanceById('p-other')).toBeNull();
        expect(store.listInstances('p').map((i) => i.version)).toEqual([1, 2]);
      });
    });

    describe('moveCurrentInstance', () => {
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

    });

    describe('listKeys and countKeys', () => {
      beforeEach(() => {
        addKey(store, 'k1', 'hr', 'payroll');
        addKey(store, 'k2', 'hr', 'bonus', 'RSA-2048');
        addKey(store, 'k3', 'finance', 'payments');
        addKey(store, 'k4', 'finance', 'ledger', 'RSA-2048');
        addKey(store, 'k5', 'ops', 'tls?[1]');
      });

      it('lists all keys ordered by namespace then name', () => {
        expect(names(store.listKeys())).toEqual(['finance/ledger', 'finance/payments', 'hr/bonus', 'hr/payroll', 'ops/tls?[1]']);
        expect(store.countKeys()).toBe(5);
      });

      it('counts keys by their current instance state and instances by state', () => {
        expect(store.countByState()).toEqual({ keys: { Active: 5 }, instances: { Active: 5 } });
        store.addCurrentInstance(instance('k1', 2, { createdAt: T1 }), pointer(T1), { instanceId: 'k1-i1', state: 'Deactivated', deactivatedAt: T1, rowMac: rowMac('previous') });
        store.updateInstanceState({ instanceId: 'k2-i1', state: 'Compromised', rowMac: rowMac('compromised') });
        expect(store.countByState()).toEqual({ keys: { Active: 4, Compromised: 1 }, instances: { Active: 4, Deactivated: 1, Compromised: 1 } });
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

      it('filters by custom attribute values, each a glob as the name pattern is, before paging', () => {
        // Every key has team=payments (store-fixtures.ts) until changed here.
        store.updateKeyAttributes({ keyId: 'k1', customAttributes: { team: 'pay?[1]*ll', 'kmip.ObjectGroup': '[{"tag":"ObjectGroup","value":"g"}]' }, description: '', updatedAt: T2, rowMac: rowMac('a') });
        store.updateKeyAttributes({ keyId: 'k2', customAttributes: { team: 'payroll' }, description: '', updatedAt: T2, rowMac: rowMac('b') });
        expect(names(store.listKeys({ attributes: { team: 'payroll' } }))).toEqual(['hr/bonus']);
        expect(names(store.listKeys({ attributes: { team: 'pay?[1]*ll' } }))).toEqual(['hr/payroll']);
        expect(names(store.listKeys({ attributes: { team: 'pay*ll' } }))).toEqual(['hr/bonus', 'hr/payroll']);
        expect(names(store.listKeys({ attributes: { team: 'pay*', 'kmip.ObjectGroup': '*"value":"g"}*' } }))).toEqual(['hr/payroll']);
        expect(names(store.listKeys({ attributes: { team: 'pay*ll' }, limit: 1, offset: 1 }))).toEqual(['hr/payroll']);
        expect(names(store.listKeys({ attributes: { 'x-cost-centre': '42' }, namespace: 'finance' }))).toEqual(['finance/ledger', 'finance/payments']);
        expect(store.listKeys({ attributes: { 'x-cost-centre': '4' } })).toEqual([]);
        expect(store.listKeys({ attributes: { absent: '*' } })).toEqual([]);
        expect(store.listKeys({ attributes: { team: 'PAYROLL' } })).toEqual([]);
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
      beforeEach(() => addKey(store, 'k1', 'hr', 'payroll'));

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
        addKey(store, 'k1', 'hr', 'payroll');
        store.getInstanceById('k1-i1')?.sealedMaterial?.fill(0);
        store.listInstances('k1')[0].sealedMaterial?.fill(0);
        (store.getKeyById('k1')?.customAttributes as Record<string, string>).team = 'mallory';
        expect(store.getInstanceById('k1-i1')?.sealedMaterial).toEqual(material('k1-i1'));
        expect(store.getKeyById('k1')?.customAttributes.team).toBe('payments');
      });

      it('copies on the way in: mutating the caller\'s buffer after a write changes nothing stored', () => {
        const first = instance('k1', 1);
        store.createKey(key('k1', 'hr', 'payroll'), first);
        first.sealedMaterial?.fill(0);
        expect(store.getInstanceById('k1-i1')?.sealedMaterial).toEqual(material('k1-i1'));
      });
    });
  });
}
