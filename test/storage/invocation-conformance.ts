/**
 * The InvocationStore conformance suite (storage/invocation-store.ts is the
 * contract): no mark until one is raised; a raise stores what `next` returns
 * for the current mark (count and row MAC as given), per instance; a mark
 * only grows, by whole numbers; raises leave the change stamp alone; a
 * closed store refuses. Both backends run it through keychain-store-conformance.ts.
 */
import { KeychainStore } from '../../storage/keychain-store';
import { codeOf, StoreFactory, storePerTest } from './store-fixtures';

const add = (store: KeychainStore, id: string, count: number, rowMac?: Buffer): number =>
  store.invocations.raiseMark(id, (current) => ({ reserved: (current?.reserved ?? 0) + count, rowMac }));
const markOf = (store: KeychainStore, id: string): number => store.invocations.readMark(id)?.reserved ?? 0;

export function describeInvocationConformance(name: string, factory: StoreFactory): void {
  describe(`InvocationStore conformance: ${name}`, () => {
    const store = storePerTest(factory);

    it('has no mark before a raise, and returns the new mark of each raise, per instance', () => {
      expect(store.invocations.readMark('i-1')).toBeNull();
      expect(add(store, 'i-1', 4096)).toBe(4096);
      expect(add(store, 'i-1', 4096)).toBe(8192);
      expect(add(store, 'i-2', 1)).toBe(1);
      expect(markOf(store, 'i-1')).toBe(8192);
      expect(markOf(store, 'i-2')).toBe(1);
      expect(store.invocations.readMark('i-3')).toBeNull();
    });

    it('hands `next` the current mark and keeps the row MAC it returns', () => {
      const mac = Buffer.alloc(32, 7);
      add(store, 'i-1', 5, mac);
      const seen: Array<number | null> = [];
      store.invocations.raiseMark('i-1', (current) => {
        seen.push(current?.reserved ?? null);
        expect(current?.rowMac).toEqual(mac);
        return { reserved: 9, rowMac: Buffer.alloc(32, 8) };
      });
      expect(seen).toEqual([5]);
      expect(store.invocations.readMark('i-1')).toEqual({ reserved: 9, rowMac: Buffer.alloc(32, 8) });
    });

    it('holds marks beyond 2^32 exactly', () => {
      expect(add(store, 'i-1', 2 ** 32)).toBe(2 ** 32);
      expect(add(store, 'i-1', 2 ** 31)).toBe(2 ** 32 + 2 ** 31);
    });

    it('refuses a mark that does not grow by a whole number, and changes nothing', () => {
      for (const count of [0, -1, 1.5, Number.NaN]) expect(codeOf(() => add(store, 'i-1', count))).toBe('STORAGE_ERROR');
      expect(store.invocations.readMark('i-1')).toBeNull();
    });

    it('does not move the keychain change stamp (no cache depends on a count)', () => {
      const before = store.changeStamp();
      add(store, 'i-1', 10);
      expect(store.changeStamp()).toBe(before);
    });

    it('is refused once the store is closed', () => {
      store.close();
      expect(codeOf(() => add(store, 'i-1', 1))).toBe('STORAGE_ERROR');
      expect(codeOf(() => store.invocations.readMark('i-1'))).toBe('STORAGE_ERROR');
    });
  });
}
