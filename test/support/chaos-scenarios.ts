/**
 * What the chaos test (test/integration/chaos-sigkill.test.ts) and its child
 * (chaos-child.ts) agree on: the scenarios a child runs until it is killed,
 * the officers it acts as, and how its keys are named; plus the seeded
 * pseudo-random numbers that pick scenarios and kill delays, so a failing
 * run is replayed with STRONGROOM_CHAOS_SEED.
 */

/**
 * The work a child does in a loop until the SIGKILL lands. `restore`: a
 * backup, a key created after it, a dual-controlled BackupRestore of that
 * backup (approved by the two other officers), and the in-process restart
 * that swaps the restored keychain in (chaos-child.ts); its checks are in
 * chaos-restore-checks.ts.
 */
export const CHAOS_SCENARIOS = ['create', 'sweep', 'approval', 'backup', 'rotation', 'restore'] as const;
export type ChaosScenario = (typeof CHAOS_SCENARIOS)[number];

/** What the parent tells a loaded child to do (one JSON line on its stdin). */
export interface ChaosOrder {
  readonly scenario: ChaosScenario;
  /** Unique per lane: names the keys the child creates. */
  readonly cycle: number;
  /** The sweep scenario's instant (ISO 8601): every sweep of the test runs at it, so a key rolls there at most once. */
  readonly sweepAt: string;
}

/** The officers the fixture issues: the first requests, the other two approve (quorum 2). */
export const CHAOS_OFFICERS = ['chaos-officer-1', 'chaos-officer-2', 'chaos-officer-3'] as const;

/** The cryptoperiod of the create scenario's rolling keys: a sweep a little over a day later finds them due. */
export const ROLLOVER_CRYPTOPERIOD = 'P1D';

export function chaosKeyName(scenario: ChaosScenario, cycle: number, n: number): string {
  return `${scenario}-${cycle}/k-${n}`;
}

/** mulberry32: a small seeded generator; good enough to pick kill points, and the same on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** STRONGROOM_CHAOS_SEED when set (a replay), else a fresh seed; printed by the test either way. */
export function chaosSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.STRONGROOM_CHAOS_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`STRONGROOM_CHAOS_SEED must be a non-negative integer, not "${given}"`);
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 32);
}
