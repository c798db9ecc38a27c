/**
 * A storage outage seen by the server's background work (issue 17): the
 * PostgreSQL primary is gone for a while (a Patroni failover), so every store
 * call throws CLUSTER_NO_PRIMARY or STORAGE_UNAVAILABLE. Before this, the
 * change watch's poll threw out of its timer and `strongroom serve` exited.
 *
 * What must hold, on the fakes (MemoryStore has no own-change feed, as the
 * PostgreSQL store has none): the poll does not throw; the caches are not
 * trusted while the counter cannot be read (a lookup goes to the store, and
 * so fails with the store's own code and message, never a stale answer);
 * the outage is logged once and its end once; the first poll that succeeds
 * drops everything (another appliance may have written meanwhile) and the
 * caches work again. The scheduled sweeps ride the outage out the same way.
 */
import { ManualClock } from '../../common/clock';
import { StorageError } from '../../common/errors';
import { Logger } from '../../common/logger';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { RolloverService } from '../../domain/rollover-service';
import { SoftHsm } from '../../hsm/soft-hsm';
import { ChangeWatch } from '../../server/compose/change-watch';
import { MemoryStore } from '../../storage/memory-store';
import { ManualTimers } from '../support/manual-timers';

const noPrimary = (): StorageError =>
  new StorageError('CLUSTER_NO_PRIMARY', 'keychain store: query: no writable PostgreSQL primary among 3 nodes after 20 rounds in 4968 ms', { details: { operation: 'query' } });

/** A logger that keeps what it was told, by level (the message, then its fields as JSON). */
function recordingLog(): { log: Logger; lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  const at = (level: string) => (message: string, fields?: unknown) => {
    lines.push([level, `${message} ${JSON.stringify(fields ?? {})}`]);
    return log as never;
  };
  const log: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as unknown as Logger;
  return { log, lines };
}

/** The named methods of `target` throw CLUSTER_NO_PRIMARY while `down` is set. */
function outageSwitch<T extends object>(target: T, methods: ReadonlyArray<keyof T>): { down: boolean } {
  const state = { down: false };
  for (const method of methods) {
    const real = (target[method] as unknown as (...args: unknown[]) => unknown).bind(target);
    jest.spyOn(target, method as never).mockImplementation(((...args: unknown[]) => {
      if (state.down) throw noPrimary();
      return real(...args);
    }) as never);
  }
  return state;
}

async function unsealedKeychain(clock: ManualClock): Promise<{ store: MemoryStore; keychain: Keychain }> {
  const store = new MemoryStore();
  const hsm = new SoftHsm();
  await initializeKeychain(store, hsm, clock, randomIds);
  const keychain = new Keychain({ store, clock });
  await keychain.unseal(hsm);
  return { store, keychain };
}

describe('a storage outage under the change watch', () => {
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));

  it('does not throw out of the poll, distrusts the caches until a poll succeeds, logs the outage and its end once each', async () => {
    const { store, keychain } = await unsealedKeychain(clock);
    keychain.createKey({ fullName: 'app/a', algorithm: 'AES-256' });
    const { log, lines } = recordingLog();
    const watch = new ChangeWatch(keychain.changes, log, clock);
    const outage = outageSwitch(store, ['changeStamp', 'getKeyByName']);
    const keyReads = store.getKeyByName as unknown as jest.SpyInstance;
    const served = (): string => {
      const got = keychain.getKey({ fullName: 'app/a' });
      got.material.fill(0);
      return got.instance.name;
    };
    // Cached before the outage: once its first serving is recorded (a commit of its own), a Get makes no store read.
    served();
    served();
    keyReads.mockClear();
    served();
    expect(keyReads).not.toHaveBeenCalled();

    outage.down = true;
    for (let i = 0; i < 3; i++) expect(watch.poll()).toBe(false);
    // Fail closed: the cached row is not served; the lookup goes to the store and answers its code and message.
    let refused: unknown;
    try {
      served();
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({ code: 'CLUSTER_NO_PRIMARY', message: expect.stringContaining('no writable PostgreSQL primary') });
    expect(keyReads).toHaveBeenCalled();
    // Even if reads come back before the counter does, nothing is kept from them until a poll succeeds.
    outage.down = false;
    (store.changeStamp as unknown as jest.SpyInstance).mockImplementation(() => {
      throw noPrimary();
    });
    keyReads.mockClear();
    served();
    served();
    expect(keyReads).toHaveBeenCalledTimes(2);
    expect(watch.poll()).toBe(false);

    (store.changeStamp as unknown as jest.SpyInstance).mockRestore();
    // The first poll that reads the counter again drops everything (others may have written): connections are rechecked.
    expect(watch.poll()).toBe(true);
    expect(watch.poll()).toBe(false);
    keyReads.mockClear();
    served();
    served();
    expect(keyReads).toHaveBeenCalledTimes(1);

    expect(lines.map(([level]) => level)).toEqual(['error', 'info']);
    expect(lines[0][1]).toMatch(/change watch.*"code":"CLUSTER_NO_PRIMARY"/);
    expect(lines[1][1]).toMatch(/change watch.*"failedTurns":4/);
  });
});

describe('a storage outage under the scheduled sweeps', () => {
  it('a sweep whose store reads fail resolves, is logged once per outage, and the next check runs again', async () => {
    const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
    const timers = new ManualTimers(clock);
    const { keychain } = await unsealedKeychain(clock);
    const { log, lines } = recordingLog();
    const outage = outageSwitch(keychain, ['dueActivations', 'dueKeys']);
    const rollover = new RolloverService({ keychain, clock, timers, log, checkIntervalMs: 1_000, retentionMs: null, destructionWaitMs: 0 });
    const failures: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      failures.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      outage.down = true;
      await expect(rollover.sweep()).resolves.toMatchObject({ rolled: 0 });
      rollover.start();
      await timers.advance(3_000);
      outage.down = false;
      await timers.advance(1_000);
      await rollover.sweep();
      await rollover.stop();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(failures).toEqual([]);
    expect(lines.map(([level]) => level)).toEqual(['error', 'info']);
    expect(lines[0][1]).toMatch(/sweeps.*"code":"CLUSTER_NO_PRIMARY"/);
  });
});
