/**
 * The usage-limit budget's rules (domain/usage-limits.ts) over the
 * in-memory mark store: an operation that would pass the total is refused
 * whole and writes nothing; an object limit counts operations, a byte limit
 * bytes; empty data spends nothing but is refused once the budget is gone;
 * the check is made inside the store's raise (under its lock), on the mark
 * as it is then, not as it was read before; and the stored form round-trips
 * while a form no appliance writes is INTEGRITY_FAILURE.
 */
import { decodeUsageLimit, encodeUsageLimit, parseUsageLimit, UsageBudgets, UsageCounts } from '../../domain/usage-limits';
import { MemoryStore } from '../../storage/memory-store';
import { codeOf } from '../support/error-code';

/** Counts over the in-memory marks; `interleave` runs inside each raise, as another process's write would land before the lock. */
function counts(interleave: () => void = () => undefined): UsageCounts & { writes: number } {
  const inner = new MemoryStore().invocations;
  const store = {
    writes: 0,
    invocationsReserved: (id: string) => inner.readMark(id)?.reserved ?? 0,
    reserveWithin: (id: string, count: number, ceiling: number, refuse: () => Error) => {
      interleave();
      return inner.raiseMark(id, (current) => {
        const reserved = (current?.reserved ?? 0) + count;
        if (reserved > ceiling) throw refuse();
        store.writes++;
        return { reserved };
      });
    },
  };
  return store;
}

describe('usage budgets', () => {
  it('spends bytes up to the total exactly; the operation that would pass it is refused whole and writes nothing', () => {
    const store = counts();
    const budgets = new UsageBudgets(store);
    const limit = { total: 16, unit: 'byte' as const };
    budgets.spend('k@1', limit, 10);
    expect(codeOf(() => budgets.spend('k@1', limit, 7))).toBe('USAGE_LIMIT_REACHED');
    expect(codeOf(() => budgets.spend('k@1', limit, 17))).toBe('USAGE_LIMIT_REACHED');
    budgets.spend('k@1', limit, 6);
    expect(store.writes).toBe(2);
    expect(budgets.state('k@1', limit)).toEqual({ total: 16, unit: 'byte', used: 16, remaining: 0 });
    expect(codeOf(() => budgets.spend('k@1', limit, 0))).toBe('USAGE_LIMIT_REACHED');
  });

  it('counts operations under an object limit whatever their size, and does nothing for an instance without a limit', () => {
    const store = counts();
    const budgets = new UsageBudgets(store);
    budgets.spend('k@2', { total: 2, unit: 'object' }, 4096);
    budgets.spend('k@2', { total: 2, unit: 'object' }, 0);
    expect(codeOf(() => budgets.spend('k@2', { total: 2, unit: 'object' }, 1))).toBe('USAGE_LIMIT_REACHED');
    budgets.spend('k@3', null, 1_000_000);
    expect(store.writes).toBe(2);
  });

  it('decides on the mark as it is under the lock: a spend another process made first counts', () => {
    let other: UsageBudgets | undefined;
    let once = true;
    const store = counts(() => {
      if (once) {
        once = false;
        other!.spend('k@4', { total: 10, unit: 'byte' }, 8);
      }
    });
    const budgets = new UsageBudgets(store);
    other = new UsageBudgets(store);
    expect(codeOf(() => budgets.spend('k@4', { total: 10, unit: 'byte' }, 5))).toBe('USAGE_LIMIT_REACHED');
    expect(budgets.state('k@4', { total: 10, unit: 'byte' }).used).toBe(8);
  });

  it('keeps the limit as `unit:total`, both or neither given, and refuses a stored form no appliance writes', () => {
    expect(encodeUsageLimit(parseUsageLimit(16, 'byte'))).toBe('byte:16');
    expect(decodeUsageLimit('object:3')).toEqual({ unit: 'object', total: 3 });
    expect(parseUsageLimit(undefined, undefined)).toBeNull();
    expect(codeOf(() => parseUsageLimit(16, undefined))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => decodeUsageLimit('byte:0'))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(() => decodeUsageLimit('bits:8'))).toBe('INTEGRITY_FAILURE');
  });
});
