/**
 * Keychain stores on the throwaway PostgreSQL (postgres-fixture.ts) for the
 * PostgreSQL store's tests (test/storage/postgres/pg-store*.test.ts): a
 * template database that openPostgresStore itself created the schema in,
 * then a fresh database per test copied from it (CREATE DATABASE …
 * TEMPLATE, much cheaper than creating the schema again), dropped when the
 * test is done. Synchronous, like the store: a conformance factory can call it.
 */
import { openPostgresStore, PostgresStoreOptions } from '../../storage/postgres/pg-store';
import { SyncBridge } from '../../storage/postgres/sync-bridge';
import { KeychainStore } from '../../storage/keychain-store';
import type { TestPostgres } from './postgres-fixture';

const TEMPLATE = 'keychain_template';

export interface PgStoreDatabases {
  /** A new database holding the current schema and nothing else; its name. */
  create(): string;
  /** Opens a store on `database` (one of create()'s). */
  open(database: string, options?: Partial<PostgresStoreOptions>): KeychainStore;
  /** Drops `database`, ending any session still on it. */
  drop(database: string): void;
  close(): void;
}

export async function pgStoreDatabases(pg: TestPostgres, applicationName: string): Promise<PgStoreDatabases> {
  await pg.sql(`CREATE DATABASE ${TEMPLATE}`);
  const open = (database: string, options: Partial<PostgresStoreOptions> = {}): KeychainStore =>
    openPostgresStore(pg.target, { credentials: { ...pg.credentials, database }, applicationName, ...options });
  open(TEMPLATE).close();
  const admin = SyncBridge.open({ target: pg.target, credentials: pg.credentials, applicationName: `${applicationName}-admin` });
  let count = 0;
  return {
    create: () => {
      const database = `${applicationName.replace(/\W/g, '_')}_${++count}`;
      // CREATE DATABASE waits (bounded, 5 s) for the template's last session to end.
      admin.query(`CREATE DATABASE ${database} TEMPLATE ${TEMPLATE}`);
      return database;
    },
    open,
    drop: (database) => {
      admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
    },
    close: () => admin.close(),
  };
}
