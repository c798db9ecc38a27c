/** SP 800-57 usage periods enforced from the dates alone, with an injected clock. */
import { ManualClock } from '../../common/clock';
import { CryptoService } from '../../domain/crypto-service';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { LifecycleService } from '../../domain/lifecycle-service';
import { sweepDueProcessStops } from '../../domain/usage-period-sweep';
import { parseUsagePeriods } from '../../domain/usage-periods';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { codeOf } from '../support/error-code';

describe('usage periods', () => {
  let clock: ManualClock;
  let keychain: Keychain;
  let crypto: CryptoService;

  beforeEach(async () => {
    clock = new ManualClock(new Date('2026-01-10T09:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock, timeZone: 'UTC' });
    await keychain.unseal(hsm);
    crypto = new CryptoService(keychain, clock);
  });

  it('stops encrypting at protect-stop and decrypting at process-stop without any operator action, and is Deactivated at process-stop', async () => {
    const created = keychain.createKey({ fullName: 'u/k', algorithm: 'AES-256', usagePeriods: parseUsagePeriods('P30D', 'P90D') });
    expect(created.instances[0]).toMatchObject({ protectStopAt: '2026-02-09T00:00:00.000Z', processStopAt: '2026-04-10T00:00:00.000Z' });
    const sealed = crypto.encrypt('u/k', Buffer.from('x'));
    clock.set(new Date('2026-02-08T23:59:59.999Z'));
    expect(codeOf(() => crypto.encrypt('u/k', Buffer.from('y')))).toBe('NO_ERROR');
    clock.set(new Date('2026-02-09T00:00:00Z'));
    expect(codeOf(() => crypto.encrypt('u/k', Buffer.from('y')))).toBe('WRONG_STATE');
    expect(codeOf(() => crypto.generateDataKey('u/k', 256))).toBe('WRONG_STATE');
    expect(crypto.decrypt('u/k', sealed.ciphertext).plaintext.toString()).toBe('x');
    expect(keychain.describeInstance({ fullName: 'u/k' }).state).toBe('Active');
    expect((await sweepDueProcessStops(keychain, clock.nowMs())).deactivated).toBe(0);
    clock.set(new Date('2026-04-09T23:59:59.999Z'));
    expect(crypto.decrypt('u/k', sealed.ciphertext).plaintext.toString()).toBe('x');
    clock.set(new Date('2026-04-10T00:00:00Z'));
    expect(codeOf(() => crypto.decrypt('u/k', sealed.ciphertext))).toBe('WRONG_STATE'); // refused by the date, before any sweep
    expect((await sweepDueProcessStops(keychain, clock.nowMs())).deactivated).toBe(1);
    expect(keychain.describeInstance({ fullName: 'u/k' })).toMatchObject({ state: 'Deactivated', deactivatedAt: '2026-04-10T00:00:00.000Z' });
    expect(codeOf(() => crypto.decrypt('u/k', sealed.ciphertext))).toBe('WRONG_STATE');
    expect((await sweepDueProcessStops(keychain, clock.nowMs())).deactivated).toBe(0);
  });

  it('starts the periods when a PreActive instance is activated, and refuses a process period shorter than the protect one', () => {
    keychain.createKey({ fullName: 'u/later', algorithm: 'AES-256', activate: false, usagePeriods: parseUsagePeriods('P1D', null) });
    expect(keychain.describeInstance({ fullName: 'u/later' }).protectStopAt).toBeNull();
    clock.set(new Date('2026-03-01T12:00:00Z'));
    expect(new LifecycleService(keychain, clock).activate({ fullName: 'u/later' }).protectStopAt).toBe('2026-03-02T00:00:00.000Z');
    expect(codeOf(() => keychain.createKey({ fullName: 'u/bad', algorithm: 'AES-256', usagePeriods: parseUsagePeriods('P90D', 'P30D') }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseUsagePeriods('soon', null))).toBe('INVALID_ARGUMENT');
  });

  it('applies new periods to instances activated after the change', () => {
    keychain.createKey({ fullName: 'u/p', algorithm: 'AES-256' });
    const changed = keychain.setRolloverPolicy('u/p', { kind: 'manual', cryptoperiod: null }, parseUsagePeriods('P7D', 'P14D'));
    expect(changed.key).toMatchObject({ protectPeriod: 'P7D', processPeriod: 'P14D' });
    expect(changed.instances[0].protectStopAt).toBeNull();
    const rolled = keychain.rollover('u/p');
    expect(rolled.instances[1]).toMatchObject({ protectStopAt: '2026-01-17T00:00:00.000Z', processStopAt: '2026-01-24T00:00:00.000Z' });
  });
});
