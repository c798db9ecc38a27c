/**
 * Cryptoperiod-based automatic rollover with an injected clock, on the fast
 * fakes (the crash test runs it on SoftHSM2 and SQLite).
 */
import { ManualClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { sweepDueRollovers } from '../../domain/rollover-scheduler';
import { parseNamespaceDefaults } from '../../domain/rollover-policy';
import { rejectionCode } from '../support/error-code';
import { LifecycleService } from '../../domain/lifecycle-service';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';

async function keychainAt(start: string, timeZone: string): Promise<{ keychain: Keychain; clock: ManualClock }> {
  const clock = new ManualClock(new Date(start));
  const hsm = new SoftHsm();
  const store = new MemoryStore();
  await initializeKeychain(store, hsm, clock, randomIds);
  const keychain = new Keychain({ store, clock, timeZone });
  await keychain.unseal(hsm);
  return { keychain, clock };
}

const auto = (cryptoperiod: string) => ({ kind: 'auto' as const, cryptoperiod });

describe('cryptoperiod rollover', () => {
  it('rolls a 1-day key at the next local midnight and not a millisecond before', async () => {
    const { keychain, clock } = await keychainAt('2026-06-10T09:15:00Z', 'Europe/Paris');
    const created = keychain.createKey({ fullName: 'daily/k', algorithm: 'AES-256', rollover: auto('P1D') });
    // 2026-06-10 local (CEST, UTC+2): the period ends at 2026-06-11 00:00 Paris = 2026-06-10T22:00Z.
    expect(created.key.nextRolloverAt).toBe('2026-06-10T22:00:00.000Z');
    expect(await sweepDueRollovers(keychain, Date.parse('2026-06-10T21:59:59.999Z'))).toMatchObject({ rolled: 0 });
    clock.set(new Date('2026-06-10T22:00:00Z'));
    expect(await sweepDueRollovers(keychain, clock.nowMs())).toMatchObject({ rolled: 1 });
    const after = keychain.describeKey('daily/k');
    expect(after.key.currentVersion).toBe(2);
    expect(after.instances[0].state).toBe('Deactivated');
    expect(after.instances[1].activatedAt).toBe('2026-06-10T22:00:00.000Z');
    expect(after.key.nextRolloverAt).toBe('2026-06-11T22:00:00.000Z');
  });

  it('rolls a 90-day key at the right midnight across the autumn clock change', async () => {
    const { keychain } = await keychainAt('2026-08-01T12:00:00Z', 'Europe/Paris');
    const created = keychain.createKey({ fullName: 'q/k', algorithm: 'AES-256', rollover: auto('P90D') });
    // 2026-08-01 + 90 days = 2026-10-30, after the 2026-10-25 change to CET (UTC+1): 2026-10-29T23:00Z.
    expect(created.key.nextRolloverAt).toBe('2026-10-29T23:00:00.000Z');
  });

  it('rolls across the spring clock change in New York and on a leap day', async () => {
    const ny = await keychainAt('2026-03-07T15:00:00Z', 'America/New_York');
    // 2026-03-07 local; P1D ends 2026-03-08 00:00 EST (before the 02:00 jump) = 05:00Z.
    expect(ny.keychain.createKey({ fullName: 'ny/k', algorithm: 'AES-256', rollover: auto('P1D') }).key.nextRolloverAt).toBe('2026-03-08T05:00:00.000Z');
    const leap = await keychainAt('2028-02-28T10:00:00Z', 'UTC');
    expect(leap.keychain.createKey({ fullName: 'leap/k', algorithm: 'AES-256', rollover: auto('P1D') }).key.nextRolloverAt).toBe('2028-02-29T00:00:00.000Z');
    await sweepDueRollovers(leap.keychain, Date.parse('2028-02-29T00:00:00Z'));
    expect(leap.keychain.describeKey('leap/k').key.nextRolloverAt).toBe('2028-03-01T00:00:00.000Z');
  });

  it('catches up with exactly one new instance after being off for three cryptoperiods', async () => {
    const { keychain, clock } = await keychainAt('2026-01-05T08:00:00Z', 'UTC');
    for (let i = 0; i < 20; i++) keychain.createKey({ fullName: `weekly/k${i}`, algorithm: 'AES-128', rollover: auto('P7D') });
    clock.set(new Date('2026-01-28T03:00:00Z')); // three weekly periods later
    // No time box here: the batch count must not depend on how busy the machine is.
    expect(await sweepDueRollovers(keychain, clock.nowMs(), { batchSize: 6, batchBudgetMs: Number.POSITIVE_INFINITY })).toMatchObject({ rolled: 20, batches: 4 });
    for (let i = 0; i < 20; i++) {
      const key = keychain.describeKey(`weekly/k${i}`);
      expect(key.instances).toHaveLength(2);
      expect(key.key.nextRolloverAt).toBe('2026-02-04T00:00:00.000Z');
    }
    expect(await sweepDueRollovers(keychain, clock.nowMs())).toMatchObject({ rolled: 0 });
  });

  it('is idempotent: a second sweep at the same instant rolls nothing', async () => {
    const { keychain } = await keychainAt('2026-01-01T00:00:00Z', 'UTC');
    keychain.createKey({ fullName: 'idem/k', algorithm: 'AES-256', rollover: auto('P1D') });
    const at = Date.parse('2026-01-02T00:00:00Z');
    expect((await sweepDueRollovers(keychain, at)).rolled).toBe(1);
    expect((await sweepDueRollovers(keychain, at)).rolled).toBe(0);
    expect(keychain.describeKey('idem/k').instances).toHaveLength(2);
  });

  it('leaves manual and none keys alone, and follows a policy change', async () => {
    const { keychain } = await keychainAt('2026-01-01T00:00:00Z', 'UTC');
    keychain.createKey({ fullName: 'm/manual', algorithm: 'AES-256' });
    keychain.createKey({ fullName: 'm/none', algorithm: 'AES-256', rollover: { kind: 'none', cryptoperiod: null } });
    expect(keychain.describeKey('m/manual').key.nextRolloverAt).toBeNull();
    expect((await sweepDueRollovers(keychain, Date.parse('2030-01-01T00:00:00Z'))).rolled).toBe(0);
    const changed = keychain.setRolloverPolicy('m/manual', auto('P30D'));
    expect(changed.key).toMatchObject({ rolloverPolicy: 'auto', cryptoperiod: 'P30D', nextRolloverAt: '2026-01-31T00:00:00.000Z' });
    expect((await sweepDueRollovers(keychain, Date.parse('2026-01-31T00:00:00Z'))).rolled).toBe(1);
    expect(keychain.setRolloverPolicy('m/manual', { kind: 'manual', cryptoperiod: null }).key.nextRolloverAt).toBeNull();
  });

  it('commits its batches without an fsync of their own only when the caller audits them (auditedBatches)', async () => {
    const { keychain, clock } = await keychainAt('2026-01-01T00:00:00Z', 'UTC');
    for (let i = 0; i < 4; i++) keychain.createKey({ fullName: `fsync/k${i}`, algorithm: 'AES-128', rollover: auto('P1D') });
    clock.set(new Date('2026-01-02T00:00:00Z'));
    const spy = jest.spyOn(keychain, 'transaction');
    const batchOptions = (): unknown[] => spy.mock.calls.map(([, options]) => options).filter((options) => options?.batch === true);
    await sweepDueRollovers(keychain, clock.nowMs(), { batchSize: 2, batchBudgetMs: Number.POSITIVE_INFINITY });
    expect(batchOptions()).toEqual([
      { batch: true, durableWithAuditEvent: false },
      { batch: true, durableWithAuditEvent: false },
    ]);
    spy.mockClear();
    clock.set(new Date('2026-01-03T00:00:00Z'));
    await sweepDueRollovers(keychain, clock.nowMs(), { batchSize: 2, batchBudgetMs: Number.POSITIVE_INFINITY, auditedBatches: true, afterBatch: async () => undefined });
    expect(batchOptions()).toEqual([
      { batch: true, durableWithAuditEvent: true },
      { batch: true, durableWithAuditEvent: true },
    ]);
    spy.mockRestore();
  });

  it("runs at most one batch ahead of its audit events: the batch after next waits for them, the end waits for the last, and a failure stops it", async () => {
    const { keychain, clock } = await keychainAt('2026-01-01T00:00:00Z', 'UTC');
    for (let i = 0; i < 8; i++) keychain.createKey({ fullName: `ahead/k${i}`, algorithm: 'AES-128', rollover: auto('P1D') });
    clock.set(new Date('2026-01-02T00:00:00Z'));
    const events: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
    let rolled = 0;
    const sweeping = sweepDueRollovers(keychain, clock.nowMs(), {
      batchSize: 2,
      batchBudgetMs: Number.POSITIVE_INFINITY,
      yieldBetweenBatches: async () => undefined,
      onRolled: () => void rolled++,
      afterBatch: () => new Promise<void>((resolve, reject) => events.push({ resolve, reject })),
    });
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await settle();
    // Batch 1's events are on their way; batch 2 ran meanwhile; batch 3 waits for batch 1's.
    expect({ rolled, asked: events.length }).toEqual({ rolled: 4, asked: 2 });
    events[0].resolve();
    await settle();
    expect({ rolled, asked: events.length }).toEqual({ rolled: 6, asked: 3 });
    // Batch 2's events cannot be written: batch 4 never runs, and the sweep rejects.
    events[1].reject(new Error('trail down'));
    await expect(sweeping).rejects.toThrow('trail down');
    expect(rolled).toBe(6);
    expect(keychain.dueKeys(clock.nowMs(), 10)).toHaveLength(2);
  });

  it("ends only once the last batch's events are durable", async () => {
    const { keychain, clock } = await keychainAt('2026-01-01T00:00:00Z', 'UTC');
    for (let i = 0; i < 2; i++) keychain.createKey({ fullName: `end/k${i}`, algorithm: 'AES-128', rollover: auto('P1D') });
    clock.set(new Date('2026-01-02T00:00:00Z'));
    let release: () => void = () => undefined;
    let ended = false;
    const sweeping = sweepDueRollovers(keychain, clock.nowMs(), {
      batchSize: 2,
      batchBudgetMs: Number.POSITIVE_INFINITY,
      yieldBetweenBatches: async () => undefined,
      afterBatch: () => new Promise<void>((resolve) => (release = resolve)),
    }).then((result) => ((ended = true), result));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    release();
    expect(await sweeping).toMatchObject({ rolled: 2 });
  });

  it('keeps the event loop free between batches', async () => {
    const { keychain, clock } = await keychainAt('2026-01-01T00:00:00Z', 'UTC');
    for (let i = 0; i < 50; i++) keychain.createKey({ fullName: `loop/k${i}`, algorithm: 'AES-128', rollover: auto('P1D') });
    clock.set(new Date('2026-01-02T00:00:00Z'));
    // Count event-loop turns with a self-rescheduling setImmediate: it only
    // advances while the sweep is paused between batches.
    let turns = 0;
    let counting = true;
    const spin = (): void => {
      turns++;
      if (counting) setImmediate(spin);
    };
    setImmediate(spin);
    // The default pause between batches (no yieldBetweenBatches given).
    const result = await sweepDueRollovers(keychain, clock.nowMs(), { batchSize: 5 });
    counting = false;
    // A busy machine may cut a batch short (the time box), giving more batches, never fewer.
    expect(result.rolled).toBe(50);
    expect(result.batches).toBeGreaterThanOrEqual(10);
    expect(turns).toBeGreaterThanOrEqual(result.batches - 1);
  });
});

describe('a PreActive key with an auto policy', () => {
  it('starts its cryptoperiod when it is activated', async () => {
    const { keychain, clock } = await keychainAt('2026-05-01T08:00:00Z', 'UTC');
    const created = keychain.createKey({ fullName: 'pre/k', algorithm: 'AES-256', rollover: auto('P1D'), activate: false });
    expect(created.key.nextRolloverAt).toBeNull();
    clock.set(new Date('2026-05-10T08:00:00Z'));
    new LifecycleService(keychain, clock).activate({ fullName: 'pre/k' });
    expect(keychain.describeKey('pre/k').key.nextRolloverAt).toBe('2026-05-11T00:00:00.000Z');
  });
});

describe('retention of replaced instances', () => {
  it('schedules the destruction of an instance replaced by a rollover once the retention is over, and not before', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    const keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    keychain.createKey({ fullName: 'r/k', algorithm: 'AES-256' });
    keychain.rollover('r/k');
    const retention = 30 * 86_400_000;
    clock.advance(retention - 1);
    expect(keychain.retentionExpired(clock.nowMs() - retention, 10)).toEqual([]);
    clock.advance(1);
    const [id] = keychain.retentionExpired(clock.nowMs() - retention, 10);
    expect(id).toEqual(expect.any(String));
    const scheduled = keychain.scheduleIfRetentionOver(id, clock.nowMs() - retention, clock.nowMs() + 7 * 86_400_000);
    expect(scheduled).toMatchObject({ state: 'Deactivated', destroyAt: '2026-02-07T00:00:00.000Z' });
    expect(keychain.scheduleIfRetentionOver(id, clock.nowMs() - retention, clock.nowMs())).toBeNull();
    expect(keychain.retentionExpired(clock.nowMs() - retention, 10)).toEqual([]);
  });
});

describe('namespaces', () => {
  it('give keys created without a policy their default, and are removed only when every key in them is destroyed', async () => {
    const clock = new ManualClock(new Date('2026-01-01T10:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    const keychain = new Keychain({ store, clock, namespaceDefaults: parseNamespaceDefaults('hr=P90D, lab=none') });
    await keychain.unseal(hsm);
    expect(keychain.createKey({ fullName: 'hr/a', algorithm: 'AES-256' }).key).toMatchObject({ rolloverPolicy: 'auto', cryptoperiod: 'P90D' });
    expect(keychain.createKey({ fullName: 'hr/b', algorithm: 'AES-256', rollover: { kind: 'manual', cryptoperiod: null } }).key.rolloverPolicy).toBe('manual');
    expect(keychain.createKey({ fullName: 'lab/x', algorithm: 'AES-256' }).key.rolloverPolicy).toBe('none');
    expect(keychain.createKey({ fullName: 'other/y', algorithm: 'AES-256' }).key.rolloverPolicy).toBe('manual');
    expect(keychain.listNamespaces()).toEqual([
      { namespace: 'hr', keys: 2, liveKeys: 2 },
      { namespace: 'lab', keys: 1, liveKeys: 1 },
      { namespace: 'other', keys: 1, liveKeys: 1 },
    ]);
    expect(await rejectionCode(() => keychain.removeNamespace('lab'))).toBe('WRONG_STATE');
    const lifecycle = new LifecycleService(keychain, clock);
    lifecycle.revoke({ fullName: 'lab/x' }, 'cessationOfOperation');
    lifecycle.destroy({ fullName: 'lab/x' });
    expect(keychain.removeNamespace('lab')).toBe(1);
    expect(keychain.listNamespaces().map((n) => n.namespace)).toEqual(['hr', 'other']);
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'lab/x' }))).toBe('KEY_NOT_FOUND');
    expect(await rejectionCode(() => keychain.removeNamespace('lab'))).toBe('KEY_NOT_FOUND');
  });
});
