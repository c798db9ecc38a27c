/**
 * The cache of opened instance material: callers get copies, a hit opens
 * nothing, and every plaintext it held is zeroed when it is dropped — at a
 * store change, a reseal of the row, eviction, and on the keychain at seal,
 * rollover, revoke and destroy (each checked on the Buffer the cache held).
 */
import { ManualClock } from '../../common/clock';
import { CryptoService } from '../../domain/crypto-service';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { KeyRows } from '../../domain/keys/key-rows';
import { LifecycleService } from '../../domain/lifecycle-service';
import { MaterialCache } from '../../domain/material-cache';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';

const zeroed = (b: Buffer): boolean => b.every((byte) => byte === 0);

describe('MaterialCache', () => {
  let stamp: string;
  let opens: number;
  let cache: MaterialCache;
  const open = (fill: number) => () => {
    opens++;
    return Buffer.alloc(32, fill);
  };
  beforeEach(() => {
    stamp = 's1';
    opens = 0;
    cache = new MaterialCache(() => stamp, 2);
  });

  it('opens once, then hands out copies the caller may zero', () => {
    const sealed = Buffer.from('sealed-a');
    const first = cache.open('i1', sealed, open(7));
    first.fill(0);
    const second = cache.open('i1', Buffer.from(sealed), open(9));
    expect(opens).toBe(1);
    expect(second.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(cache.heldMaterial()[0].equals(Buffer.alloc(32, 7))).toBe(true);
  });

  it('opens a resealed row anew and zeroes what it held for the old one', () => {
    cache.open('i1', Buffer.from('sealed-a'), open(7));
    const [old] = cache.heldMaterial();
    expect(cache.open('i1', Buffer.from('sealed-b'), open(8)).equals(Buffer.alloc(32, 8))).toBe(true);
    expect(opens).toBe(2);
    expect(zeroed(old)).toBe(true);
    expect(cache.size).toBe(1);
  });

  it('zeroes everything when the change stamp moves, and on clear()', () => {
    cache.open('i1', Buffer.from('a'), open(1));
    cache.open('i2', Buffer.from('b'), open(2));
    const held = cache.heldMaterial();
    stamp = 's2';
    cache.open('i3', Buffer.from('c'), open(3));
    expect(held.every(zeroed)).toBe(true);
    expect(cache.size).toBe(1);
    const [third] = cache.heldMaterial();
    cache.clear();
    expect(zeroed(third)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('zeroes and drops only the instances of the keys a change touched (forgetKeys)', () => {
    cache.open('i1', Buffer.from('a'), open(1), 'k1');
    cache.open('i2', Buffer.from('b'), open(2), 'k2');
    const [ofK1, ofK2] = cache.heldMaterial();
    cache.forgetKeys(['k1', 'k-unknown']);
    expect(zeroed(ofK1)).toBe(true);
    expect(zeroed(ofK2)).toBe(false);
    expect(cache.size).toBe(1);
    cache.open('i2', Buffer.from('b'), open(2), 'k2');
    expect(opens).toBe(2);
  });

  it('zeroes the oldest when full (eviction)', () => {
    cache.open('i1', Buffer.from('a'), open(1));
    const [oldest] = cache.heldMaterial();
    cache.open('i2', Buffer.from('b'), open(2));
    cache.open('i3', Buffer.from('c'), open(3));
    expect(zeroed(oldest)).toBe(true);
    expect(cache.size).toBe(2);
    expect(cache.heldMaterial().map((b) => b[0])).toEqual([2, 3]);
  });
});

describe('opened material on the keychain', () => {
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
  let keychain: Keychain;
  let crypto: CryptoService;
  let lifecycle: LifecycleService;
  let hsm: SoftHsm;
  const opened = (): MaterialCache => (keychain as unknown as { rows: KeyRows }).rows.openedMaterial;

  /** Gets the key twice (the second from the cache) and returns the Buffer the cache holds for it. */
  function cachedByGet(): Buffer {
    const got = keychain.getKey({ fullName: 'app/data' });
    const again = keychain.getKey({ fullName: 'app/data' });
    expect(again.material.equals(got.material)).toBe(true);
    expect(opened().size).toBe(1);
    const [held] = opened().heldMaterial();
    expect(held.equals(got.material)).toBe(true);
    return held;
  }

  beforeEach(async () => {
    hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    crypto = new CryptoService(keychain);
    lifecycle = new LifecycleService(keychain, clock);
    keychain.createKey({ fullName: 'app/data', algorithm: 'AES-256' });
  });

  it('zeroes at seal', () => {
    const held = cachedByGet();
    keychain.seal();
    expect(zeroed(held)).toBe(true);
    expect(opened().size).toBe(0);
  });

  it('zeroes at rollover', () => {
    const held = cachedByGet();
    keychain.rollover('app/data');
    expect(zeroed(held)).toBe(true);
    expect(opened().size).toBe(0);
  });

  it('zeroes at revoke', () => {
    const held = cachedByGet();
    lifecycle.revoke({ fullName: 'app/data' }, 'cessationOfOperation');
    expect(zeroed(held)).toBe(true);
    expect(opened().size).toBe(0);
  });

  it('zeroes at destroy', () => {
    const sealed = crypto.encrypt('app/data', Buffer.from('x'));
    lifecycle.revoke({ fullName: 'app/data' }, 'cessationOfOperation');
    // A Deactivated instance still decrypts: that opens (and caches) it again.
    expect(crypto.decrypt('app/data', sealed.ciphertext).plaintext.toString()).toBe('x');
    expect(opened().size).toBe(1);
    const [held] = opened().heldMaterial();
    lifecycle.destroy({ fullName: 'app/data' });
    expect(zeroed(held)).toBe(true);
    expect(opened().size).toBe(0);
  });
});
