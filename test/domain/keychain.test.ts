/**
 * Keychain rules on the fast fakes (MemoryStore, SoftHsm); the same service
 * runs on SoftHSM2 and SQLite in test/integration.
 */
import { ManualClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { rejectionCode } from '../support/error-code';

describe('keychain rules', () => {
  const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
  let store: MemoryStore;
  let keychain: Keychain;

  beforeEach(async () => {
    const hsm = new SoftHsm({ label: 'unit' });
    store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
  });

  it('shares one unseal between concurrent callers, and a seal during an unseal wins', async () => {
    const hsm = new SoftHsm({ label: 'unit2' });
    const other = new MemoryStore();
    await initializeKeychain(other, hsm, clock, randomIds);
    const fresh = new Keychain({ store: other, clock });
    await Promise.all([fresh.unseal(hsm), fresh.unseal(hsm)]);
    expect(fresh.isSealed).toBe(false);
    fresh.seal();
    const pending = fresh.unseal(hsm);
    fresh.seal();
    expect(await rejectionCode(pending)).toBe('SEALED');
    expect(fresh.isSealed).toBe(true);
  });

  it('stamps dates from the injected clock', () => {
    const created = keychain.createKey({ fullName: 'a/b', algorithm: 'AES-128' });
    expect(created.key.createdAt).toBe('2026-03-01T10:00:00.000Z');
    clock.advance(86_400_000);
    const rolled = keychain.rollover('a/b');
    expect(rolled.instances[1].createdAt).toBe('2026-03-02T10:00:00.000Z');
    expect(rolled.instances[0].deactivatedAt).toBe('2026-03-02T10:00:00.000Z');
  });

  it('generates material of the algorithm length and gives distinct instance names', () => {
    for (const [algorithm, length] of [['AES-128', 16], ['AES-192', 24], ['AES-256', 32], ['HMAC-SHA256', 32], ['HMAC-SHA512', 64]] as const) {
      keychain.createKey({ fullName: `len/${algorithm}`, algorithm });
      expect(keychain.getKey({ fullName: `len/${algorithm}` }).material).toHaveLength(length);
    }
    const names = keychain.listKeys().map((k) => k.currentInstance);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{20}$/);
  });

  it('never generates SECRET material, and rolls a SECRET only with new material', async () => {
    expect(await rejectionCode(() => keychain.createKey({ fullName: 's/x', algorithm: 'SECRET' }))).toBe('INVALID_ARGUMENT');
    keychain.registerKey({ fullName: 's/x', algorithm: 'SECRET' }, Buffer.from('v1'));
    expect(await rejectionCode(() => keychain.rollover('s/x'))).toBe('INVALID_ARGUMENT');
    keychain.rollover('s/x', Buffer.from('v2'));
    expect(keychain.getKey({ fullName: 's/x' }).material.toString()).toBe('v2');
  });

  it('checks registered material lengths', async () => {
    expect(await rejectionCode(() => keychain.registerKey({ fullName: 'r/a', algorithm: 'AES-256' }, Buffer.alloc(16)))).toBe('INVALID_ARGUMENT');
    expect(await rejectionCode(() => keychain.registerKey({ fullName: 'r/b', algorithm: 'SECRET' }, Buffer.alloc(0)))).toBe('INVALID_ARGUMENT');
    expect(await rejectionCode(() => keychain.registerKey({ fullName: 'r/c', algorithm: 'SECRET' }, Buffer.alloc(8193)))).toBe('INVALID_ARGUMENT');
    expect(store.countKeys()).toBe(0);
  });

  it('refuses rollover of a key whose policy is none', async () => {
    keychain.createKey({ fullName: 'n/k', algorithm: 'AES-256', rollover: { kind: 'none', cryptoperiod: null } });
    expect(await rejectionCode(() => keychain.rollover('n/k'))).toBe('WRONG_STATE');
    expect(keychain.describeKey('n/k').instances).toHaveLength(1);
  });

  it('refuses oversized or malformed metadata', async () => {
    expect(await rejectionCode(() => keychain.createKey({ fullName: 'm/a', algorithm: 'AES-256', description: 'x'.repeat(1025) }))).toBe('INVALID_ARGUMENT');
    expect(await rejectionCode(() => keychain.createKey({ fullName: 'm/b', algorithm: 'AES-256', customAttributes: { 'bad name': 'v' } }))).toBe('INVALID_ARGUMENT');
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, 'v']));
    expect(await rejectionCode(() => keychain.createKey({ fullName: 'm/c', algorithm: 'AES-256', customAttributes: many }))).toBe('INVALID_ARGUMENT');
  });

  it('zeroes every keychain key version and the row MAC key on seal', async () => {
    const internals = (keychain as unknown as { sealState: { unsealed: { keys: Map<number, Buffer>; macKey: Buffer } } }).sealState;
    const keys = [...internals.unsealed.keys.values()];
    const macKey = internals.unsealed.macKey;
    expect(keys.length).toBeGreaterThan(0);
    keychain.seal();
    for (const key of keys) expect(key.equals(Buffer.alloc(32))).toBe(true);
    expect(macKey.equals(Buffer.alloc(32))).toBe(true);
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'a/b' }))).toBe('SEALED');
  });
});

describe('undoing a renewal', () => {
  it('makes the previous instance current and Active again, once, and Get follows', async () => {
    const clock = new ManualClock(new Date('2026-04-01T00:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    const keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    keychain.createKey({ fullName: 'u/k', algorithm: 'AES-256' });
    const first = Buffer.from(keychain.getKey({ fullName: 'u/k' }).material);
    clock.advance(60_000);
    keychain.rollover('u/k');
    clock.advance(60_000);
    const undone = keychain.undoRollover('u/k');
    expect(undone.key.currentVersion).toBe(1);
    expect(undone.instances.map((i) => i.state)).toEqual(['Active', 'Deactivated']);
    expect(keychain.getKey({ fullName: 'u/k' }).material.equals(first)).toBe(true);
    expect(await rejectionCode(() => keychain.undoRollover('u/k'))).toBe('WRONG_STATE');
    // The undone instance cannot be brought back by undo, and a new renewal takes the next version.
    expect(keychain.rollover('u/k').key.currentVersion).toBe(3);
  });
});

describe('aliases', () => {
  it('resolve to their key, move, refuse to shadow key names, and are reflected in Get', async () => {
    const clock = new ManualClock(new Date('2026-04-01T00:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    const keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    keychain.createKey({ fullName: 'pay/2026', algorithm: 'AES-256' });
    keychain.createKey({ fullName: 'pay/2027', algorithm: 'AES-256' });
    expect(keychain.setAlias('pay/current', 'pay/2026')).toEqual({ alias: 'pay/current', key: 'pay/2026' });
    const via = keychain.getKey({ fullName: 'pay/current' });
    expect(via.key.fullName).toBe('pay/2026');
    expect(via.material.equals(keychain.getKey({ fullName: 'pay/2026' }).material)).toBe(true);
    keychain.setAlias('pay/current', 'pay/2027');
    expect(keychain.getKey({ fullName: 'pay/current' }).key.fullName).toBe('pay/2027');
    expect(keychain.resolveName('pay/current')).toBe('pay/2027');
    expect(keychain.listAliases()).toEqual([{ alias: 'pay/current', key: 'pay/2027' }]);
    expect(await rejectionCode(() => keychain.setAlias('pay/2026', 'pay/2027'))).toBe('KEY_EXISTS');
    expect(await rejectionCode(() => keychain.createKey({ fullName: 'pay/current', algorithm: 'AES-256' }))).toBe('KEY_EXISTS');
    expect(await rejectionCode(() => keychain.setAlias('pay/x', 'pay/missing'))).toBe('KEY_NOT_FOUND');
    keychain.removeAlias('pay/current');
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'pay/current' }))).toBe('KEY_NOT_FOUND');
    expect(await rejectionCode(() => keychain.removeAlias('pay/current'))).toBe('ALIAS_NOT_FOUND');
  });
});

describe('undo and activation guards (review findings)', () => {
  async function fresh() {
    const clock = new ManualClock(new Date('2026-04-01T00:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    const keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    return { keychain, clock, store };
  }

  it('never undoes a renewal whose new instance was compromised or destroyed', async () => {
    const { keychain, clock } = await fresh();
    keychain.createKey({ fullName: 'g/k', algorithm: 'AES-256' });
    clock.advance(1000);
    keychain.rollover('g/k');
    const { LifecycleService } = await import('../../domain/lifecycle-service');
    new LifecycleService(keychain, clock).revoke({ fullName: 'g/k' }, 'keyCompromise');
    expect(await rejectionCode(() => keychain.undoRollover('g/k'))).toBe('WRONG_STATE');
    expect(keychain.describeKey('g/k').instances[1].state).toBe('Compromised');
  });

  it('undoes the rollover just made even after an earlier undo, and never brings back the undone instance', async () => {
    const { keychain, clock } = await fresh();
    keychain.createKey({ fullName: 'g/u', algorithm: 'AES-256' });
    clock.advance(1000);
    keychain.rollover('g/u'); // v2
    clock.advance(1000);
    keychain.undoRollover('g/u'); // v1 current, v2 Deactivated
    clock.advance(1000);
    keychain.rollover('g/u'); // v3, v1 Deactivated
    clock.advance(1000);
    const undone = keychain.undoRollover('g/u');
    expect(undone.key.currentVersion).toBe(1);
    expect(undone.instances.find((i) => i.version === 2)?.state).toBe('Deactivated');
  });

  it('refuses to activate an instance whose destruction is pending, and to put a SECRET key on auto rollover', async () => {
    const { keychain, clock } = await fresh();
    keychain.createKey({ fullName: 'g/p', algorithm: 'AES-256', activate: false });
    keychain.scheduleDestruction({ fullName: 'g/p' }, new Date(clock.nowMs() + 86_400_000).toISOString());
    const { LifecycleService } = await import('../../domain/lifecycle-service');
    expect(await rejectionCode(() => new LifecycleService(keychain, clock).activate({ fullName: 'g/p' }))).toBe('WRONG_STATE');
    keychain.registerKey({ fullName: 'g/s', algorithm: 'SECRET' }, Buffer.from('pw'));
    expect(await rejectionCode(() => keychain.setRolloverPolicy('g/s', { kind: 'auto', cryptoperiod: 'P1D' }))).toBe('INVALID_ARGUMENT');
    expect(await rejectionCode(() => keychain.registerKey({ fullName: 'g/s2', algorithm: 'SECRET', rollover: { kind: 'auto', cryptoperiod: 'P1D' } }, Buffer.from('pw')))).toBe('INVALID_ARGUMENT');
  });

  it('keeps a PreActive key off the schedule when its policy becomes auto', async () => {
    const { keychain } = await fresh();
    keychain.createKey({ fullName: 'g/pre', algorithm: 'AES-256', activate: false });
    expect(keychain.setRolloverPolicy('g/pre', { kind: 'auto', cryptoperiod: 'P1D' }).key.nextRolloverAt).toBeNull();
  });

  it('rolls back an alias set inside a failed transaction, like SQLite', async () => {
    const { keychain } = await fresh();
    keychain.createKey({ fullName: 'g/t', algorithm: 'AES-256' });
    expect(await rejectionCode(() => keychain.transaction(() => {
      keychain.setAlias('g/alias', 'g/t');
      throw new Error('boom');
    }))).toContain('boom');
    expect(keychain.listAliases()).toEqual([]);
  });
});
