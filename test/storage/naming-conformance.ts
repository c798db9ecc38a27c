/**
 * The NamingStore conformance suite (storage/naming-store.ts is the
 * contract): aliases (put, move, read, list, delete; never one of a
 * missing key) and namespaces (summarised, and deleted with their keys'
 * instances and every alias pointing into them). Both backends run it
 * through keychain-store-conformance.ts.
 */
import { AliasRecord } from '../../storage/records';
import { codeOf, instance, key, T1, T2, rowMac, StoreFactory, storePerTest } from './store-fixtures';

function alias(name: string, keyId: string, overrides: Partial<AliasRecord> = {}): AliasRecord {
  return { alias: name, keyId, updatedAt: T1, rowMac: rowMac(`alias-${name}-${keyId}`), ...overrides };
}

export function describeNamingConformance(name: string, factory: StoreFactory): void {
  describe(`NamingStore conformance: ${name}`, () => {
    const store = storePerTest(factory);

    describe('aliases', () => {
      beforeEach(() => {
        store.createKey(key('a', 'ns', 'a'), instance('a', 1));
        store.createKey(key('b', 'ns', 'b'), instance('b', 1));
      });

      it('puts, reads and lists aliases ordered by alias; absent ones are null', () => {
        store.putAlias(alias('ns/x', 'a'));
        store.putAlias(alias('ns/w', 'b'));
        expect(store.getAlias('ns/x')).toEqual(alias('ns/x', 'a'));
        expect(store.getAlias('nope')).toBeNull();
        expect(store.listAliases()).toEqual([alias('ns/w', 'b'), alias('ns/x', 'a')]);
      });

      it('moves an alias to another key when put again', () => {
        store.putAlias(alias('ns/x', 'a'));
        store.putAlias(alias('ns/x', 'b', { updatedAt: T2 }));
        expect(store.getAlias('ns/x')).toEqual(alias('ns/x', 'b', { updatedAt: T2 }));
        expect(store.listAliases()).toHaveLength(1);
      });

      it('refuses an alias of a missing key (STORAGE_ERROR) and writes nothing', () => {
        expect(codeOf(() => store.putAlias(alias('ns/x', 'ghost')))).toBe('STORAGE_ERROR');
        expect(store.getAlias('ns/x')).toBeNull();
      });

      it('deletes an alias and returns it; ALIAS_NOT_FOUND when absent', () => {
        store.putAlias(alias('ns/x', 'a'));
        expect(store.deleteAlias('ns/x')).toEqual(alias('ns/x', 'a'));
        expect(store.getAlias('ns/x')).toBeNull();
        expect(codeOf(() => store.deleteAlias('ns/x'))).toBe('ALIAS_NOT_FOUND');
        expect(store.getKeyById('a')).not.toBeNull();
      });

      it('returns copies: mutating a returned alias changes nothing stored', () => {
        store.putAlias(alias('ns/x', 'a'));
        store.getAlias('ns/x')?.rowMac.fill(0);
        store.listAliases()[0].rowMac.fill(0);
        expect(store.getAlias('ns/x')).toEqual(alias('ns/x', 'a'));
      });
    });

    describe('namespaces', () => {
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

      it('has no namespaces when empty, and deleting an unknown one deletes nothing', () => {
        expect(store.listNamespaces()).toEqual([]);
        store.createKey(key('a', 'ns', 'a'), instance('a', 1));
        expect(store.deleteNamespace('other')).toBe(0);
        expect(store.listNamespaces()).toEqual([{ namespace: 'ns', keys: 1, liveKeys: 1 }]);
      });
    });
  });
}
