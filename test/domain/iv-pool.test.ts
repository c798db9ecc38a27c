import { IvPool, IV_LENGTH } from '../../domain/iv-pool';

describe('IV pool', () => {
  it('hands out 12-byte IVs that never repeat across many refills', () => {
    const pool = new IvPool();
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const iv = pool.next();
      expect(iv).toHaveLength(IV_LENGTH);
      seen.add(iv.toString('hex'));
    }
    expect(seen.size).toBe(5000);
  });

  it('returns independent buffers', () => {
    const pool = new IvPool();
    const a = pool.next();
    const copy = Buffer.from(a);
    pool.next().fill(0xff);
    expect(a.equals(copy)).toBe(true);
  });
});
