/**
 * GenerateDataKey's key bytes drawn in blocks (domain/key-byte-pool.ts):
 * every key its own bytes, drawn bytes zeroed in the block at once, the
 * leftover zeroed before a refill, and the whole block zeroed at the
 * keychain's seal.
 */
import { ManualClock } from '../../common/clock';
import { CryptoService } from '../../domain/crypto-service';
import { KEY_BLOCK_BYTES, KeyBytePool } from '../../domain/key-byte-pool';
import { unsealedMemoryKeychain } from '../support/memory-keychain';
import { randomFillSync } from 'node:crypto';

const zeroed = (b: Buffer): boolean => b.every((byte) => byte === 0);

describe('KeyBytePool', () => {
  it('hands out keys that never repeat, one CSPRNG call per block', () => {
    const pool = new KeyBytePool();
    const seen = new Set<string>();
    const keys = (KEY_BLOCK_BYTES / 32) * 3;
    for (let i = 0; i < keys; i++) {
      const key = pool.draw(32);
      expect(key).toHaveLength(32);
      seen.add(key.toString('hex'));
    }
    expect(seen.size).toBe(keys);
    expect(pool.refillCount).toBe(3);
  });

  it('zeroes drawn bytes in the block at once, and the buffers it hands out are the caller\'s own', () => {
    const pool = new KeyBytePool(64);
    const a = pool.draw(16);
    const copy = Buffer.from(a);
    expect(zeroed(pool.heldBlock().subarray(0, 16))).toBe(true);
    expect(zeroed(pool.heldBlock().subarray(16))).toBe(false);
    pool.draw(16).fill(0xff);
    expect(a.equals(copy)).toBe(true);
  });

  it('zeroes the unused rest before a refill writes the block again', () => {
    const blocksSeen: Buffer[] = [];
    const pool = new KeyBytePool(48, (into) => {
      blocksSeen.push(Buffer.from(into));
      randomFillSync(into);
    });
    pool.draw(32);
    pool.draw(32); // 16 bytes left: not enough, so a refill
    expect(blocksSeen).toHaveLength(2);
    expect(zeroed(blocksSeen[1])).toBe(true);
  });

  it('gives a draw larger than a block a buffer of its own, leaving the block as it was', () => {
    const pool = new KeyBytePool(16);
    expect(pool.draw(64)).toHaveLength(64);
    expect(pool.refillCount).toBe(0);
    expect(() => pool.draw(0)).toThrow(RangeError);
  });

  it('wipe() zeroes every undrawn byte, and the next draw refills', () => {
    const pool = new KeyBytePool();
    pool.draw(32);
    pool.wipe();
    expect(zeroed(pool.heldBlock())).toBe(true);
    expect(zeroed(pool.draw(32))).toBe(false);
    expect(pool.refillCount).toBe(2);
  });
});

describe('GenerateDataKey\'s drawn-ahead key bytes and the seal', () => {
  it('are zeroed when the keychain seals', async () => {
    const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
    const { keychain } = await unsealedMemoryKeychain(clock);
    const crypto = new CryptoService(keychain, clock);
    keychain.createKey({ fullName: 'app/data', algorithm: 'AES-256' });
    const first = crypto.generateDataKey('app/data', 256);
    const second = crypto.generateDataKey('app/data', 256);
    expect(first.plaintext.equals(second.plaintext)).toBe(false);
    expect(zeroed(crypto.dataKeyPool.heldBlock())).toBe(false); // the next keys, drawn ahead
    keychain.seal();
    expect(zeroed(crypto.dataKeyPool.heldBlock())).toBe(true);
  });
});
