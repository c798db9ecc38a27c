/**
 * SIGKILL in the middle of a rollover sweep, on a real SoftHSM2 token and a
 * SQLite file: thousands of `auto` P1D keys created "yesterday" are all due;
 * a child sweeps them and is killed after some hundreds of rollovers, or
 * right after the first, or is left to finish. After each round the file is
 * whole, every rollover the child acknowledged is there, no key has more
 * than one new instance, and a new sweep at the same instant (the restart)
 * leaves every due key with exactly one new instance, and nothing more due.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock, systemClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { sweepDueRollovers } from '../../domain/rollover-scheduler';
import type { HsmPort } from '../../hsm/hsm-port';
import { openSqliteStore } from '../../storage/sqlite-store';
import { makeSoftHsmFixture, SoftHsmFixture } from '../support/softhsm-fixture';

const CHILD = resolve(__dirname, '../../dist/test/support/sweep-child.js');
/** Due keys per round. */
const KEYS_PER_ROUND = 3000;
/** Keys created per transaction during set-up: one fsync per chunk instead of per key. */
const CREATE_CHUNK = 500;
/** Keys the child rolls per batch: small, so the kill lands inside a batch or between two. */
const CHILD_BATCH = 20;
/** Bound on how long one child runs (a full sweep of a round included). */
const ROUND_TIMEOUT_MS = 60_000;
/** Per test: set-up of a round, the child, the checks and the parent's sweep. */
const TEST_TIMEOUT_MS = 150_000;
const DAY_MS = 86_400_000;

interface ChildRun {
  readonly acked: string[];
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stdout: string;
}

/** Runs the sweep child; SIGKILLs it once `killAfter` rollovers are acknowledged (null: let it finish). Bounded by ROUND_TIMEOUT_MS. */
function runSweepChild(env: NodeJS.ProcessEnv, killAfter: number | null): Promise<ChildRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let pending = '';
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, ROUND_TIMEOUT_MS);
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() as string;
      for (const line of lines) {
        stdout += `${line}\n`;
        if (line.startsWith('rolled ')) acked.push(line.slice(7));
      }
      if (killAfter !== null && acked.length >= killAfter) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`the sweep child did not end within ${ROUND_TIMEOUT_MS} ms; stderr: ${stderr}`));
      else if (killAfter !== null && (signal !== 'SIGKILL' || acked.length < killAfter)) reject(new Error(`the child ended early (${code}/${signal}); stderr: ${stderr}`));
      else if (killAfter === null && code !== 0) reject(new Error(`the child failed (${code}/${signal}); stderr: ${stderr}`));
      else resolveRun({ acked, signal, code, stdout: stdout + pending });
    });
  });
}

/** Instances per key of `namespace`, read straight from the file (no keychain, no MACs). */
function instanceCounts(dbPath: string, namespace: string): Map<string, number> {
  const raw = new Database(dbPath, { readonly: true });
  try {
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(raw.pragma('foreign_key_check')).toEqual([]);
    const rows = raw
      .prepare('SELECT k.name AS name, COUNT(i.id) AS n FROM keys k LEFT JOIN key_instances i ON i.key_id = k.id WHERE k.namespace = ? GROUP BY k.id')
      .all(namespace) as Array<{ name: string; n: number }>;
    return new Map(rows.map((r) => [`${namespace}/${r.name}`, r.n]));
  } finally {
    raw.close();
  }
}

describe('SIGKILL during a rollover sweep', () => {
  // All keys are created "yesterday" at 10:00 UTC with P1D: due at today's 00:00 UTC, before atMs.
  const atMs = Date.now();
  const createdAtMs = Math.floor(atMs / DAY_MS) * DAY_MS - 14 * 3_600_000;
  let token: SoftHsmFixture;
  let hsm: HsmPort;
  let dir: string;
  let dbPath: string;
  let childEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: run \`npx tsc -p tsconfig.json\` (scripts/test.sh does)`);
    token = await makeSoftHsmFixture('sr-sweep-crash');
    dir = mkdtempSync(join(tmpdir(), 'strongroom-sweep-crash-'));
    dbPath = join(dir, 'keychain.db');
    hsm = await token.open();
    const store = openSqliteStore(dbPath);
    await initializeKeychain(store, hsm, systemClock, randomIds);
    store.close();
    childEnv = {
      ...process.env,
      SOFTHSM2_CONF: token.softhsmConf,
      SR_MODULE: token.modulePath,
      SR_LABEL: token.label,
      SR_PIN: token.userPin,
      SR_DB: dbPath,
      SR_AT_MS: String(atMs),
      SR_BATCH: String(CHILD_BATCH),
    };
  });

  afterAll(async () => {
    await token?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Creates KEYS_PER_ROUND due keys `<namespace>/k-<n>` "yesterday", in chunked transactions. */
  async function createDueKeys(namespace: string): Promise<void> {
    const store = openSqliteStore(dbPath);
    const keychain = new Keychain({ store, clock: new ManualClock(createdAtMs), timeZone: 'UTC' });
    try {
      await keychain.unseal(hsm);
      for (let start = 0; start < KEYS_PER_ROUND; start += CREATE_CHUNK) {
        store.transaction(() => {
          for (let n = start; n < Math.min(start + CREATE_CHUNK, KEYS_PER_ROUND); n++) {
            keychain.createKey({ fullName: `${namespace}/k-${n}`, algorithm: 'AES-256', rollover: { kind: 'auto', cryptoperiod: 'P1D' } });
          }
        });
      }
      expect(keychain.dueKeys(atMs, KEYS_PER_ROUND + 1)).toHaveLength(KEYS_PER_ROUND);
    } finally {
      keychain.seal();
      store.close();
    }
  }

  /** The checks after the child is gone, then the restart's sweep and the checks after it. */
  async function checkThenRestart(namespace: string, acked: readonly string[]): Promise<void> {
    const afterChild = instanceCounts(dbPath, namespace);
    expect(afterChild.size).toBe(KEYS_PER_ROUND);
    for (const name of acked) expect(afterChild.get(name)).toBe(2);
    expect([...afterChild.values()].filter((n) => n < 1 || n > 2)).toEqual([]);
    const rolledByChild = [...afterChild.values()].filter((n) => n === 2).length;
    // A batch commits together and is acknowledged after its commit: a kill
    // between the two leaves at most one batch committed but not acknowledged.
    expect(rolledByChild - acked.length).toBeGreaterThanOrEqual(0);
    expect(rolledByChild - acked.length).toBeLessThanOrEqual(CHILD_BATCH);

    const store = openSqliteStore(dbPath);
    const keychain = new Keychain({ store, clock: systemClock, timeZone: 'UTC' });
    try {
      await keychain.unseal(hsm);
      for (const name of acked) {
        const described = keychain.describeKey(name);
        expect(described.instances).toHaveLength(2);
        expect(described.key.currentVersion).toBe(2);
      }
      const restart = await sweepDueRollovers(keychain, atMs);
      expect(restart).toMatchObject({ rolled: KEYS_PER_ROUND - rolledByChild, failed: 0 });

      const afterRestart = instanceCounts(dbPath, namespace);
      expect([...afterRestart.values()].filter((n) => n !== 2)).toEqual([]);
      for (let n = 0; n < KEYS_PER_ROUND; n++) {
        const { key, instances } = keychain.describeKey(`${namespace}/k-${n}`);
        expect(key.currentVersion).toBe(2);
        expect(instances.map((i) => [i.version, i.state])).toEqual([
          [1, 'Deactivated'],
          [2, 'Active'],
        ]);
        expect(Date.parse(key.nextRolloverAt as string)).toBeGreaterThan(atMs);
      }
      expect(await sweepDueRollovers(keychain, atMs)).toMatchObject({ rolled: 0, failed: 0 });
      expect(keychain.dueKeys(atMs, 10)).toEqual([]);
    } finally {
      keychain.seal();
      store.close();
    }
  }

  it(
    'killed after some hundreds of rollovers: each acked key rolled once, the restart rolls the rest once',
    async () => {
      await createDueKeys('round-0');
      const run = await runSweepChild(childEnv, 300);
      expect(run.signal).toBe('SIGKILL');
      expect(run.acked.length).toBeLessThan(KEYS_PER_ROUND);
      await checkThenRestart('round-0', run.acked);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'killed right after the first rollover: the restart rolls every other key once',
    async () => {
      await createDueKeys('round-1');
      const run = await runSweepChild(childEnv, 1);
      expect(run.signal).toBe('SIGKILL');
      await checkThenRestart('round-1', run.acked);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'left to finish: every key rolled once, and the restart finds nothing due',
    async () => {
      await createDueKeys('round-2');
      const run = await runSweepChild(childEnv, null);
      expect(run.code).toBe(0);
      expect(run.acked).toHaveLength(KEYS_PER_ROUND);
      expect(new Set(run.acked).size).toBe(KEYS_PER_ROUND);
      expect(run.stdout).toContain(`done ${KEYS_PER_ROUND} 0`);
      await checkThenRestart('round-2', run.acked);
    },
    TEST_TIMEOUT_MS,
  );
});
