/**
 * Two schedulers on two stores on one PostgreSQL keychain (issue 17): the
 * real PostgreSQL 15 (test/support/postgres-fixture.ts), one real SoftHSM2
 * token opened by each node (so both hold the same master key, as every
 * node of a cluster must), each node with its own store connection and its
 * own Keychain, both sweeping the same due keys at once. Batches of both
 * interleave on the event loop; PostgreSQL's writer lock orders their
 * transactions, and the lease decides which of them act.
 *
 * Checked: every due key rolled exactly once (versions 1 and 2, no third,
 * none skipped), only one node's batches acted while its lease was valid,
 * the other's were refused; then the holder stops (dies), and the other
 * node acts on nothing until the lease expires, takes it over at the next
 * epoch once it has, and rolls the next period's keys. The clock is
 * injected (one ManualClock for both nodes); nothing sleeps.
 */
import { ManualClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { RolloverService } from '../../domain/rollover-service';
import { sweepDueRollovers } from '../../domain/rollover-scheduler';
import { SchedulerLease } from '../../domain/scheduler-lease';
import { yieldToEventLoop } from '../../domain/sweep-due';
import { ManualTimers } from '../support/manual-timers';
import { KeychainNode, pgKeychainNodes } from '../support/pg-keychain-nodes';

const KEYS = 24;
const TTL_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

const nodes = pgKeychainNodes('scheduler_lease', 'sr-lease');

interface Node extends KeychainNode {
  readonly name: string;
  readonly lease: SchedulerLease;
  /** What this node's sweeps rolled, key by key. */
  readonly rolled: string[];
  readonly service: RolloverService;
}

describe('two schedulers on one PostgreSQL keychain, one lease', () => {
  const clock = new ManualClock(new Date('2026-12-07T09:00:00Z'));
  let database: string;
  let a: Node;
  let b: Node;

  async function node(name: string, create: boolean): Promise<Node> {
    const opened = await nodes.open(database, clock, create);
    const { keychain } = opened;
    const lease = keychain.schedulerLease(name, TTL_MS);
    const rolled: string[] = [];
    const service = new RolloverService({
      keychain,
      clock,
      timers: new ManualTimers(clock),
      log: silentLogger,
      checkIntervalMs: 60_000,
      retentionMs: null,
      destructionWaitMs: DAY_MS,
      lease,
      onRolled: (key) => void rolled.push(key),
    });
    return { ...opened, name, lease, rolled, service };
  }

  beforeAll(async () => {
    database = nodes.database();
    a = await node('node-a', true);
    b = await node('node-b', false);
  }, 60_000);

  afterAll(() => nodes.close(database, [a, b]), 60_000);

  const names = (prefix: string): string[] => Array.from({ length: KEYS }, (_, i) => `${prefix}/k${String(i).padStart(2, '0')}`);
  const versions = (n: Node, name: string): number[] => n.keychain.describeKey(name).instances.map((i) => i.version).sort();

  /** One node's rollover sweep in batches of three, pausing a turn between batches (the other node's batches get in), acting only under the lease. */
  const sweepOf = (n: Node) =>
    sweepDueRollovers(n.keychain, clock.nowMs(), {
      batchSize: 3,
      batchBudgetMs: Number.POSITIVE_INFINITY,
      yieldBetweenBatches: yieldToEventLoop,
      mayAct: () => n.lease.claim() !== null,
      onRolled: (key) => n.rolled.push(key),
    });

  it('both sweeping the same due keys at once: each key rolled exactly once, every batch by the node holding the lease', async () => {
    const daily = names('daily');
    for (const fullName of daily) a.keychain.createKey({ fullName, algorithm: 'AES-256', rollover: { kind: 'auto', cryptoperiod: 'P1D' } });
    clock.set(new Date('2026-12-08T00:00:00Z'));
    const [fromA, fromB] = await Promise.all([sweepOf(a), sweepOf(b)]);
    const results = new Map([[a, fromA], [b, fromB]]);
    const holder = fromA.rolled > 0 ? a : b;
    const other = holder === a ? b : a;
    expect(results.get(holder)).toEqual({ rolled: KEYS, failed: 0, batches: KEYS / 3, refused: false });
    // The other node came to a batch while keys were still due, and was refused: it acted on nothing.
    expect(results.get(other)).toEqual({ rolled: 0, failed: 0, batches: 0, refused: true });
    expect([...holder.rolled].sort()).toEqual(daily);
    expect(other.rolled).toEqual([]);
    // No key rolled twice, none skipped: versions 1 and 2 exactly, seen from both nodes.
    for (const name of daily) {
      expect(versions(a, name)).toEqual([1, 2]);
      expect(versions(b, name)).toEqual([1, 2]);
    }
    expect(other.keychain.readSchedulerLease()).toEqual({ holder: holder.name, epoch: 1, expiresAt: new Date(clock.nowMs() + TTL_MS).toISOString() });
    // Sweeping again at the same instant, either node: nothing more is due.
    expect((await sweepOf(other)).rolled + (await sweepOf(holder)).rolled).toBe(0);
  }, 120_000);

  it('a holder that dies: the other acts on nothing until the lease expires, then takes it over at the next epoch', async () => {
    const lease = a.keychain.readSchedulerLease()!;
    const holder = lease.holder === a.name ? a : b;
    const survivor = holder === a ? b : a;
    // The holder's last act before it dies: a renewal at 23:58, just before the next day's rollovers fall due.
    clock.set(new Date('2026-12-08T23:58:00Z'));
    expect(holder.keychain.transaction(() => holder.lease.claim())).toMatchObject({ holder: holder.name, epoch: 1 });
    clock.set(new Date('2026-12-09T00:00:00Z'));
    const before = survivor.rolled.length;
    expect(await survivor.service.sweep()).toMatchObject({ rolled: 0, refused: true });
    for (const name of names('daily')) expect(versions(survivor, name)).toEqual([1, 2]);
    // One millisecond before the expiry: still the dead holder's.
    clock.set(new Date(Date.parse('2026-12-08T23:58:00Z') + TTL_MS - 1));
    expect(await survivor.service.sweep()).toMatchObject({ rolled: 0, refused: true });
    // At its expiry the survivor takes the lease, epoch 2, and rolls each key once.
    clock.set(new Date(Date.parse('2026-12-08T23:58:00Z') + TTL_MS));
    expect(await survivor.service.sweep()).toMatchObject({ rolled: KEYS, failed: 0 });
    expect(survivor.rolled.slice(before).sort()).toEqual(names('daily'));
    expect(survivor.keychain.readSchedulerLease()).toMatchObject({ holder: survivor.name, epoch: 2 });
    for (const name of names('daily')) expect(versions(survivor, name)).toEqual([1, 2, 3]);
  }, 120_000);
});
