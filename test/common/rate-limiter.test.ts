import { ManualClock } from '../../common/clock';
import { requestCost } from '../../server/tls/connection';
import { decodeRequest } from '../../protocol/request';
import { DEFAULT_JSON_LIMITS } from '../../protocol/json-limits';
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

  it('counts a Batch by its parsed items, however its JSON spells "op"', () => {
    const decode = (text: string) => decodeRequest(Buffer.from(text), DEFAULT_JSON_LIMITS);
    const batch = JSON.stringify({ id: 1, op: 'Batch', args: { items: Array.from({ length: 40 }, () => ({ op: 'Get', args: { name: 'a/b' } })) } });
    expect(requestCost(decode(batch))).toBe(40);
    expect(requestCost(decode(batch.replace(/"op"/g, '"o\\u0070"')))).toBe(40);
    expect(requestCost(decode(JSON.stringify({ id: 1, op: 'Get', args: { name: 'a/b' } })))).toBe(1);
  });

  it('deducts what a request already paid, and charges a cost above the burst as the burst', () => {
    const limiter = new RateLimiter(new ManualClock(0), 5, 10);
    expect(limiter.take('a', 1)).toBe(0);
    expect(limiter.take('a', 64, 1)).toBe(0); // 64 items, one paid before decoding: the other 9 of the burst
    expect(limiter.take('a', 1)).toBeGreaterThan(0);
    const fresh = new RateLimiter(new ManualClock(0), 5, 10);
    expect(fresh.take('b', 1)).toBe(0);
    expect(fresh.take('b', 5, 1)).toBe(0); // 4 more: 5 left
    expect(fresh.take('b', 7, 1)).toBeGreaterThan(0); // 6 more: refused, nothing taken
    expect(fresh.take('b', 6, 1)).toBe(0); // 5 more: the last 5
    expect(fresh.take('b', 1)).toBeGreaterThan(0);
  });
});
