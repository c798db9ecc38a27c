/** Scheduled destruction with an injected clock: refused use while pending, cancellable, carried out once when due. */
import { ManualClock } from '../../common/clock';
import { CryptoService } from '../../domain/crypto-service';
import { sweepDueDestructions } from '../../domain/destruction-sweep';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { LifecycleService } from '../../domain/lifecycle-service';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { codeOf } from '../support/error-code';

const DAY = 86_400_000;

describe('scheduled destruction', () => {
  let clock: ManualClock;
  let keychain: Keychain;
  let lifecycle: LifecycleService;
  let crypto: CryptoService;

  beforeEach(async () => {
    clock = new ManualClock(new Date('2026-09-01T12:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    lifecycle = new LifecycleService(keychain, clock);
    crypto = new CryptoService(keychain);
    keychain.createKey({ fullName: 'd/k', algorithm: 'AES-256' });
  });

  it('refuses use while pending, can be cancelled before its date, and happens after it', async () => {
    const sealed = crypto.encrypt('d/k', Buffer.from('x'));
    lifecycle.revoke({ fullName: 'd/k' }, 'superseded');
    const pending = lifecycle.scheduleDestruction({ fullName: 'd/k' }, 7 * DAY);
    expect(pending.destroyAt).toBe('2026-09-08T12:00:00.000Z');
    expect(codeOf(() => crypto.decrypt('d/k', sealed.ciphertext))).toBe('WRONG_STATE');
    expect(codeOf(() => keychain.getKey({ fullName: 'd/k' }))).toBe('WRONG_STATE');

    clock.advance(3 * DAY);
    expect((await sweepDueDestructions(keychain, clock.nowMs())).destroyed).toBe(0);
    expect(lifecycle.cancelDestruction({ fullName: 'd/k' }).destroyAt).toBeNull();
    expect(crypto.decrypt('d/k', sealed.ciphertext).plaintext.toString()).toBe('x');

    lifecycle.scheduleDestruction({ fullName: 'd/k' }, 7 * DAY);
    clock.advance(7 * DAY - 1);
    expect((await sweepDueDestructions(keychain, clock.nowMs())).destroyed).toBe(0);
    clock.advance(1);
    expect((await sweepDueDestructions(keychain, clock.nowMs())).destroyed).toBe(1);
    const gone = keychain.describeInstance({ fullName: 'd/k' });
    expect(gone).toMatchObject({ state: 'Destroyed', hasMaterial: false, destroyAt: null, destroyedAt: '2026-09-11T12:00:00.000Z' });
    expect((await sweepDueDestructions(keychain, clock.nowMs())).destroyed).toBe(0);
    expect(codeOf(() => lifecycle.cancelDestruction({ fullName: 'd/k' }))).toBe('WRONG_STATE');
  });

  it('holds the store\'s unused-space walk for the whole sweep, over several batches, and releases it once after the last', async () => {
    for (let i = 0; i < 4; i++) keychain.createKey({ fullName: `d/more-${i}`, algorithm: 'AES-256' });
    for (const name of ['d/k', 'd/more-0', 'd/more-1', 'd/more-2', 'd/more-3']) {
      lifecycle.revoke({ fullName: name }, 'superseded');
      lifecycle.scheduleDestruction({ fullName: name }, DAY);
    }
    clock.advance(DAY);
    const released = jest.fn();
    const hold = jest.spyOn(keychain, 'holdUnusedSpaceZeroing').mockReturnValue(released);
    const batches = jest.spyOn(keychain, 'transaction');
    expect((await sweepDueDestructions(keychain, clock.nowMs(), { batchSize: 2 })).destroyed).toBe(5);
    expect(hold).toHaveBeenCalledTimes(1);
    expect(released).toHaveBeenCalledTimes(1);
    expect(batches.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(released.mock.invocationCallOrder[0]).toBeGreaterThan(Math.max(...batches.mock.invocationCallOrder));
    expect(hold.mock.invocationCallOrder[0]).toBeLessThan(Math.min(...batches.mock.invocationCallOrder));
  });

  it('refuses to schedule the destruction of an Active instance, and destroys at once with no wait', () => {
    expect(codeOf(() => lifecycle.scheduleDestruction({ fullName: 'd/k' }, DAY))).toBe('WRONG_STATE');
    lifecycle.revoke({ fullName: 'd/k' }, 'keyCompromise');
    expect(lifecycle.scheduleDestruction({ fullName: 'd/k' }, 0).state).toBe('DestroyedCompromised');
  });
});
