/**
 * Helpers for the PostgreSQL schema tests (test/storage/postgres/pg-*.test.ts):
 * a fresh database per test on the one throwaway server, a bridge to it, and
 * a SQLite file migrated by storage/migrations.ts to compare with (the
 * differential tests run the same statements on both).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runMigrations } from '../../storage/migrations';
import { applyPragmas } from '../../storage/sqlite-pragmas';
import { SyncBridge } from '../../storage/postgres/sync-bridge';
import type { TestPostgres } from './postgres-fixture';

let databases = 0;

/** CREATE DATABASE with a name of its own; returns a bridge to it (closed by closeAll). */
export async function freshDatabase(pg: TestPostgres, opened: SyncBridge[], prefix = 'schema'): Promise<SyncBridge> {
  const name = `${prefix}_${process.pid}_${++databases}`;
  await pg.sql(`CREATE DATABASE ${name}`);
  const bridge = SyncBridge.open({ target: pg.target, credentials: { ...pg.credentials, database: name }, applicationName: 'pg-schema-test' });
  opened.push(bridge);
  return bridge;
}

export interface MigratedSqlite {
  readonly db: Database.Database;
  close(): void;
}

/** A SQLite keychain file at the latest schema, with the store's own pragmas (foreign keys on). */
export function migratedSqlite(): MigratedSqlite {
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-pg-schema-'));
  const db = new Database(join(dir, 'keychain.db'));
  applyPragmas(db, false);
  runMigrations(db);
  return {
    db,
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs fn in a write transaction on the bridge; rolls back and rethrows if it throws. */
export function inWrite<T>(bridge: SyncBridge, fn: () => T): T {
  bridge.begin(true);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    bridge.rollback();
    throw err;
  }
  bridge.commit();
  return result;
}
