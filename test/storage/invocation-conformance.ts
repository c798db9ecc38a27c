/**
 * The InvocationStore conformance suite (storage/invocation-store.ts is the
 * contract): marks start at 0, grow by what is reserved, per instance, are
 * returned by the reservation that set them, and leave the change stamp
 * alone; bad counts and a closed store are refused. Both
 * backends run it through keychain-store-conformance.ts.
 */
import { codeOf, StoreFactory, storePerTest } from './store-fixtures';

export function describeInvocationConformance(name: string, factory: StoreFactory): void {
  describe(`InvocationStore conformance: ${name}`, () => {
    const store = storePerTest(factory);

    it('starts every instance at 0 and returns the new mark of each reservation, per instance', () => {
      expect(store.invocations.invocationsReserved('i-1')).toBe(0);
      expect(store.invocations.reserveInvocations('i-1', 4096)).toBe(4096);
      expect(store.invocations.reserveInvocations('i-1', 4096)).toBe(8192);
      expect(store.invocations.reserveInvocations('i-2', 1)).toBe(1);
      expect(store.invocations.invocationsReserved('i-1')).toBe(8192);
      expect(store.invocations.invocationsReserved('i-2')).toBe(1);
      expect(store.invocations.invocationsReserved('i-3')).toBe(0);
    });

    it('holds marks beyond 2^32 exactly', () => {
      expect(store.invocations.reserveInvocations('i-1', 2 ** 32)).toBe(2 ** 32);
      expect(store.invocations.reserveInvocations('i-1', 2 ** 31)).toBe(2 ** 32 + 2 ** 31);
    });

    it('refuses a count that is not a positive integer, and changes nothing', () => {
      for (const count of [0, -1, 1.5, Number.NaN]) expect(codeOf(() => store.invocations.reserveInvocations('i-1', count))).toBe('STORAGE_ERROR');
      expect(store.invocations.invocationsReserved('i-1')).toBe(0);
    });

    it('does not move the keychain change stamp (no cache depends on a count)', () => {
      const before = store.changeStamp();
      store.invocations.reserveInvocations('i-1', 10);
      expect(store.changeStamp()).toBe(before);
    });

    it('is refused once the store is closed', () => {
      store.close();
      expect(codeOf(() => store.invocations.reserveInvocations('i-1', 1))).toBe('STORAGE_ERROR');
      expect(codeOf(() => store.invocations.invocationsReserved('i-1'))).toBe('STORAGE_ERROR');
    });
  });
}
