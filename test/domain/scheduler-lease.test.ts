/**
 * The scheduler's lease (domain/scheduler-lease.ts) on a real SQLite file:
 * the attacks first (a lease row planted, or rewritten, by someone with the
 * database file, who also empties the trust journal so that only the row's
 * own MAC stands between them and the scheduler), then the rules (take,
 * renew, take over after expiry, epoch) and a sweep that stops at its next
 * batch once another node took the lease. Two "nodes" here are two leases
 * with different names on one keychain; the two-stores-on-PostgreSQL test
 * is test/integration/scheduler-lease-on-postgres.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { sweepDueRollovers } from '../../domain/rollover-scheduler';
import { SchedulerLease } from '../../domain/scheduler-lease';
import { SoftHsm } from '../../hsm/soft-hsm';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { codeOf, rejectionCode } from '../support/error-code';

const TTL_MS = 60_000;
const DAY_MS = 86_400_000;

describe("the scheduler's lease", () => {
  let dir: string;
  let path: string;
  let store: KeychainStore;
  let hsm: SoftHsm;
  let keychain: Keychain;
  let nodeA: SchedulerLease;
  let nodeB: SchedulerLease;
  const clock = new ManualClock(new Date('2026-12-07T10:00:00Z'));

  beforeEach(async () => {
    clock.set(new Date('2026-12-07T10:00:00Z'));
    dir = mkdtempSync(join(tmpdir(), 'strongroom-lease-'));
    path = join(dir, 'keychain.db');
    store = openSqliteStore(path);
    hsm = new SoftHsm();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock, timeZone: 'UTC' });
    await keychain.unseal(hsm);
    nodeA = keychain.schedulerLease('node-a', TTL_MS);
    nodeB = keychain.schedulerLease('node-b', TTL_MS);
  });
  afterEach(async () => {
    keychain.seal();
    store.close();
    await hsm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `count` keys rolling daily, all due a day later (the clock is moved there). */
  const dueKeys = (count: number): string[] => {
    const names = Array.from({ length: count }, (_, i) => `sched/k${i}`);
    for (const fullName of names) keychain.createKey({ fullName, algorithm: 'AES-256', rollover: { kind: 'auto', cryptoperiod: 'P1D' } });
    clock.set(new Date(clock.nowMs() + DAY_MS));
    return names;
  };
  const versionOf = (name: string): number => keychain.describeKey(name).key.currentVersion;
  const claim = (lease: SchedulerLease) => keychain.transaction(() => lease.claim());
  const sweepAs = (lease: SchedulerLease, options: Parameters<typeof sweepDueRollovers>[2] = {}) =>
    sweepDueRollovers(keychain, clock.nowMs(), { batchBudgetMs: Number.POSITIVE_INFINITY, ...options, mayAct: () => lease.claim() !== null });
  /** What someone holding the file can do: any SQL, then empty the trust journal so the next write's journal check finds nothing. */
  const tamper = (sql: string, ...params: unknown[]): void => {
    const db = new Database(path);
    try {
      db.prepare(sql).run(...params);
      db.prepare('DELETE FROM trust_journal').run();
    } finally {
      db.close();
    }
  };

  describe('attacks: the row is believed only when its MAC checks', () => {
    it('a lease row planted in the file (naming a node that would hold it for ever) stops the sweep with INTEGRITY_FAILURE, acting on nothing', async () => {
      const names = dueKeys(3);
      tamper("INSERT INTO scheduler_lease (id, holder, epoch, expires_at, row_mac) VALUES (1, 'intruder', 7, '2999-01-01T00:00:00.000Z', randomblob(32))");
      expect(await rejectionCode(sweepAs(nodeA))).toBe('INTEGRITY_FAILURE');
      expect(names.map(versionOf)).toEqual([1, 1, 1]);
      expect(codeOf(() => keychain.readSchedulerLease())).toBe('INTEGRITY_FAILURE');
      expect(codeOf(() => nodeA.heldByAnother())).toBe('INTEGRITY_FAILURE');
    });

    it('a genuine lease rewritten in the file (another holder, a later expiry, the MAC kept) stops the sweep with INTEGRITY_FAILURE', async () => {
      const names = dueKeys(2);
      expect(claim(nodeA)).toMatchObject({ holder: 'node-a', epoch: 1 });
      tamper("UPDATE scheduler_lease SET holder = 'intruder', expires_at = '2999-01-01T00:00:00.000Z'");
      expect(await rejectionCode(sweepAs(nodeA))).toBe('INTEGRITY_FAILURE');
      expect(names.map(versionOf)).toEqual([1, 1]);
    });
  });

  describe('rules', () => {
    it('is taken at epoch 1, renewed by its holder at the same epoch, refused to another node while valid', () => {
      expect(keychain.readSchedulerLease()).toBeNull();
      expect(claim(nodeA)).toEqual({ holder: 'node-a', epoch: 1, expiresAt: '2026-12-07T10:01:00.000Z' });
      expect(claim(nodeB)).toBeNull();
      expect(nodeB.heldByAnother()).toBe(true);
      expect(nodeA.heldByAnother()).toBe(false);
      clock.set(new Date('2026-12-07T10:00:59.999Z'));
      expect(claim(nodeB)).toBeNull();
      expect(claim(nodeA)).toEqual({ holder: 'node-a', epoch: 1, expiresAt: '2026-12-07T10:01:59.999Z' });
      expect(keychain.readSchedulerLease()).toEqual({ holder: 'node-a', epoch: 1, expiresAt: '2026-12-07T10:01:59.999Z' });
    });

    it('passes to another node only once expired, the epoch moving on by one at each change of holder', () => {
      claim(nodeA);
      clock.set(new Date('2026-12-07T10:00:59.999Z'));
      expect(claim(nodeB)).toBeNull();
      clock.set(new Date('2026-12-07T10:01:00.000Z')); // its expiry: from this instant on it is no longer held
      expect(claim(nodeB)).toEqual({ holder: 'node-b', epoch: 2, expiresAt: '2026-12-07T10:02:00.000Z' });
      expect(claim(nodeA)).toBeNull();
      clock.set(new Date('2026-12-07T10:05:00.000Z'));
      expect(claim(nodeA)).toMatchObject({ holder: 'node-a', epoch: 3 });
    });

    it('is undone with the batch it guards: a batch that fails leaves the lease as it was', () => {
      claim(nodeA);
      clock.set(new Date('2026-12-07T10:02:00.000Z'));
      expect(
        codeOf(() =>
          keychain.transaction(() => {
            nodeB.claim();
            throw new RangeError('the batch failed');
          }),
        ),
      ).toBe('UNTYPED: RangeError: the batch failed');
      expect(keychain.readSchedulerLease()).toMatchObject({ holder: 'node-a', epoch: 1 });
    });
  });

  describe('sweeps under the lease', () => {
    it("acts on nothing while another node's lease is valid, and says it was refused", async () => {
      const names = dueKeys(2);
      claim(nodeA);
      expect(await sweepAs(nodeB)).toEqual({ rolled: 0, failed: 0, batches: 0, refused: true });
      expect(names.map(versionOf)).toEqual([1, 1]);
      expect(await sweepAs(nodeA)).toMatchObject({ rolled: 2, refused: false });
    });

    it('a node whose lease was taken over stops at its next batch; the new holder rolls the rest, each key once', async () => {
      const names = dueKeys(6);
      let batches = 0;
      const a = await sweepAs(nodeA, {
        batchSize: 2,
        // A stalls after its first batch (a pause of the process); meanwhile its lease expires and B takes it.
        yieldBetweenBatches: async () => {
          if (++batches > 1) return;
          clock.set(new Date(clock.nowMs() + TTL_MS + 1));
          expect(claim(nodeB)).toMatchObject({ holder: 'node-b', epoch: 2 });
        },
      });
      expect(a).toEqual({ rolled: 2, failed: 0, batches: 1, refused: true });
      expect(await sweepAs(nodeB, { batchSize: 2 })).toMatchObject({ rolled: 4, refused: false });
      expect(names.map(versionOf)).toEqual([2, 2, 2, 2, 2, 2]);
      expect(names.map((n) => keychain.describeKey(n).instances.map((i) => i.version))).toEqual(names.map(() => [1, 2]));
    });
  });
});
