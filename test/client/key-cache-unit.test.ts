/**
 * KeyCache on its own (no sockets), with a ManualClock: the entry bound
 * (least recently used goes first, zeroed), a clock moving backwards, a zero
 * hold time, sweeping expired entries. And the pool's backoff schedule.
 */
import { ManualClock } from '../../common/clock';
import { StrongroomClientError } from '../../client/client-error';
import { KeyCache } from '../../client/key-cache';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, backoffDelayMs } from '../../client/pool';
import { KeyView, InstanceView, RetrievedKey } from '../../client/types';

const clock = new ManualClock(1_000_000);

function fetched(byte: number): () => Promise<RetrievedKey> {
  return async () => ({ key: { fullName: 'a/b' } as KeyView, instance: { name: `i-${byte}` } as InstanceView, material: Buffer.alloc(4, byte) });
}

const down = async (): Promise<RetrievedKey> => {
  throw new StrongroomClientError('UNAVAILABLE', 'down', { details: { errorCode: 'ECONNREFUSED' } });
};

describe('KeyCache', () => {
  it('keeps at most maxEntries, dropping (and zeroing) the least recently used', async () => {
    const cache = new KeyCache({ leaseMs: 100, holdMs: 100 }, clock, 2);
    await cache.get({ name: 'a/one' }, fetched(1));
    await cache.get({ name: 'a/two' }, fetched(2));
    const one = cache.peekMaterial({ name: 'a/one' }) as Buffer;
    const two = cache.peekMaterial({ name: 'a/two' }) as Buffer;
    await cache.get({ name: 'a/one' }, fetched(9)); // a hit: one is now the most recently used
    await cache.get({ name: 'a/three' }, fetched(3));
    expect(cache.size).toBe(2);
    expect(cache.peekMaterial({ name: 'a/two' })).toBeUndefined();
    expect(two.equals(Buffer.alloc(4))).toBe(true);
    expect(one.equals(Buffer.alloc(4, 1))).toBe(true);
  });

  it('treats a clock that moved backwards as expired: asks again, holds nothing', async () => {
    const local = new ManualClock(5_000);
    const cache = new KeyCache({ leaseMs: 100, holdMs: 1_000 }, local);
    await cache.get({ name: 'a/b' }, fetched(1));
    local.advance(-1);
    const fresh = await cache.get({ name: 'a/b' }, fetched(2));
    expect(fresh.material.equals(Buffer.alloc(4, 2))).toBe(true);
    local.advance(-1);
    await expect(cache.get({ name: 'a/b' }, down)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('stores nothing when holdMs is 0', async () => {
    const cache = new KeyCache({ leaseMs: 0, holdMs: 0 }, clock);
    await cache.get({ name: 'a/b' }, fetched(1));
    expect(cache.size).toBe(0);
  });

  it('sweep() zeroes and drops entries past their hold time', async () => {
    const local = new ManualClock(0);
    const cache = new KeyCache({ leaseMs: 10, holdMs: 20 }, local);
    await cache.get({ name: 'a/b' }, fetched(7));
    const internal = cache.peekMaterial({ name: 'a/b' }) as Buffer;
    local.advance(20);
    cache.sweep();
    expect(cache.size).toBe(0);
    expect(internal.equals(Buffer.alloc(4))).toBe(true);
  });

  it('keeps nothing fetched after close()', async () => {
    const cache = new KeyCache({ leaseMs: 10, holdMs: 20 }, clock);
    cache.close();
    await cache.get({ name: 'a/b' }, fetched(7));
    expect(cache.size).toBe(0);
  });
});

describe('reconnect backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    expect(backoffDelayMs(1)).toBe(BACKOFF_BASE_MS);
    expect(backoffDelayMs(2)).toBe(2 * BACKOFF_BASE_MS);
    expect(backoffDelayMs(1_000)).toBe(BACKOFF_MAX_MS);
  });
});
