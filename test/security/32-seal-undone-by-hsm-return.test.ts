/**
 * Attack 32: an officer's Seal undone by the HSM watch (docs/resilience.md).
 *
 * The HSM goes away and the watch seals the appliance (it was unsealed: the
 * watch remembers it sealed it, to unseal it when the token returns). While
 * the token is out, an officer who suspects a compromise sends Seal: the
 * keychain is already sealed, so the Seal changes nothing visible. When the
 * token comes back the watch unseals the keychain by itself, and the
 * officer's Seal is silently undone: keys are served again although the
 * last word of an officer was "stop". An integrity failure that seals the
 * keychain meanwhile is undone the same way.
 *
 * The rule: the watch unseals only a keychain nothing else sealed since its
 * own seal (Keychain.sealGeneration, bumped by every seal whatever sealed
 * it); otherwise it stays sealed and the return is recorded with recovery
 * `none`. Also shown to hold: a restore's seal-until-restart is never lifted
 * by the watch (an unseal is refused while the hold stands).
 */
import { ManualClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { AuditEvent } from '../../domain/audit/audit-event';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { SoftHsm } from '../../hsm/soft-hsm';
import { HsmWatch } from '../../server/compose/hsm-watch';
import { Appliance } from '../../server/compose/open-appliance';
import { MemoryStore } from '../../storage/memory-store';
import { ManualTimers } from '../support/manual-timers';
import { vanishingHsm } from '../support/vanishing-hsm';

async function rig(): Promise<{ watch: HsmWatch; keychain: Keychain; token: { gone: boolean }; events: AuditEvent[] }> {
  const clock = new ManualClock(Date.UTC(2026, 11, 7));
  const store = new MemoryStore();
  const hsm = new SoftHsm();
  await initializeKeychain(store, hsm, clock, randomIds);
  const keychain = new Keychain({ store, clock });
  await keychain.unseal(hsm);
  const token = { gone: false };
  // Every call fails as a removed token's does while `token.gone`.
  const port = vanishingHsm(hsm, token);
  const appliance = { store, keychain, hsm: async () => port, resetHsm: async () => undefined } as unknown as Appliance;
  const events: AuditEvent[] = [];
  const watch = new HsmWatch({ appliance, clock, timers: new ManualTimers(clock), log: silentLogger, stamper: { clock, newId: () => randomIds.newId() }, record: async (e) => void events.push(e) });
  return { watch, keychain, token, events };
}

describe('attack 32: a seal made while the HSM is gone, undone when it returns', () => {
  it("keeps the keychain sealed when an officer sealed it while the watch held it sealed", async () => {
    const r = await rig();
    r.token.gone = true;
    await r.watch.check();
    expect(r.keychain.isSealed).toBe(true);
    // The officer's Seal (UnsealService.seal: keychain.seal()) while the token is out.
    r.keychain.seal();
    r.token.gone = false;
    await r.watch.check();
    expect(r.keychain.isSealed).toBe(true);
    expect(r.watch.status()).toMatchObject({ state: 'ok' });
    expect(r.events.map((e) => [e.type, e.custom?.recovery])).toEqual([
      ['seal', undefined],
      ['hsm-returned', 'none'],
    ]);
  });

  it("holds: a restore's seal-until-restart stays when the HSM returns", async () => {
    const r = await rig();
    r.token.gone = true;
    await r.watch.check();
    r.keychain.sealUntilRestart('a backup restore is being applied');
    r.token.gone = false;
    await r.watch.check();
    expect(r.keychain.isSealed).toBe(true);
    await r.watch.check();
    expect(r.keychain.isSealed).toBe(true);
  });
});
