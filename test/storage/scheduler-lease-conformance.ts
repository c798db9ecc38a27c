/**
 * The SchedulerLeaseStore conformance suite (storage/scheduler-lease-store.ts
 * is the contract): no lease until the first swap; the first lease is
 * written once (a second "first" swap writes nothing); a swap writes only
 * over the row the caller read (named by its MAC); a swap inside a failed
 * transaction is undone; returned rows are the caller's own; a closed store
 * refuses. Memory, SQLite and PostgreSQL run it through
 * keychain-store-conformance.ts.
 */
import { SchedulerLeaseRecord } from '../../storage/scheduler-lease-store';
import { codeOf, rowMac, StoreFactory, storePerTest, T0, T1, T2 } from './store-fixtures';

const lease = (holder: string, epoch: number, expiresAt: string, mac = `${holder}-${epoch}-${expiresAt}`): SchedulerLeaseRecord => ({ holder, epoch, expiresAt, rowMac: rowMac(mac) });

export function describeSchedulerLeaseConformance(name: string, factory: StoreFactory): void {
  describe(`SchedulerLeaseStore conformance: ${name}`, () => {
    const store = storePerTest(factory);

    it('has no lease until the first swap, which writes it exactly once', () => {
      expect(store.schedulerLease.readSchedulerLease()).toBeNull();
      expect(store.schedulerLease.swapSchedulerLease(null, lease('a', 1, T1))).toBe(true);
      expect(store.schedulerLease.readSchedulerLease()).toEqual(lease('a', 1, T1));
      // B read "no lease" too, before A's commit: its first lease writes nothing.
      expect(store.schedulerLease.swapSchedulerLease(null, lease('b', 1, T2))).toBe(false);
      expect(store.schedulerLease.readSchedulerLease()).toEqual(lease('a', 1, T1));
    });

    it('swaps only over the row as read: a swap that read an older row writes nothing', () => {
      const first = lease('a', 1, T0);
      store.schedulerLease.swapSchedulerLease(null, first);
      const renewed = lease('a', 1, T1);
      expect(store.schedulerLease.swapSchedulerLease(first.rowMac, renewed)).toBe(true);
      // B read the first row, then A renewed: B's take-over over the first row is refused.
      expect(store.schedulerLease.swapSchedulerLease(first.rowMac, lease('b', 2, T2))).toBe(false);
      expect(store.schedulerLease.readSchedulerLease()).toEqual(renewed);
      expect(store.schedulerLease.swapSchedulerLease(renewed.rowMac, lease('b', 2, T2))).toBe(true);
      expect(store.schedulerLease.readSchedulerLease()).toEqual(lease('b', 2, T2));
    });

    it('undoes a swap made in a transaction that fails, as every other write', () => {
      store.schedulerLease.swapSchedulerLease(null, lease('a', 1, T0));
      expect(
        codeOf(() =>
          store.transaction(() => {
            store.schedulerLease.swapSchedulerLease(rowMac('a-1-' + T0), lease('b', 2, T1));
            throw new RangeError('the batch failed');
          }),
        ),
      ).toBe('UNTYPED: RangeError: the batch failed');
      expect(store.schedulerLease.readSchedulerLease()).toEqual(lease('a', 1, T0));
    });

    it('hands out copies: changing a returned or passed MAC changes nothing stored', () => {
      const passed = lease('a', 1, T0);
      store.schedulerLease.swapSchedulerLease(null, passed);
      passed.rowMac.fill(0);
      const read = store.schedulerLease.readSchedulerLease()!;
      read.rowMac.fill(1);
      expect(store.schedulerLease.readSchedulerLease()).toEqual(lease('a', 1, T0));
    });

    it('refuses every call once closed', () => {
      store.close();
      expect(codeOf(() => store.schedulerLease.readSchedulerLease())).toBe('STORAGE_ERROR');
      expect(codeOf(() => store.schedulerLease.swapSchedulerLease(null, lease('a', 1, T0)))).toBe('STORAGE_ERROR');
    });
  });
}
