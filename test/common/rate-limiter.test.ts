import { ManualClock } from '../../common/clock';
import { batchWeight } from '../../server/tls/connection';
import { RateLimiter } from '../../common/rate-limiter';

describe('per-client rate limit', () => {
  it('refills from the clock, per client, and makes a Batch pay for its items', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, 10, 10);
    expect(limiter.take('a', 8)).toBe(0);
    expect(limiter.take('a', 8)).toBeGreaterThan(0);
    expect(limiter.take('b', 8)).toBe(0); // another client's bucket
    clock.advance(1000);
    expect(limiter.take('a', 8)).toBe(0);
  });

  it('counts a Batch frame by its items without a full parse', () => {
    const batch = Buffer.from(JSON.stringify({ id: 1, op: 'Batch', args: { items: Array.from({ length: 40 }, () => ({ op: 'Get', args: { name: 'a/b' } })) } }));
    expect(batchWeight(batch)).toBe(40);
    expect(batchWeight(Buffer.from(JSON.stringify({ id: 1, op: 'Get', args: { name: 'a/b' } })))).toBe(1);
  });
});
