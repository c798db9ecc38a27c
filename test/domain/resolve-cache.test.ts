/**
 * The cache of resolved key references: a moved change stamp drops
 * everything; forgetTags drops exactly the entries tagged with a touched
 * key id, including after evictions (its tag index stays in step).
 */
import { ResolveCache } from '../../domain/resolve-cache';

interface Entry {
  readonly keyId: string;
  readonly n: number;
}

describe('ResolveCache', () => {
  let stamp: string;
  let loads: number;
  let cache: ResolveCache<Entry>;
  const load = (keyId: string, n: number) => (): Entry => {
    loads++;
    return { keyId, n };
  };
  beforeEach(() => {
    stamp = 's1';
    loads = 0;
    cache = new ResolveCache<Entry>(() => stamp, 3, (e) => e.keyId);
  });

  it('drops only the entries of the touched keys (a name and an instance reference of one key alike)', () => {
    cache.get('n:a', load('k1', 1));
    cache.get('i:a1', load('k1', 2));
    cache.get('n:b', load('k2', 3));
    cache.forgetTags(['k1']);
    expect(cache.size).toBe(1);
    expect(cache.get('n:b', load('k2', 99)).n).toBe(3);
    expect(cache.get('n:a', load('k1', 4)).n).toBe(4);
    expect(loads).toBe(4);
  });

  it('drops everything when the change stamp moves', () => {
    cache.get('n:a', load('k1', 1));
    stamp = 's2';
    expect(cache.get('n:a', load('k1', 2)).n).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('keeps its tag index in step with evictions', () => {
    cache.get('n:a', load('k1', 1));
    cache.get('n:b', load('k2', 2));
    cache.get('n:c', load('k3', 3));
    cache.get('n:d', load('k1', 4)); // evicts n:a
    cache.forgetTags(['k1']);
    expect(cache.size).toBe(2);
    expect(cache.get('n:d', load('k1', 5)).n).toBe(5);
    expect(cache.get('n:b', load('k2', 99)).n).toBe(2);
  });
});
