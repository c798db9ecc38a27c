/**
 * Usage dates given at creation (domain/usage-dates.ts), with an injected
 * clock: a process-start date holds back decryption until it comes, with
 * no operator; a given protect-stop date and the key's protect period,
 * the earlier holds; the row MAC of an instance without a process-start
 * date is the v1 MAC (no re-MAC at upgrade), and an edited date fails it.
 */
import { createHmac } from 'node:crypto';
import { ManualClock } from '../../common/clock';
import { CryptoService } from '../../domain/crypto-service';
import { encodeFields } from '../../domain/field-encoding';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { instanceRowMac, verifyInstanceRow } from '../../domain/row-mac';
import { parseUsageDates } from '../../domain/usage-dates';
import { parseUsagePeriods } from '../../domain/usage-periods';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { InstanceRecord } from '../../storage/records';
import { codeOf } from '../support/error-code';
import { instance } from '../storage/store-fixtures';

describe('usage dates given at creation', () => {
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

  it('refuses decryption before the process-start date and allows it from then, without an operator; encryption is not held back', () => {
    keychain.createKey({ fullName: 'u/k', algorithm: 'AES-256', usageDates: parseUsageDates(undefined, '2026-01-11T00:00:00+01:00') });
    expect(keychain.describeInstance({ fullName: 'u/k' }).processStartAt).toBe('2026-01-10T23:00:00.000Z');
    const sealed = crypto.encrypt('u/k', Buffer.from('x'));
    clock.set(new Date('2026-01-10T22:59:59.999Z'));
    expect(codeOf(() => crypto.decrypt('u/k', sealed.ciphertext))).toBe('WRONG_STATE');
    clock.set(new Date('2026-01-10T23:00:00Z'));
    expect(crypto.decrypt('u/k', sealed.ciphertext).plaintext.toString()).toBe('x');
  });

  it('keeps the earlier of a given protect-stop date and the key\'s protect period, at creation and at a later activation', () => {
    const early = keychain.createKey({ fullName: 'u/early', algorithm: 'AES-256', usagePeriods: parseUsagePeriods('P30D', null), usageDates: parseUsageDates('2026-01-20T00:00:00Z', undefined) });
    expect(early.instances[0].protectStopAt).toBe('2026-01-20T00:00:00.000Z');
    const late = keychain.createKey({ fullName: 'u/late', algorithm: 'AES-256', usagePeriods: parseUsagePeriods('P30D', null), usageDates: parseUsageDates('2027-01-01T00:00:00Z', undefined) });
    expect(late.instances[0].protectStopAt).toBe('2026-02-09T00:00:00.000Z');
    clock.set(new Date('2026-01-20T00:00:00Z'));
    expect(codeOf(() => crypto.encrypt('u/early', Buffer.from('y')))).toBe('WRONG_STATE');
    expect(codeOf(() => crypto.encrypt('u/late', Buffer.from('y')))).toBe('NO_ERROR');
  });

  it('refuses a date without a zone, and takes dates in the past', () => {
    expect(codeOf(() => parseUsageDates('2026-01-01T00:00:00', undefined))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseUsageDates(undefined, 'soon'))).toBe('INVALID_ARGUMENT');
    expect(parseUsageDates('2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z')).toEqual({ protectStopAt: '2000-01-01T00:00:00.000Z', processStartAt: '2000-01-01T00:00:00.000Z', processStopAt: null });
  });

  it('MACs a row without a process-start date as schema v6 did, and one with it so that an edit of the date fails verification', () => {
    const macKey = Buffer.alloc(32, 9);
    const row = instance('k1', 1);
    const v1 = createHmac('sha256', macKey)
      .update(encodeFields(['strongroom/instance-row/v1', 'chain', row.id, row.keyId, row.name, row.version, row.state, row.sealVersion, 'material', row.createdAt, row.activatedAt, row.deactivatedAt, row.destroyedAt, row.destroyAt, row.protectStopAt, row.processStopAt]))
      .digest();
    expect(instanceRowMac(macKey, 'chain', row).equals(v1)).toBe(true);
    const dated: InstanceRecord = { ...row, processStartAt: '2026-02-01T00:00:00.000Z' };
    const signed: InstanceRecord = { ...dated, rowMac: instanceRowMac(macKey, 'chain', dated) };
    expect(signed.rowMac.equals(v1)).toBe(false);
    expect(verifyInstanceRow(macKey, 'chain', signed)).toBe(signed);
    expect(codeOf(() => verifyInstanceRow(macKey, 'chain', { ...signed, processStartAt: '2026-01-01T00:00:00.000Z' }))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(() => verifyInstanceRow(macKey, 'chain', { ...signed, processStartAt: null }))).toBe('INTEGRITY_FAILURE');
  });
});
