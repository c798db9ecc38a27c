/**
 * Activation dates (issue 16, item 9 c; KMIP Activation Date, SP 800-57
 * pre-activation): a key created or an instance made by a rollover with a
 * future activation date is PreActive until then; the sweep activates it
 * when the date comes (a rollover's successor becomes current then and the
 * instance it replaces is Deactivated); Activate does it sooner; the date is
 * part of the authenticated row. On the fast fakes with an injected clock.
 */
import { ManualClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { sweepDueActivations } from '../../domain/activation-sweep';
import { sweepDueRollovers } from '../../domain/rollover-scheduler';
import { LifecycleService } from '../../domain/lifecycle-service';
import { parseActivationDate } from '../../domain/keys/instance-activation';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { rejectionCode } from '../support/error-code';

const START = '2026-06-10T09:00:00.000Z';
const LATER = '2026-06-12T00:00:00.000Z';

async function keychainAt(start: string): Promise<{ keychain: Keychain; clock: ManualClock; store: MemoryStore; lifecycle: LifecycleService }> {
  const clock = new ManualClock(new Date(start));
  const hsm = new SoftHsm();
  const store = new MemoryStore();
  await initializeKeychain(store, hsm, clock, randomIds);
  const keychain = new Keychain({ store, clock, timeZone: 'UTC' });
  await keychain.unseal(hsm);
  return { keychain, clock, store, lifecycle: new LifecycleService(keychain, clock) };
}

describe('activation dates', () => {
  it('parses only ISO 8601 date-times with a zone, in the future', () => {
    const now = Date.parse(START);
    expect(parseActivationDate('2026-06-12T02:00:00+02:00', now)).toBe(LATER);
    for (const bad of ['2026-06-12', '2026-06-12T00:00:00', 'tomorrow', '2026-13-40T00:00:00Z']) {
      expect(() => parseActivationDate(bad, now)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(() => parseActivationDate(START, now)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('creates a PreActive key that refuses use, and the sweep activates it on its date (not a millisecond before)', async () => {
    const { keychain, clock } = await keychainAt(START);
    const created = keychain.createKey({ fullName: 'fy/ledger', algorithm: 'AES-256', rollover: { kind: 'auto', cryptoperiod: 'P1D' }, activateAt: LATER });
    expect(created.instances[0]).toMatchObject({ state: 'PreActive', activatedAt: null, activatesAt: LATER, current: true });
    expect(created.key.nextRolloverAt).toBeNull();
    // Its material may be distributed ahead of its date; it does no cryptography until then.
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'fy/ledger' }))).toBe('NO_ERROR');
    expect(await sweepDueActivations(keychain, Date.parse(LATER) - 1)).toEqual({ activated: 0, failed: 0 });
    clock.set(Date.parse(LATER) + 60_000);
    expect(await sweepDueActivations(keychain, clock.nowMs())).toEqual({ activated: 1, failed: 0 });
    const after = keychain.describeKey('fy/ledger');
    expect(after.instances[0]).toMatchObject({ state: 'Active', activatedAt: new Date(clock.nowMs()).toISOString(), activatesAt: null });
    // The cryptoperiod counts from the activation.
    expect(after.key.nextRolloverAt).toBe('2026-06-13T00:00:00.000Z');
    keychain.getKey({ fullName: 'fy/ledger' }).material.fill(0);
    expect(await sweepDueActivations(keychain, clock.nowMs())).toEqual({ activated: 0, failed: 0 });
  });

  it('keeps the current instance current until a dated rollover\'s successor activates, then swaps them in one step', async () => {
    const { keychain, clock } = await keychainAt(START);
    keychain.createKey({ fullName: 'hr/payroll', algorithm: 'AES-256' });
    const rolled = keychain.rollover('hr/payroll', undefined, LATER);
    expect(rolled.key.currentVersion).toBe(1);
    expect(rolled.instances.map((i) => [i.version, i.state, i.current, i.activatesAt])).toEqual([
      [1, 'Active', true, null],
      [2, 'PreActive', false, LATER],
    ]);
    // Apps keep getting v1; a second rollover waits for the first.
    const served = keychain.getKey({ fullName: 'hr/payroll' });
    expect(served.instance.version).toBe(1);
    served.material.fill(0);
    expect(await rejectionCode(() => keychain.rollover('hr/payroll'))).toBe('WRONG_STATE');
    expect(await rejectionCode(() => keychain.rollover('hr/payroll', undefined, '2027-01-01T00:00:00Z'))).toBe('WRONG_STATE');
    clock.set(Date.parse(LATER));
    expect(await sweepDueActivations(keychain, clock.nowMs())).toMatchObject({ activated: 1 });
    const after = keychain.describeKey('hr/payroll');
    expect(after.key.currentVersion).toBe(2);
    expect(after.instances.map((i) => [i.version, i.state, i.current])).toEqual([
      [1, 'Deactivated', false],
      [2, 'Active', true],
    ]);
    expect(after.instances[0].deactivatedAt).toBe(LATER);
    expect(after.instances[1].activatedAt).toBe(LATER);
    // The swap is a renewal like any other: it can be undone.
    expect(keychain.undoRollover('hr/payroll').key.currentVersion).toBe(1);
  });

  it('lets Activate make the successor current before its date', async () => {
    const { keychain, clock, lifecycle } = await keychainAt(START);
    keychain.createKey({ fullName: 'hr/bonus', algorithm: 'AES-256' });
    const pending = keychain.rollover('hr/bonus', undefined, LATER).instances[1];
    clock.advance(3_600_000);
    const activated = lifecycle.activate({ instance: pending.name });
    expect(activated).toMatchObject({ state: 'Active', current: true, activatedAt: new Date(clock.nowMs()).toISOString(), activatesAt: null });
    expect(keychain.describeKey('hr/bonus').instances[0].state).toBe('Deactivated');
    // Nothing is left for the sweep on the date.
    expect(await sweepDueActivations(keychain, Date.parse(LATER))).toEqual({ activated: 0, failed: 0 });
    expect(keychain.describeKey('hr/bonus').key.currentVersion).toBe(2);
  });

  it('hands an auto key\'s due rollover to its waiting successor instead of making a second new instance', async () => {
    const { keychain } = await keychainAt(START);
    keychain.createKey({ fullName: 'tok/daily', algorithm: 'HMAC-SHA256', rollover: { kind: 'auto', cryptoperiod: 'P1D' } });
    keychain.rollover('tok/daily', undefined, '2026-06-20T00:00:00Z');
    // The cryptoperiod ends at 2026-06-11T00:00Z, before the successor's date.
    expect(await sweepDueRollovers(keychain, Date.parse('2026-06-11T00:00:00Z'))).toMatchObject({ rolled: 1 });
    const after = keychain.describeKey('tok/daily');
    expect(after.instances.map((i) => [i.version, i.state, i.current])).toEqual([
      [1, 'Deactivated', false],
      [2, 'Active', true],
    ]);
    expect(after.key.nextRolloverAt).toBe('2026-06-12T00:00:00.000Z');
  });

  it('does not activate a successor whose destruction is pending, and a destroyed one loses its date', async () => {
    const { keychain, clock, lifecycle } = await keychainAt(START);
    keychain.createKey({ fullName: 'x/k', algorithm: 'AES-256' });
    const pending = keychain.rollover('x/k', undefined, LATER).instances[1];
    keychain.scheduleDestruction({ instance: pending.name }, '2026-06-30T00:00:00Z');
    clock.set(Date.parse(LATER));
    expect(await sweepDueActivations(keychain, clock.nowMs())).toEqual({ activated: 0, failed: 0 });
    expect(keychain.describeKey('x/k').key.currentVersion).toBe(1);
    expect(lifecycle.destroy({ instance: pending.name })).toMatchObject({ state: 'Destroyed', activatedAt: null, activatesAt: null });
    // With the successor gone, the key rolls over again.
    expect(keychain.rollover('x/k').key.currentVersion).toBe(3);
  });

  it('clears the date of a successor passed over while its destruction was pending, once it is cancelled (it can never become current)', async () => {
    const { keychain } = await keychainAt(START);
    keychain.createKey({ fullName: 'tok/daily', algorithm: 'HMAC-SHA256', rollover: { kind: 'auto', cryptoperiod: 'P1D' } });
    const pending = keychain.rollover('tok/daily', undefined, '2026-06-20T00:00:00Z').instances[1];
    keychain.scheduleDestruction({ instance: pending.name }, '2026-06-30T00:00:00Z');
    // The cryptoperiod ends while the successor's destruction is pending: a new instance (v3) becomes current past it.
    expect(await sweepDueRollovers(keychain, Date.parse('2026-06-11T00:00:00Z'))).toMatchObject({ rolled: 1 });
    keychain.scheduleDestruction({ instance: pending.name }, null); // DestroyCancel
    const at = Date.parse('2026-06-21T00:00:00Z');
    expect(keychain.dueActivations(at, 10)).toHaveLength(1);
    expect(await sweepDueActivations(keychain, at)).toEqual({ activated: 0, failed: 0 });
    // Listed once, never again (the sweep would otherwise write an empty intent at every check); still PreActive, v3 still current.
    expect(keychain.dueActivations(at, 10)).toEqual([]);
    const described = keychain.describeKey('tok/daily');
    expect(described.key.currentVersion).toBe(3);
    expect(described.instances.find((i) => i.name === pending.name)).toMatchObject({ state: 'PreActive', activatesAt: null });
  });

  it('refuses an edited activation date: the date is in the row MAC', async () => {
    const { keychain, store } = await keychainAt(START);
    keychain.createKey({ fullName: 'm/k', algorithm: 'AES-256', activateAt: '2030-01-01T00:00:00Z' });
    const row = store.listInstances(keychain.describeKey('m/k').key.id)[0];
    // An attacker with the file moves the date into the past, to have the sweep activate the key now.
    store.updateInstanceState({ instanceId: row.id, state: 'PreActive', activatedAt: START, rowMac: row.rowMac });
    expect(await sweepDueActivations(keychain, Date.parse(LATER))).toEqual({ activated: 0, failed: 1 });
    expect(store.getInstanceById(row.id)?.state).toBe('PreActive');
  });
});
