/** The retention sweep with an injected clock: replaced instances get a cancellable destruction once their retention is over, once. */
import { ManualClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { sweepExpiredRetention } from '../../domain/retention-sweep';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';

const DAY = 86_400_000;
const RETENTION = 30 * DAY;
const DESTRUCTION_WAIT = 7 * DAY;

describe('retention sweep', () => {
  let clock: ManualClock;
  let keychain: Keychain;

  beforeEach(async () => {
    clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
  });

  const sweep = (scheduled: string[] = []): Promise<{ scheduled: number; failed: number }> =>
    sweepExpiredRetention(keychain, clock.nowMs() - RETENTION, clock.nowMs() + DESTRUCTION_WAIT, { onScheduled: (instance) => scheduled.push(instance.name) });

  it('schedules the destruction of every replaced instance once its retention is over, and of no current one', async () => {
    for (let i = 0; i < 3; i++) {
      keychain.createKey({ fullName: `r/k${i}`, algorithm: 'AES-256' });
      keychain.rollover(`r/k${i}`);
    }
    keychain.createKey({ fullName: 'r/never-rolled', algorithm: 'AES-256' });
    clock.advance(RETENTION - 1);
    expect(await sweep()).toEqual({ scheduled: 0, failed: 0 });

    clock.advance(1);
    const reported: string[] = [];
    expect(await sweep(reported)).toEqual({ scheduled: 3, failed: 0 });
    for (let i = 0; i < 3; i++) {
      const [replaced, current] = keychain.describeKey(`r/k${i}`).instances;
      expect(replaced).toMatchObject({ state: 'Deactivated', hasMaterial: true, destroyAt: '2026-02-07T00:00:00.000Z' });
      expect(current).toMatchObject({ state: 'Active', current: true, destroyAt: null });
      expect(reported).toContain(replaced.name);
    }
    expect(reported).toHaveLength(3);
    expect(keychain.describeKey('r/never-rolled').instances[0].destroyAt).toBeNull();
    expect(await sweep()).toEqual({ scheduled: 0, failed: 0 });
  });
});
