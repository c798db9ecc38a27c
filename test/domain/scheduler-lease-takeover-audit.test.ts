/**
 * A takeover of the scheduler's lease is in the audit trail
 * (domain/rollover-service.ts leaseTakeovers, docs/cluster/scheduler-lease.md):
 * announced (durable) before the batch that makes it, told once that batch
 * committed, and a renewal writes nothing. Two nodes are two
 * RolloverServices with different names on one real SQLite keychain; the
 * trail is the list the hooks fill (the real one is wired in
 * server/compose/background-jobs.ts), in the order the service awaits them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { RolloverService } from '../../domain/rollover-service';
import { SchedulerLeaseView } from '../../domain/scheduler-lease';
import { SoftHsm } from '../../hsm/soft-hsm';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { ManualTimers } from '../support/manual-timers';

const CHECK_MS = 1_000;
const TTL_MS = 3 * CHECK_MS;
const DAY_MS = 86_400_000;

describe("a takeover of the scheduler's lease in the audit trail", () => {
  let dir: string;
  let store: KeychainStore;
  let hsm: SoftHsm;
  let keychain: Keychain;
  let trail: string[];
  const clock = new ManualClock(new Date('2026-12-07T10:00:00Z'));
  const lease = (view: SchedulerLeaseView): string => `${view.holder}@${view.epoch}`;

  beforeEach(async () => {
    clock.set(new Date('2026-12-07T10:00:00Z'));
    dir = mkdtempSync(join(tmpdir(), 'strongroom-lease-audit-'));
    store = openSqliteStore(join(dir, 'keychain.db'));
    hsm = new SoftHsm();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock, timeZone: 'UTC' });
    await keychain.unseal(hsm);
    trail = [];
  });
  afterEach(async () => {
    keychain.seal();
    store.close();
    await hsm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const node = (name: string, hooks: { announce?: (from: SchedulerLeaseView) => Promise<void> } = {}): RolloverService =>
    new RolloverService({
      keychain,
      clock,
      timers: new ManualTimers(clock),
      log: silentLogger,
      checkIntervalMs: CHECK_MS,
      retentionMs: null,
      destructionWaitMs: 0,
      lease: keychain.schedulerLease(name, TTL_MS),
      onRolled: (key) => void trail.push(`${name} rolled ${key}`),
      leaseTakeovers: {
        announce: hooks.announce ?? (async (from) => void trail.push(`${name} intends to take over ${lease(from)}`)),
        taken: (from, held) => void trail.push(`${name} took over ${lease(from)}: ${lease(held)}`),
      },
    });
  /** The trail with each run of rollover lines sorted (keys due at the same instant come in no promised order). */
  const inOrder = (lines: readonly string[]): string[] => {
    const out: string[] = [];
    let run: string[] = [];
    for (const line of [...lines, '']) {
      if (line.includes(' rolled ')) run.push(line);
      else {
        out.push(...run.sort());
        run = [];
        if (line !== '') out.push(line);
      }
    }
    return out;
  };
  /** `count` daily keys made now, then the clock moved a day on (all due, every lease expired). */
  const dueKeys = (prefix: string, count: number): string[] => {
    const names = Array.from({ length: count }, (_, i) => `${prefix}/k${i}`);
    for (const fullName of names) keychain.createKey({ fullName, algorithm: 'AES-256', rollover: { kind: 'auto', cryptoperiod: 'P1D' } });
    clock.set(new Date(clock.nowMs() + DAY_MS));
    return names;
  };

  it('the first take and renewals write nothing; a takeover is announced before its batch acts and told once it committed', async () => {
    const a = node('node-a');
    const b = node('node-b');
    dueKeys('one', 2);
    await a.sweep();
    expect(inOrder(trail)).toEqual(['node-a rolled one/k0', 'node-a rolled one/k1']);
    expect(keychain.readSchedulerLease()).toMatchObject({ holder: 'node-a', epoch: 1 });

    trail = [];
    dueKeys('two', 2); // a day on: node-a's lease expired long ago
    await b.sweep();
    expect(inOrder(trail)).toEqual(['node-b intends to take over node-a@1', 'node-b rolled one/k0', 'node-b rolled one/k1', 'node-b rolled two/k0', 'node-b rolled two/k1', 'node-b took over node-a@1: node-b@2']);
    expect(keychain.readSchedulerLease()).toMatchObject({ holder: 'node-b', epoch: 2 });

    // Renewing (node-b again, within its lease): rollovers only.
    trail = [];
    keychain.createKey({ fullName: 'three/k0', algorithm: 'AES-256', rollover: { kind: 'auto', cryptoperiod: 'P1D' } });
    const created = clock.nowMs();
    clock.set(new Date(created + DAY_MS));
    await b.sweep();
    clock.set(new Date(clock.nowMs() + CHECK_MS));
    await b.sweep();
    expect(trail.filter((line) => !line.includes(' rolled '))).toEqual([]);
    expect(keychain.readSchedulerLease()).toMatchObject({ holder: 'node-b', epoch: 2 });
  });

  it('a takeover that cannot be announced is not made: nothing rolled, the lease unchanged', async () => {
    const a = node('node-a');
    const b = node('node-b', { announce: () => Promise.reject(new Error('the trail is down')) });
    const names = dueKeys('one', 1);
    await a.sweep();
    dueKeys('two', 1);
    await b.sweep();
    expect(keychain.readSchedulerLease()).toMatchObject({ holder: 'node-a', epoch: 1 });
    expect(keychain.describeKey(names[0]).key.currentVersion).toBe(2); // node-a's roll of the first day only
    expect(keychain.describeKey('two/k0').key.currentVersion).toBe(1);
    expect(trail).toEqual(['node-a rolled one/k0']);
  });

  it('only the announced lease is taken over: one another node took meanwhile is announced anew first', async () => {
    const a = node('node-a');
    dueKeys('one', 1);
    await a.sweep();
    dueKeys('two', 1);
    let raced = false;
    const b = node('node-b', {
      announce: async (from) => {
        trail.push(`node-b intends to take over ${lease(from)}`);
        if (raced) return;
        raced = true;
        // Between node-b's announcement and its batch, node-c takes node-a's lease over, and its own expires too.
        expect(keychain.transaction(() => keychain.schedulerLease('node-c', TTL_MS).claim())).toMatchObject({ holder: 'node-c', epoch: 2 });
        clock.set(new Date(clock.nowMs() + TTL_MS + 1));
      },
    });
    expect(await b.sweep()).toMatchObject({ rolled: 0 });
    expect(keychain.readSchedulerLease()).toMatchObject({ holder: 'node-c', epoch: 2 });
    await b.sweep();
    expect(inOrder(trail)).toEqual(['node-a rolled one/k0', 'node-b intends to take over node-a@1', 'node-b intends to take over node-c@2', 'node-b rolled one/k0', 'node-b rolled two/k0', 'node-b took over node-c@2: node-b@3']);
  });
});
