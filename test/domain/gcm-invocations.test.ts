/**
 * The per-instance AES-GCM invocation budget (domain/gcm-invocations.ts):
 * blocks reserved in the store before use, the limit refused with
 * INVOCATION_LIMIT_REACHED and nothing written, a restart resuming from the
 * stored mark, two processes on one store never sharing a block, the
 * near-limit warning once, and the crypto service counting Encrypt and
 * GenerateDataKey (not Decrypt, not MAC) per instance, so a rollover starts
 * a fresh count. On the in-memory store and soft HSM.
 */
import { ManualClock } from '../../common/clock';
import { CryptoService } from '../../domain/crypto-service';
import { DEFAULT_GCM_INVOCATION_LIMIT, DEFAULT_INVOCATION_BLOCK, GcmInvocations, NearLimit } from '../../domain/gcm-invocations';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { SoftHsm } from '../../hsm/soft-hsm';
import { InvocationStore } from '../../storage/invocation-store';
import { MemoryStore } from '../../storage/memory-store';
import { USAGE_BITS } from '../../domain/usage-mask';
import { codeOf } from '../support/error-code';

/** An invocation store that records its writes. */
function countingStore(): InvocationStore & { writes: Array<[string, number]> } {
  const inner = new MemoryStore().invocations;
  const writes: Array<[string, number]> = [];
  return {
    writes,
    invocationsReserved: (id) => inner.invocationsReserved(id),
    reserveInvocations: (id, count) => {
      writes.push([id, count]);
      return inner.reserveInvocations(id, count);
    },
  };
}

describe('GCM invocation budget', () => {
  it('reserves a block before using it, writes once per block, and refuses at the limit without writing', () => {
    const store = countingStore();
    const budget = new GcmInvocations(store, { limit: 10, block: 4 });
    for (let i = 0; i < 10; i++) budget.take('i-1', 'k/i-1');
    expect(store.writes).toEqual([['i-1', 4], ['i-1', 4], ['i-1', 4]]);
    expect(store.invocationsReserved('i-1')).toBe(12);
    expect(codeOf(() => budget.take('i-1', 'k/i-1'))).toBe('INVOCATION_LIMIT_REACHED');
    expect(codeOf(() => budget.take('i-1', 'k/i-1'))).toBe('INVOCATION_LIMIT_REACHED');
    expect(store.writes).toHaveLength(3);
    // Another instance has a count of its own.
    budget.take('i-2', 'k/i-2');
  });

  it('resumes after a restart from the stored mark, never lower', () => {
    const store = countingStore();
    const first = new GcmInvocations(store, { limit: 10, block: 4 });
    for (let i = 0; i < 5; i++) first.take('i-1', 'k/i-1');
    // A new process: the 3 unused invocations of the second block count as used.
    const second = new GcmInvocations(store, { limit: 10, block: 4 });
    second.take('i-1', 'k/i-1');
    second.take('i-1', 'k/i-1');
    expect(codeOf(() => second.take('i-1', 'k/i-1'))).toBe('INVOCATION_LIMIT_REACHED');
    const third = new GcmInvocations(store, { limit: 10, block: 4 });
    expect(codeOf(() => third.take('i-1', 'k/i-1'))).toBe('INVOCATION_LIMIT_REACHED');
  });

  it('gives two processes on one store disjoint blocks, and counts both', () => {
    const store = countingStore();
    const a = new GcmInvocations(store, { limit: 8, block: 2 });
    const b = new GcmInvocations(store, { limit: 8, block: 2 });
    let taken = 0;
    for (let i = 0; i < 10; i++) {
      for (const budget of [a, b]) {
        try {
          budget.take('i-1', 'k/i-1');
          taken++;
        } catch (err) {
          expect((err as { code?: string }).code).toBe('INVOCATION_LIMIT_REACHED');
        }
      }
    }
    expect(taken).toBe(8);
  });

  it('warns once when the count reaches 90% of the limit', () => {
    const warnings: NearLimit[] = [];
    const budget = new GcmInvocations(countingStore(), { limit: 20, block: 3 }, (near) => warnings.push(near));
    for (let i = 0; i < 17; i++) budget.take('i-1', 'k/i-1');
    expect(warnings).toEqual([]);
    budget.take('i-1', 'k/i-1');
    expect(warnings).toEqual([{ instanceId: 'i-1', instanceName: 'k/i-1', used: 18, limit: 20 }]);
    budget.take('i-1', 'k/i-1');
    expect(warnings).toHaveLength(1);
  });

  it('defaults to 2^31 in blocks of 16384, uses 1/1024 of a smaller limit per block, and refuses a limit outside 1..2^32', () => {
    const store = countingStore();
    new GcmInvocations(store).take('a', 'a');
    new GcmInvocations(store, { limit: 1_048_576 }).take('b', 'b');
    new GcmInvocations(store, { limit: 100 }).take('c', 'c');
    expect(store.writes).toEqual([['a', DEFAULT_INVOCATION_BLOCK], ['b', 1024], ['c', 1]]);
    expect(DEFAULT_GCM_INVOCATION_LIMIT).toBe(2 ** 31);
    for (const limit of [0, 2 ** 32 + 1, 1.5]) expect(codeOf(() => new GcmInvocations(store, { limit }))).toBe('CONFIG_INVALID');
  });
});

describe('crypto service and the GCM invocation budget', () => {
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
  let keychain: Keychain;
  let crypto: CryptoService;
  let counts: ReturnType<typeof countingStore>;

  beforeEach(async () => {
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    counts = countingStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    crypto = new CryptoService(keychain, clock, new GcmInvocations(counts, { limit: 3, block: 1 }));
    keychain.createKey({ fullName: 'app/data', algorithm: 'AES-256' });
    keychain.createKey({ fullName: 'app/mac', algorithm: 'HMAC-SHA256' });
  });

  it('counts Encrypt and GenerateDataKey per instance, still decrypts past the limit, and a rollover starts afresh', () => {
    const sealed = crypto.encrypt('app/data', Buffer.from('one'));
    crypto.generateDataKey('app/data', 256);
    crypto.encrypt('app/data', Buffer.from('three'));
    expect(codeOf(() => crypto.encrypt('app/data', Buffer.from('four')))).toBe('INVOCATION_LIMIT_REACHED');
    expect(codeOf(() => crypto.generateDataKey('app/data', 128))).toBe('INVOCATION_LIMIT_REACHED');
    expect(crypto.decrypt('app/data', sealed.ciphertext).plaintext.toString()).toBe('one');
    for (let i = 0; i < 5; i++) crypto.mac('app/mac', Buffer.from('m'));
    keychain.rollover('app/data');
    expect(crypto.encrypt('app/data', Buffer.from('new instance')).instance).not.toBe(sealed.instance);
  });

  it('does not count a seal the instance was not allowed to make (usage, state)', () => {
    keychain.createKey({ fullName: 'app/decrypt-only', algorithm: 'AES-256', usageMask: USAGE_BITS.decrypt });
    keychain.createKey({ fullName: 'app/pre-active', algorithm: 'AES-256', activate: false });
    expect(codeOf(() => crypto.encrypt('app/decrypt-only', Buffer.from('x')))).toBe('USAGE_NOT_PERMITTED');
    expect(codeOf(() => crypto.encrypt('app/pre-active', Buffer.from('x')))).toBe('WRONG_STATE');
    expect(counts.writes).toEqual([]);
    crypto.encrypt('app/data', Buffer.from('x'));
    expect(counts.writes).toHaveLength(1);
  });
});
