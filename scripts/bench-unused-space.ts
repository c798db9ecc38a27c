/**
 * What the zeroing of unused page space (storage/sqlite-unused-space.ts)
 * costs on a real keychain of N keys: it runs after every commit that drops
 * sealed material (a Destroy, a destroying sweep batch) and at every open.
 * The keys are made in one appliance (SoftHSM2 token, SQLite file), each
 * rolled once so the file holds live and deactivated instances; then a
 * number of passes are timed, each under the write lock as the store runs
 * it (BEGIN IMMEDIATE, the pass, PRAGMA shrink_memory, COMMIT), after a
 * TRUNCATE checkpoint.
 *
 *   node dist/scripts/bench-unused-space.js [--keys 100000] [--passes 5]
 *
 * The first pass zeroes what the set-up left; the later ones find little and
 * show the cost of the walk itself. The temp folder is removed at the end.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { zeroUnusedSpace } from '../storage/sqlite-unused-space';
import { createBenchAppliance } from './bench-appliance';

const CREATE_CHUNK = 5_000;
const MAX_KEYS = 1_000_000;
const MAX_PASSES = 50;

function parseArgs(argv: string[]): { keys: number; passes: number } {
  let keys = 100_000;
  let passes = 5;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--keys') keys = Number(argv[++i]);
    else if (argv[i] === '--passes') passes = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (usage: bench-unused-space [--keys N] [--passes P])`);
  }
  if (!Number.isSafeInteger(keys) || keys < 1 || keys > MAX_KEYS) throw new Error(`--keys must be 1..${MAX_KEYS}`);
  if (!Number.isSafeInteger(passes) || passes < 1 || passes > MAX_PASSES) throw new Error(`--passes must be 1..${MAX_PASSES}`);
  return { keys, passes };
}

async function main(): Promise<void> {
  const { keys, passes } = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-bench-unused-space-'));
  try {
    const { appliance, dataDir } = await createBenchAppliance(dir);
    try {
      await appliance.keychain.unseal(await appliance.hsm());
      for (let start = 0; start < keys; start += CREATE_CHUNK) {
        appliance.store.transaction(() => {
          for (let i = start; i < Math.min(keys, start + CREATE_CHUNK); i++) appliance.keychain.createKey({ fullName: `bench/k-${i}`, algorithm: 'AES-256' });
        });
        appliance.store.transaction(() => {
          for (let i = start; i < Math.min(keys, start + CREATE_CHUNK); i++) appliance.keychain.rollover(`bench/k-${i}`);
        });
      }
    } finally {
      await appliance.close();
    }
    const path = join(dataDir, 'keychain.db');
    const db = new Database(path, { fileMustExist: true });
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
      console.log(`keychain: ${keys} keys, ${2 * keys} instances, ${(statSync(path).size / 1e6).toFixed(1)} MB, ${db.pragma('page_count', { simple: true }) as number} pages`);
      for (let pass = 1; pass <= passes; pass++) {
        const started = performance.now();
        db.exec('BEGIN IMMEDIATE');
        const result = zeroUnusedSpace(db);
        db.pragma('shrink_memory');
        db.exec('COMMIT');
        const ms = performance.now() - started;
        console.log(`pass ${pass}: ${ms.toFixed(1)} ms, ${result.pagesRead} pages read, ${result.pagesZeroed} zeroed (${result.bytesZeroed} bytes), ${result.pagesSkipped} skipped`);
      }
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
