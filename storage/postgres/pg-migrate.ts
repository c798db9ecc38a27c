/**
 * Creates or checks the keychain schema on PostgreSQL through the
 * synchronous bridge, as storage/migrations.ts does for SQLite.
 *
 * The whole of it runs in one write transaction, which takes the cluster's
 * writer lock (sync-bridge begin(true)): two nodes starting at once on an
 * empty database do not both create the schema; the second waits, then finds
 * it made. The version lives in `schema_version` (one row, created with the
 * schema), numbered as SQLite's PRAGMA user_version so that both stores say
 * the same thing about a keychain:
 * - no schema_version and no table: the schema (schema.sql.ts) is created
 *   at PG_SCHEMA_VERSION, then each upgrade above it applied;
 * - no schema_version but other tables: refused, never written over;
 * - older than this code: the upgrades above it are applied, in order;
 * - the same: nothing is written;
 * - newer: refused with STORAGE_SCHEMA_TOO_NEW, like SQLite's.
 * DDL in PostgreSQL is transactional: a failure anywhere leaves the database
 * as it was.
 */
import { Clock, isoNow, systemClock } from '../../common/clock';
import { StorageError } from '../../common/errors';
import { FUNCTIONS_SQL, TRIGGERS_SQL } from './schema-triggers.sql';
import { AUDIT_TABLES_SQL, DUE_INDEXES_SQL, KEYCHAIN_TABLES_SQL, PG_SCHEMA_VERSION, SCHEMA_VERSION_SQL, TRUST_TABLES_SQL } from './schema.sql';
import type { SyncBridge } from './sync-bridge';
import { PG_UPGRADES } from './pg-upgrades';

/** One step after PG_SCHEMA_VERSION (a later SQLite migration's PostgreSQL twin). */
export interface PgUpgrade {
  /** PG_SCHEMA_VERSION + 1, + 2…: consecutive. */
  readonly version: number;
  readonly description: string;
  /** Statements (several allowed, no parameters). */
  readonly sql: string;
}

export { PG_UPGRADES };

/** The whole schema at PG_SCHEMA_VERSION, in the order it must be created. */
export const PG_SCHEMA_SQL = [FUNCTIONS_SQL, KEYCHAIN_TABLES_SQL, AUDIT_TABLES_SQL, TRUST_TABLES_SQL, DUE_INDEXES_SQL, TRIGGERS_SQL, SCHEMA_VERSION_SQL].join('\n');

export interface PgMigrationResult {
  /** The version before (null: the database was empty). */
  readonly from: number | null;
  readonly version: number;
  /** What was done: 'created', the upgrades' versions, or nothing. */
  readonly applied: ReadonlyArray<'schema' | number>;
}

export interface PgMigrateOptions {
  readonly clock?: Clock;
  readonly upgrades?: readonly PgUpgrade[];
}

/** The version this code builds to, after checking the upgrades are numbered on from PG_SCHEMA_VERSION. */
export function latestPgVersion(upgrades: readonly PgUpgrade[] = PG_UPGRADES): number {
  upgrades.forEach((u, i) => {
    if (u.version !== PG_SCHEMA_VERSION + i + 1) {
      throw new StorageError('INTERNAL_ERROR', 'PostgreSQL schema upgrades are not numbered on from the base schema', { details: { index: i, version: u.version } });
    }
  });
  return PG_SCHEMA_VERSION + upgrades.length;
}

/** Brings the schema to the latest version (see the file comment). */
export function migratePostgres(bridge: SyncBridge, options: PgMigrateOptions = {}): PgMigrationResult {
  const clock = options.clock ?? systemClock;
  const upgrades = options.upgrades ?? PG_UPGRADES;
  const latest = latestPgVersion(upgrades);
  bridge.begin(true);
  try {
    const from = readVersion(bridge);
    if (from !== null && from > latest) throw tooNew(from, latest);
    if (from !== null && from < PG_SCHEMA_VERSION) {
      throw new StorageError('STORAGE_ERROR', `the PostgreSQL keychain schema is version ${from}, older than any this Strongroom can upgrade from (${PG_SCHEMA_VERSION})`, {
        details: { schemaVersion: from, knownVersion: latest },
      });
    }
    const applied: Array<'schema' | number> = [];
    if (from === null) {
      refuseIfNotEmpty(bridge);
      bridge.query(PG_SCHEMA_SQL);
      bridge.query('INSERT INTO schema_version (id, version, applied_at) VALUES (1, $1, $2)', [PG_SCHEMA_VERSION, isoNow(clock)]);
      applied.push('schema');
    }
    for (const upgrade of upgrades) {
      if (upgrade.version <= (from ?? PG_SCHEMA_VERSION)) continue;
      bridge.query(upgrade.sql);
      bridge.query('UPDATE schema_version SET version = $1, applied_at = $2 WHERE id = 1', [upgrade.version, isoNow(clock)]);
      applied.push(upgrade.version);
    }
    if (applied.length === 0) bridge.rollback();
    else bridge.commit();
    return { from, version: latest, applied };
  } catch (err) {
    if (bridge.inTransaction) quietly(() => bridge.rollback());
    throw err;
  }
}

/**
 * For a node that must not migrate (read-only use): the schema must be
 * exactly current. Runs in a read transaction of its own.
 */
export function assertPgSchemaCurrent(bridge: SyncBridge, upgrades: readonly PgUpgrade[] = PG_UPGRADES): void {
  const latest = latestPgVersion(upgrades);
  bridge.begin(false);
  let found: number | null;
  try {
    found = readVersion(bridge);
  } finally {
    quietly(() => bridge.rollback());
  }
  if (found !== null && found > latest) throw tooNew(found, latest);
  if (found !== latest) {
    throw new StorageError('STORAGE_ERROR', found === null
      ? 'the PostgreSQL database holds no keychain schema; open it read-write once to create it'
      : 'the PostgreSQL keychain schema is older than this Strongroom; open it read-write once to migrate', {
      details: { schemaVersion: found, knownVersion: latest },
    });
  }
}

/** The recorded version, or null when there is no schema_version table. */
function readVersion(bridge: SyncBridge): number | null {
  const table = bridge.query("SELECT to_regclass('schema_version') IS NOT NULL AS present").rows[0];
  if (table?.present !== true) return null;
  const row = bridge.query('SELECT version FROM schema_version WHERE id = 1').rows[0];
  if (row === undefined || typeof row.version !== 'number') {
    throw new StorageError('STORAGE_CORRUPT', 'the PostgreSQL keychain schema has a schema_version table without its version row');
  }
  return row.version;
}

function refuseIfNotEmpty(bridge: SyncBridge): void {
  const row = bridge.query('SELECT count(*) AS n FROM pg_catalog.pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN (\'r\', \'p\', \'v\', \'m\', \'S\')').rows[0];
  const n = Number(row?.n ?? 0);
  if (n > 0) {
    throw new StorageError('STORAGE_ERROR', 'the PostgreSQL schema for the keychain already holds tables but no Strongroom schema version: give Strongroom an empty database (or schema) of its own', {
      details: { relations: n },
    });
  }
}

function tooNew(found: number, known: number): StorageError {
  return new StorageError('STORAGE_SCHEMA_TOO_NEW', 'the keychain database was written by a newer Strongroom', {
    details: { schemaVersion: found, knownVersion: known },
  });
}

function quietly(undo: () => void): void {
  try {
    undo();
  } catch {
    // The caller sees the error that made us undo; a lost connection has undone it anyway.
  }
}
