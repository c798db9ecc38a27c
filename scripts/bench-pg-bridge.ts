/**
 * What the synchronous bridge to PostgreSQL costs (storage/postgres/
 * sync-bridge.ts): the round trip of a trivial SELECT (one row by primary
 * key) through the bridge on loopback, beside the same query on node-postgres
 * directly (async, no worker hop) and better-sqlite3's `get` of the same
 * shape on a file in the same temp folder; then a small write transaction
 * (BEGIN with the writer lock, one INSERT, COMMIT) through the bridge beside
 * SQLite's BEGIN IMMEDIATE with synchronous = FULL (one tenth as many
 * calls). Prints calls/s, p50 and p99 of each; not a test. The throwaway
 * server runs with fsync off on tmpfs, so its commits cost no disk flush: the
 * figures are the bridge's and the protocol's, not a disk's. Starts a throwaway PostgreSQL 15
 * (test/support/postgres-fixture.ts): run as root after scripts/setup.sh.
 *
 *   node dist/scripts/bench-pg-bridge.js [--calls 10000] [--warmup 500] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { SyncBridge } from '../storage/postgres/sync-bridge';
import { PgDatabase } from '../storage/postgres/statement-facade';
import { startTestPostgres } from '../test/support/postgres-fixture';

interface Figures {
  readonly name: string;
  readonly calls: number;
  readonly callsPerSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

const ROWS = 1_000;
const SELECT_SQLITE = 'SELECT id, name, n FROM bench WHERE id = ?';
const SELECT_PG = 'SELECT id, name, n FROM bench WHERE id = $1';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} takes a positive integer`);
  return value;
}

function summarise(name: string, samplesNs: bigint[], elapsedNs: bigint): Figures {
  const sorted = samplesNs.map(Number).sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000;
  return { name, calls: sorted.length, callsPerSecond: Math.round(sorted.length / (Number(elapsedNs) / 1e9)), p50Us: Math.round(at(0.5)), p99Us: Math.round(at(0.99)) };
}

function timeSync(name: string, calls: number, warmup: number, call: (i: number) => unknown): Figures {
  for (let i = 0; i < warmup; i++) call(i);
  const samples: bigint[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const t = process.hrtime.bigint();
    if (call(i) === undefined) throw new Error(`${name}: row ${i % ROWS} missing`);
    samples.push(process.hrtime.bigint() - t);
  }
  return summarise(name, samples, process.hrtime.bigint() - start);
}

async function timeAsync(name: string, calls: number, warmup: number, call: (i: number) => Promise<unknown>): Promise<Figures> {
  for (let i = 0; i < warmup; i++) await call(i);
  const samples: bigint[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const t = process.hrtime.bigint();
    if ((await call(i)) === undefined) throw new Error(`${name}: row ${i % ROWS} missing`);
    samples.push(process.hrtime.bigint() - t);
  }
  return summarise(name, samples, process.hrtime.bigint() - start);
}

async function main(): Promise<void> {
  const calls = option('calls', 10_000);
  const warmup = option('warmup', 500);
  const json = process.argv.includes('--json');
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-bench-pg-'));
  const writes = Math.max(1, Math.floor(calls / 10));
  const pg = await startTestPostgres();
  const results: Figures[] = [];
  try {
    await pg.sql('CREATE TABLE bench (id TEXT PRIMARY KEY, name TEXT NOT NULL, n BIGINT NOT NULL)');
    await pg.sql(`INSERT INTO bench SELECT 'k' || g, 'name-' || g, g FROM generate_series(0, ${ROWS - 1}) g`);
    const sqlite = new Database(join(dir, 'bench.db'));
    sqlite.pragma('journal_mode = WAL');
    sqlite.exec('CREATE TABLE bench (id TEXT PRIMARY KEY, name TEXT NOT NULL, n INTEGER NOT NULL)');
    const insert = sqlite.prepare('INSERT INTO bench VALUES (?, ?, ?)');
    sqlite.transaction(() => {
      for (let g = 0; g < ROWS; g++) insert.run(`k${g}`, `name-${g}`, g);
    })();
    const sqliteGet = sqlite.prepare(SELECT_SQLITE);
    results.push(timeSync('better-sqlite3 get (file, WAL)', calls, warmup, (i) => sqliteGet.get(`k${i % ROWS}`)));
    sqlite.pragma('synchronous = FULL');
    sqlite.exec('CREATE TABLE writes (id INTEGER PRIMARY KEY, at TEXT NOT NULL)');
    const sqliteWrite = sqlite.prepare('INSERT INTO writes (at) VALUES (?)');
    const sqliteTx = sqlite.transaction((at: string) => sqliteWrite.run(at).changes);
    results.push(timeSync('better-sqlite3 write tx (IMMEDIATE, sync FULL)', writes, Math.min(warmup, writes), () => sqliteTx.immediate(new Date().toISOString())));
    sqlite.close();

    const bridge = SyncBridge.open({ target: pg.target, credentials: pg.credentials, applicationName: 'bench-pg-bridge' });
    results.push(timeSync('sync bridge query (worker + Atomics.wait)', calls, warmup, (i) => bridge.query(SELECT_PG, [`k${i % ROWS}`]).rows[0]));
    const facadeGet = new PgDatabase(bridge).prepare(SELECT_SQLITE);
    results.push(timeSync('sync bridge facade get (better-sqlite3 shape)', calls, warmup, (i) => facadeGet.get(`k${i % ROWS}`)));
    await pg.sql('CREATE TABLE writes (id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL)');
    results.push(timeSync('sync bridge write tx (lock, INSERT, COMMIT)', writes, Math.min(warmup, writes), () => {
      bridge.begin(true);
      const changed = bridge.query('INSERT INTO writes (at) VALUES ($1)', [new Date().toISOString()]).rowCount;
      bridge.commit();
      return changed;
    }));
    bridge.close();

    const client = new Client({ host: pg.host, port: pg.port, ...pg.credentials });
    await client.connect();
    results.push(await timeAsync('node-postgres direct (async, same thread)', calls, warmup, async (i) => (await client.query(SELECT_PG, [`k${i % ROWS}`])).rows[0]));
    await client.end();
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ calls, warmup, results }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`trivial SELECT by primary key, ${calls} calls after ${warmup} warm-up, loopback\n`);
  for (const r of results) {
    process.stdout.write(`${r.name.padEnd(48)} ${String(r.callsPerSecond).padStart(8)} calls/s   p50 ${String(r.p50Us).padStart(6)} µs   p99 ${String(r.p99Us).padStart(6)} µs\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-pg-bridge: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
