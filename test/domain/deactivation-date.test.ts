/**
 * A deactivation date given at creation (the native `processStopAt`, KMIP's
 * Deactivation Date; domain/usage-dates.ts), with an injected clock: the
 * instance decrypts up to it and not from it, the usage-period sweep makes
 * it Deactivated at it, a PreActive instance keeps it through a later
 * activation, the earlier of it and the key's process period holds, and it
 * is kept under the row MAC (an edited date fails verification).
 */
import { ManualClock } from '../../common/clock';
import { CryptoService } from '../../domain/crypto-service';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { LifecycleService } from '../../domain/lifecycle-service';
import { instanceRowMac, verifyInstanceRow } from '../../domain/row-mac';
import { parseUsageDates } from '../../domain/usage-dates';
import { sweepDueProcessStops } from '../../domain/usage-period-sweep';
import { parseUsagePeriods } from '../../domain/usage-periods';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { InstanceRecord } from '../../storage/records';
import { codeOf } from '../support/error-code';
import { instance } from '../storage/store-fixtures';

describe('a deactivation date given at creation (processStopAt)', () => {
  let clock: ManualClock;
  let keychain: Keychain;
  let crypto: CryptoService;
  let lifecycle: LifecycleService;

  beforeEach(async () => {
    clock = new ManualClock(new Date('2026-01-10T09:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock, timeZone: 'UTC' });
    await keychain.unseal(hsm);
    crypto = new CryptoService(keychain, clock);
    lifecycle = new LifecycleService(keychain, clock);
  });

  it('decrypts until the date, refuses from it, and the sweep makes the instance Deactivated at that date', async () => {
    keychain.createKey({ fullName: 'u/k', algorithm: 'AES-256', usageDates: parseUsageDates(undefined, undefined, '2026-01-12T00:00:00+01:00') });
    expect(keychain.describeInstance({ fullName: 'u/k' }).processStopAt).toBe('2026-01-11T23:00:00.000Z');
    const sealed = crypto.encrypt('u/k', Buffer.from('x'));
    clock.set(new Date('2026-01-11T22:59:59.999Z'));
    expect(crypto.decrypt('u/k', sealed.ciphertext).plaintext.toString()).toBe('x');
    expect(await sweepDueProcessStops(keychain, clock.nowMs())).toEqual({ deactivated: 0, failed: 0 });
    clock.set(new Date('2026-01-11T23:00:00Z'));
    expect(codeOf(() => crypto.decrypt('u/k', sealed.ciphertext))).toBe('WRONG_STATE');
    expect(codeOf(() => crypto.encrypt('u/k', Buffer.from('y')))).toBe('WRONG_STATE');
    expect(await sweepDueProcessStops(keychain, clock.nowMs())).toEqual({ deactivated: 1, failed: 0 });
    const instance = keychain.describeInstance({ fullName: 'u/k' });
    expect(instance.state).toBe('Deactivated');
    expect(instance.deactivatedAt).toBe('2026-01-11T23:00:00.000Z');
  });

  it('takes a date already past: the instance is Deactivated by the next sweep', async () => {
    keychain.createKey({ fullName: 'u/old', algorithm: 'AES-256', usageDates: parseUsageDates(undefined, undefined, '2000-02-03T00:00:00+10:00') });
    expect(codeOf(() => crypto.encrypt('u/old', Buffer.from('y')))).toBe('WRONG_STATE');
    await sweepDueProcessStops(keychain, clock.nowMs());
    expect(keychain.describeInstance({ fullName: 'u/old' })).toMatchObject({ state: 'Deactivated', deactivatedAt: '2000-02-02T14:00:00.000Z' });
  });

  it('keeps the date of a PreActive instance through its activation, and the earlier of it and the key\'s process period', () => {
    keychain.createKey({ fullName: 'u/later', algorithm: 'AES-256', activate: false, usagePeriods: parseUsagePeriods(null, 'P30D'), usageDates: parseUsageDates(undefined, undefined, '2026-01-15T00:00:00Z') });
    keychain.createKey({ fullName: 'u/long', algorithm: 'AES-256', activate: false, usagePeriods: parseUsagePeriods(null, 'P30D'), usageDates: parseUsageDates(undefined, undefined, '2027-01-01T00:00:00Z') });
    expect(keychain.describeInstance({ fullName: 'u/later' })).toMatchObject({ state: 'PreActive', processStopAt: '2026-01-15T00:00:00.000Z' });
    expect(lifecycle.activate({ fullName: 'u/later' }).processStopAt).toBe('2026-01-15T00:00:00.000Z');
    expect(lifecycle.activate({ fullName: 'u/long' }).processStopAt).toBe('2026-02-09T00:00:00.000Z');
  });

  it('refuses a date without a zone, and one not after the process-start date (the key would never process)', () => {
    expect(codeOf(() => parseUsageDates(undefined, undefined, '2026-01-01T00:00:00'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseUsageDates(undefined, '2026-02-01T00:00:00Z', '2026-02-01T00:00:00Z'))).toBe('INVALID_ARGUMENT');
    expect(parseUsageDates(undefined, '2026-02-01T00:00:00Z', '2026-02-01T00:00:01Z').processStopAt).toBe('2026-02-01T00:00:01.000Z');
  });

  it('keeps the date under the instance row MAC (process_stop_at, a v1 field): an edited or erased date fails verification', () => {
    const macKey = Buffer.alloc(32, 7);
    const row = instance('k1', 1);
    const dated: InstanceRecord = { ...row, processStopAt: '2026-03-01T00:00:00.000Z' };
    const signed: InstanceRecord = { ...dated, rowMac: instanceRowMac(macKey, 'chain', dated) };
    expect(verifyInstanceRow(macKey, 'chain', signed)).toBe(signed);
    expect(codeOf(() => verifyInstanceRow(macKey, 'chain', { ...signed, processStopAt: '2027-03-01T00:00:00.000Z' }))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(() => verifyInstanceRow(macKey, 'chain', { ...signed, processStopAt: null }))).toBe('INTEGRITY_FAILURE');
  });
});
