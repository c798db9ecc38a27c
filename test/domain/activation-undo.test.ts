/**
 * Undoing an activation (domain/keys/activation-undo.ts; docs/kmip.md
 * §3.12): the record an activation hands back restores the instance's
 * state, activation date and stop dates and an `auto` key's next rollover,
 * leaving rows that authenticate as they did; it fails closed on rows
 * changed since, on a record used twice, and on a pending successor's
 * activation. On the fast fakes with an injected clock.
 */
import { ManualClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { ActivationRecord, Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { LifecycleService } from '../../domain/lifecycle-service';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { rejectionCode } from '../support/error-code';

const START = '2026-06-10T09:00:00.000Z';
const LATER = '2026-06-12T00:00:00.000Z';

async function keychainAt(start: string): Promise<{ keychain: Keychain; clock: ManualClock; lifecycle: LifecycleService }> {
  const clock = new ManualClock(new Date(start));
  const hsm = new SoftHsm();
  const store = new MemoryStore();
  await initializeKeychain(store, hsm, clock, randomIds);
  const keychain = new Keychain({ store, clock, timeZone: 'UTC' });
  await keychain.unseal(hsm);
  return { keychain, clock, lifecycle: new LifecycleService(keychain, clock) };
}

/** Activates `fullName`'s current instance and returns the record the activation handed back. */
function activated(lifecycle: LifecycleService, fullName: string): ActivationRecord {
  const records: ActivationRecord[] = [];
  lifecycle.activate({ fullName }, (record) => records.push(record));
  expect(records).toHaveLength(1);
  return records[0];
}

describe('undoing an activation', () => {
  it('restores the instance (state, activation date, stop dates) and an auto key\'s next rollover, as rows that authenticate', async () => {
    const { keychain, clock, lifecycle } = await keychainAt(START);
    keychain.createKey({ fullName: 'u/auto', algorithm: 'AES-256', rollover: { kind: 'auto', cryptoperiod: 'P1D' }, activateAt: LATER, usagePeriods: { protectPeriod: 'P10D', processPeriod: 'P20D' } });
    const before = keychain.describeKey('u/auto');
    clock.set(Date.parse(START) + 60_000);
    const record = activated(lifecycle, 'u/auto');
    const active = keychain.describeKey('u/auto');
    expect(active.instances[0].state).toBe('Active');
    expect(active.key.nextRolloverAt).not.toBe(before.key.nextRolloverAt);
    expect(active.instances[0]).not.toMatchObject({ protectStopAt: before.instances[0].protectStopAt });

    const undone = lifecycle.undoActivation(record);
    expect(undone).toMatchObject({ state: 'PreActive', activatesAt: LATER });
    const after = keychain.describeKey('u/auto');
    expect(after.instances).toEqual(before.instances);
    expect(after.key.nextRolloverAt).toBe(before.key.nextRolloverAt);
    // The rows read back through their MACs (describeKey checks them); and the key can be activated again.
    expect(activated(lifecycle, 'u/auto').before.state).toBe('PreActive');
  });

  it('fails closed: a record used twice, or rows changed since the activation, is WRONG_STATE and changes nothing', async () => {
    const { keychain, lifecycle } = await keychainAt(START);
    keychain.createKey({ fullName: 'u/once', algorithm: 'AES-256', activateAt: LATER });
    const record = activated(lifecycle, 'u/once');
    lifecycle.undoActivation(record);
    expect(await rejectionCode(() => lifecycle.undoActivation(record))).toBe('WRONG_STATE');
    expect(keychain.describeKey('u/once').instances[0].state).toBe('PreActive');

    keychain.createKey({ fullName: 'u/revoked', algorithm: 'AES-256', activateAt: LATER });
    const revokedRecord = activated(lifecycle, 'u/revoked');
    lifecycle.revoke({ fullName: 'u/revoked' }, 'cessationOfOperation');
    expect(await rejectionCode(() => lifecycle.undoActivation(revokedRecord))).toBe('WRONG_STATE');
    expect(keychain.describeKey('u/revoked').instances[0].state).toBe('Deactivated');
  });

  it('refuses to undo a pending successor\'s activation (it also moved the current instance and deactivated the previous one)', async () => {
    const { keychain, lifecycle } = await keychainAt(START);
    keychain.createKey({ fullName: 'u/rolled', algorithm: 'AES-256' });
    const successor = keychain.rollover('u/rolled', undefined, LATER).instances.find((i) => i.state === 'PreActive')!;
    const records: ActivationRecord[] = [];
    lifecycle.activate({ instance: successor.name }, (record) => records.push(record));
    expect(records.map((r) => r.inPlace)).toEqual([false]);
    expect(await rejectionCode(() => lifecycle.undoActivation(records[0]))).toBe('WRONG_STATE');
    expect(keychain.describeKey('u/rolled').key.currentInstance).toBe(successor.name);
  });
});
