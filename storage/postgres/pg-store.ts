/**
 * The keychain store on PostgreSQL (issue 17): the same KeychainStore as
 * storage/sqlite-store.ts, assembled from the same capability files
 * (storage/sqlite-*.ts) on one PgConnection (pg-connection.ts), whose
 * statements run through the better-sqlite3-shaped facade over the
 * synchronous bridge (docs/cluster/bridge.md). One implementation of each
 * capability serves both backends; PostgreSQL has its own code only where
 * the SQL cannot be shared:
 * - pg-keys.ts: listKeys (GLOB, json_each, LIMIT -1);
 * - pg-trust-snapshot.ts: a full trust check's snapshot, which needs a
 *   second connection of the backend's kind;
 * - pg-trust-journal.ts: the fold's reads and write in fewer round trips.
 *
 * Opening connects (finding the primary through Patroni, or one server
 * directly), then creates or checks the schema (pg-migrate.ts: one write
 * transaction under the cluster's writer lock; a newer schema is
 * STORAGE_SCHEMA_TOO_NEW). The database (or schema) must be Strongroom's
 * alone and sort text bytewise (C collation).
 */
import { Clock, systemClock } from '../../common/clock';
import { ComposedKeychainStore } from '../composed-keychain-store';
import { KeychainStore } from '../keychain-store';
import { SqliteApprovals } from '../sqlite-approvals';
import { SqliteAudit } from '../sqlite-audit';
import { SqliteDirectory } from '../sqlite-directory';
import { SqliteInvocations } from '../sqlite-invocations';
import { SqliteIdempotency } from '../sqlite-idempotency';
import { SqliteSchedulerLease } from '../sqlite-scheduler-lease';
import { SqliteKeySchedule } from '../sqlite-key-schedule';
import { SqliteKeychainRoot } from '../sqlite-keychain-root';
import { SqliteNaming } from '../sqlite-naming';
import type { BridgeTarget } from './bridge-protocol';
import { insertAuditRows } from './pg-audit-rows';
import { PgConnection, PgConnectionOptions } from './pg-connection';
import { PgKeys } from './pg-keys';
import { migratePostgres } from './pg-migrate';
import { PgTrustJournal } from './pg-trust-journal';
import { openPgTrustSnapshot } from './pg-trust-snapshot';
import { SyncBridge, SyncBridgeOptions } from './sync-bridge';

export interface PostgresStoreOptions extends Omit<SyncBridgeOptions, 'target'>, PgConnectionOptions {
  /** For the schema's applied_at and the bridge's deadlines; the system clock by default. */
  readonly clock?: Clock;
}

/** Connects to `target`, creates or checks the keychain schema, and assembles the store. */
export function openPostgresStore(target: BridgeTarget, options: PostgresStoreOptions): KeychainStore {
  const { clock = systemClock, acceptUnerasedDrops, ...bridgeOptions } = options;
  const settings: SyncBridgeOptions = { ...bridgeOptions, target };
  const bridge = SyncBridge.open(settings, clock);
  try {
    migratePostgres(bridge, { clock });
    return assemble(new PgConnection(bridge, { acceptUnerasedDrops }), settings);
  } catch (err) {
    bridge.close();
    throw err;
  }
}

function assemble(connection: PgConnection, settings: SyncBridgeOptions): KeychainStore {
  const { db } = connection;
  const read = <T>(op: string, fn: () => T): T => connection.read(op, fn);
  const write = <T>(op: string, fn: () => T): T => connection.write(op, fn);
  return new ComposedKeychainStore({
    connection,
    keys: new PgKeys(connection),
    schedule: new SqliteKeySchedule(connection),
    naming: new SqliteNaming(connection),
    root: new SqliteKeychainRoot(connection),
    directory: new SqliteDirectory(db, write, read),
    // Audit appends are not keychain changes (as on SQLite): the schema's counter trigger skips their tables too.
    // A group's rows go in one multi-row INSERT: each statement is a round trip the event loop waits for.
    audit: new SqliteAudit(db, (op, fn) => connection.write(op, fn, false), read, write, (records) => insertAuditRows(db.bridge, records)),
    approvals: new SqliteApprovals(db, write, read),
    trust: new PgTrustJournal(connection, () => openPgTrustSnapshot(settings)),
    invocations: new SqliteInvocations(connection),
    schedulerLease: new SqliteSchedulerLease(connection),
    idempotency: new SqliteIdempotency(connection),
  });
}
