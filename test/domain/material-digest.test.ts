/**
 * The keychain's digest of an instance's material
 * (domain/keys/material-facts.ts, InstanceLifecycle.digestMaterial): the
 * SHA-256 of the very bytes Get opens, each instance its own; none for
 * SECRET (a password's hash would give it away) nor once destroyed; the
 * bytes opened for it zeroed; a sealed keychain refuses.
 */
import { createHash } from 'node:crypto';
import { isoNow, ManualClock } from '../../common/clock';
import * as secret from '../../common/secret';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { digestOf, hasDigest } from '../../domain/keys/material-facts';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { codeOf } from '../support/error-code';

describe('material digest', () => {
  const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
  let keychain: Keychain;

  beforeEach(async () => {
    const hsm = new SoftHsm({ label: 'digest' });
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
  });

  const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

  it('is the SHA-256 of the material Get opens, of each instance', () => {
    keychain.createKey({ fullName: 'd/k', algorithm: 'AES-256' });
    const first = keychain.getKey({ fullName: 'd/k' });
    const rolled = keychain.rollover('d/k');
    const second = keychain.getKey({ fullName: 'd/k' });
    expect(keychain.digestMaterial({ instance: first.instance.name })).toEqual({ algorithm: 'SHA-256', value: sha256(first.material), format: 'raw' });
    expect(keychain.digestMaterial({ fullName: 'd/k' })?.value).toBe(sha256(second.material));
    expect(rolled.instances).toHaveLength(2);
    expect(sha256(first.material)).not.toBe(sha256(second.material));
  });

  it('is none for SECRET, and none once the material is destroyed', () => {
    keychain.registerKey({ fullName: 'd/password', algorithm: 'SECRET' }, Buffer.from('hunter2'));
    expect(keychain.digestMaterial({ fullName: 'd/password' })).toBeNull();
    expect(hasDigest('SECRET')).toBe(false);
    keychain.createKey({ fullName: 'd/gone', algorithm: 'AES-128', activate: false });
    keychain.transitionInstance({ fullName: 'd/gone' }, 'Destroyed', { destroyedAt: isoNow(clock) }, true);
    expect(keychain.digestMaterial({ fullName: 'd/gone' })).toBeNull();
  });

  it('hashes without keeping the bytes: digestOf leaves the caller\'s buffer to zero, the keychain zeroes what it opened', () => {
    const bytes = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    expect(digestOf(bytes).value).toBe(sha256(Buffer.from('00112233445566778899aabbccddeeff', 'hex')));
    keychain.createKey({ fullName: 'd/z', algorithm: 'AES-128' });
    const spy = jest.spyOn(secret, 'wipe');
    try {
      keychain.digestMaterial({ fullName: 'd/z' });
      const wiped = spy.mock.calls.flat().filter((b): b is Uint8Array => b instanceof Uint8Array);
      expect(wiped.map((b) => b.length)).toEqual([16]);
      expect(wiped[0].every((byte) => byte === 0)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it('is refused while sealed', () => {
    keychain.createKey({ fullName: 'd/s', algorithm: 'AES-128' });
    keychain.seal();
    expect(codeOf(() => keychain.digestMaterial({ fullName: 'd/s' }))).toBe('SEALED');
  });
});
