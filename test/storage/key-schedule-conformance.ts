/**
 * The KeyScheduleStore conformance suite (storage/key-schedule-store.ts is
 * the contract): what the lifecycle sweeps find due (retention, process
 * stops, scheduled destructions, rollovers), soonest first, up to the
 * limit, following the writes that move those dates. Both backends run it
 * through keychain-store-conformance.ts.
 */
import { codeOf, instance, key, T1, T2, pointer, rowMac, StoreFactory, storePerTest } from './store-fixtures';

export function describeKeyScheduleConformance(name: string, factory: StoreFactory): void {
  describe(`KeyScheduleStore conformance: ${name}`, () => {
    const store = storePerTest(factory);

    describe('retention, process stops and scheduled destruction', () => {
      it('lists deactivated, non-current instances with material and no pending destruction, by deactivation date', () => {
        store.createKey(key('a', 'ns', 'a'), instance('a', 1));
        store.addCurrentInstance(instance('a', 2), pointer(T1), { instanceId: 'a-i1', state: 'Deactivated', deactivatedAt: T1, rowMac: rowMac('d') });
        expect(store.listRetentionExpired(T2, 10)).toEqual(['a-i1']);
        expect(store.listRetentionExpired('2024-01-01T00:00:00.000Z', 10)).toEqual([]);
        store.updateInstanceState({ instanceId: 'a-i1', state: 'Deactivated', destroyAt: T2, rowMac: rowMac('s') });
        expect(store.listRetentionExpired(T2, 10)).toEqual([]);
      });

      it('lists Active instances whose process stop is due, soonest first then by id, up to the limit', () => {
        store.createKey(key('e', 'ns', 'e'), instance('e', 1, { processStopAt: T1 }));
        store.createKey(key('a', 'ns', 'a'), instance('a', 1, { processStopAt: T2 }));
        store.createKey(key('b', 'ns', 'b'), instance('b', 1, { processStopAt: T1 }));
        store.createKey(key('c', 'ns', 'c'), instance('c', 1, { processStopAt: T1, state: 'PreActive', activatedAt: null }));
        store.createKey(key('d', 'ns', 'd'), instance('d', 1));
        expect(store.listDueProcessStops(T2, 10)).toEqual([
          { instanceId: 'b-i1', processStopAt: T1 },
          { instanceId: 'e-i1', processStopAt: T1 },
          { instanceId: 'a-i1', processStopAt: T2 },
        ]);
        expect(store.listDueProcessStops(T1, 10).map((d) => d.instanceId)).toEqual(['b-i1', 'e-i1']);
        expect(store.listDueProcessStops(T2, 1).map((d) => d.instanceId)).toEqual(['b-i1']);
        store.updateInstanceState({ instanceId: 'b-i1', state: 'Deactivated', deactivatedAt: T2, rowMac: rowMac('off') });
        expect(store.listDueProcessStops(T2, 10).map((d) => d.instanceId)).toEqual(['e-i1', 'a-i1']);
      });

      it('lists PreActive instances whose activation date is due, soonest first then by id, without a pending destruction', () => {
        store.createKey(key('e', 'ns', 'e'), instance('e', 1, { state: 'PreActive', activatedAt: T1 }));
        store.createKey(key('a', 'ns', 'a'), instance('a', 1, { state: 'PreActive', activatedAt: T2 }));
        store.createKey(key('b', 'ns', 'b'), instance('b', 1, { state: 'PreActive', activatedAt: T1 }));
        store.createKey(key('c', 'ns', 'c'), instance('c', 1, { state: 'PreActive', activatedAt: null }));
        store.createKey(key('d', 'ns', 'd'), instance('d', 1, { activatedAt: T1 }));
        expect(store.listDueActivations(T2, 10)).toEqual([
          { instanceId: 'b-i1', activateAt: T1 },
          { instanceId: 'e-i1', activateAt: T1 },
          { instanceId: 'a-i1', activateAt: T2 },
        ]);
        expect(store.listDueActivations(T1, 10).map((d) => d.instanceId)).toEqual(['b-i1', 'e-i1']);
        expect(store.listDueActivations(T2, 1).map((d) => d.instanceId)).toEqual(['b-i1']);
        store.updateInstanceState({ instanceId: 'b-i1', state: 'Active', activatedAt: T1, rowMac: rowMac('on') });
        store.updateInstanceState({ instanceId: 'e-i1', state: 'PreActive', destroyAt: T2, rowMac: rowMac('doomed') });
        expect(store.listDueActivations(T2, 10).map((d) => d.instanceId)).toEqual(['a-i1']);
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

      it('replaces a key\'s custom attributes and description with its row MAC, and refuses an unknown key', () => {
        store.createKey(key('a', 'ns', 'a'), instance('a', 1));
        store.updateKeyAttributes({ keyId: 'a', customAttributes: { team: 'hr', site: 'lyon' }, description: 'payroll', updatedAt: T2, rowMac: rowMac('attrs') });
        expect(store.getKeyById('a')).toMatchObject({ customAttributes: { team: 'hr', site: 'lyon' }, description: 'payroll', updatedAt: T2 });
        expect(store.getKeyById('a')?.rowMac).toEqual(rowMac('attrs'));
        store.updateKeyAttributes({ keyId: 'a', customAttributes: {}, description: '', updatedAt: T2, rowMac: rowMac('none') });
        expect(store.getKeyById('a')?.customAttributes).toEqual({});
        expect(codeOf(() => store.updateKeyAttributes({ keyId: 'zz', customAttributes: {}, description: '', updatedAt: T2, rowMac: rowMac('z') }))).toBe('KEY_NOT_FOUND');
      });

      it('moves the next rollover with the current pointer when asked, and keeps it otherwise', () => {
        store.createKey(key('a', 'ns', 'a', { nextRolloverAt: T1 }), instance('a', 1));
        store.addCurrentInstance(instance('a', 2), { ...pointer(T1), nextRolloverAt: T2 });
        expect(store.getKeyById('a')?.nextRolloverAt).toBe(T2);
        store.addCurrentInstance(instance('a', 3), pointer(T2));
        expect(store.getKeyById('a')?.nextRolloverAt).toBe(T2);
      });
    });
  });
}
