/**
 * The HSM watch's decisions (server/compose/hsm-watch.ts) on an in-memory
 * keychain and soft HSM whose token can be made to vanish (every call fails
 * as a removed token does): the tick of the injected timers probes; a
 * keychain bound to custodian shares is sealed by the loss and stays sealed
 * when the HSM returns (the custodians must unseal it); one sealed on
 * request before the loss is never unsealed by the watch; every probe while
 * the HSM is gone replaces the dead session. The whole path on a real
 * SoftHSM2 token and server: test/integration/hsm-gone.test.ts.
 */
import { ManualClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { AuditEvent } from '../../domain/audit/audit-event';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { makeShareSet } from '../../domain/unseal/split-secret';
import { SoftHsm } from '../../hsm/soft-hsm';
import { HSM_CHECK_INTERVAL_MS, HsmWatch } from '../../server/compose/hsm-watch';
import { Appliance } from '../../server/compose/open-appliance';
import { MemoryStore } from '../../storage/memory-store';
import { ManualTimers } from '../support/manual-timers';
import { vanishingHsm } from '../support/vanishing-hsm';

interface Rig {
  watch: HsmWatch;
  keychain: Keychain;
  hsm: SoftHsm;
  events: AuditEvent[];
  resets: { count: number };
  token: { gone: boolean };
  timers: ManualTimers;
}

async function rig(options: { shares?: Uint8Array } = {}): Promise<Rig> {
  const clock = new ManualClock(Date.UTC(2026, 11, 7));
  const timers = new ManualTimers(clock);
  const store = new MemoryStore();
  const hsm = new SoftHsm();
  await initializeKeychain(store, hsm, clock, randomIds, options.shares ? { secret: options.shares, shares: 3, threshold: 2 } : undefined);
  const keychain = new Keychain({ store, clock });
  await keychain.unseal(hsm, options.shares);
  const token = { gone: false };
  const port = vanishingHsm(hsm, token);
  const resets = { count: 0 };
  const appliance = { store, keychain, hsm: async () => port, resetHsm: async () => void resets.count++ } as unknown as Appliance;
  const events: AuditEvent[] = [];
  const watch = new HsmWatch({ appliance, clock, timers, log: silentLogger, stamper: { clock, newId: () => randomIds.newId() }, record: async (e) => void events.push(e) });
  return { watch, keychain, hsm, events, resets, token, timers };
}

describe('the HSM watch', () => {
  it('probes on each tick of the injected timers and seals when the token is gone', async () => {
    const r = await rig();
    r.watch.start();
    r.token.gone = true;
    await r.timers.advance(HSM_CHECK_INTERVAL_MS - 1);
    await r.watch.settled();
    expect(r.keychain.isSealed).toBe(false); // not yet due
    await r.timers.advance(1);
    await r.watch.settled();
    expect(r.keychain.isSealed).toBe(true);
    expect(r.watch.status()).toMatchObject({ state: 'unavailable', error: 'HSM_ERROR (CKR_DEVICE_REMOVED)', recovery: 'automatic' });
    expect(r.watch.sealReason()).toBe('hsm-unavailable');
    // Each probe while gone drops the dead session for a new one.
    await r.watch.check();
    await r.watch.check();
    expect(r.resets.count).toBe(2);
    await r.watch.stop();
  });

  it('keeps a share-bound keychain sealed when the HSM returns: the custodians unseal it', async () => {
    const set = await makeShareSet(3, 2);
    const r = await rig({ shares: set.secret });
    r.token.gone = true;
    await r.watch.check();
    expect(r.keychain.isSealed).toBe(true);
    expect(r.watch.status()).toMatchObject({ state: 'unavailable', recovery: 'custodians' });
    r.token.gone = false;
    await r.watch.check();
    expect(r.keychain.isSealed).toBe(true);
    expect(r.watch.status()).toMatchObject({ state: 'ok' });
    expect(r.watch.sealReason()).toBeNull(); // sealed now for want of the custodians, not of the HSM
    expect(r.events.map((e) => [e.type, e.custom?.reason, e.custom?.recovery])).toEqual([
      ['seal', 'hsm-unavailable', undefined],
      ['hsm-returned', 'hsm-returned', 'custodians'],
    ]);
    await r.keychain.unseal(r.hsm, set.secret);
    expect(r.keychain.isSealed).toBe(false);
  });

  it('never unseals a keychain that was sealed on request before the HSM went', async () => {
    const r = await rig();
    r.keychain.seal();
    r.token.gone = true;
    await r.watch.check();
    r.token.gone = false;
    await r.watch.check();
    expect(r.keychain.isSealed).toBe(true);
    expect(r.events.map((e) => [e.type, e.custom?.recovery])).toEqual([
      ['seal', undefined],
      ['hsm-returned', 'none'],
    ]);
  });

  it('unseals an HSM-bound keychain it sealed, once the token answers again', async () => {
    const r = await rig();
    r.token.gone = true;
    await r.watch.check();
    r.token.gone = false;
    await r.watch.check();
    expect(r.keychain.isSealed).toBe(false);
    expect(r.events[0].custom).toEqual({ reason: 'hsm-unavailable', error: 'HSM_ERROR (CKR_DEVICE_REMOVED)' });
    expect(r.events.map((e) => [e.type, e.result, e.custom?.reason])).toEqual([
      ['seal', 'HSM_ERROR', 'hsm-unavailable'],
      ['unseal', 'ok', 'hsm-returned'],
    ]);
  });
});
