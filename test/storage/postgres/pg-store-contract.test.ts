/**
 * The keychain store's contract suites (test/storage/*-conformance.ts, the
 * same ones SQLite and the memory store run) against openPostgresStore on a
 * real PostgreSQL 15 (test/support/postgres-fixture.ts): one server for the
 * file, a fresh database for every test, copied from a template database
 * that openPostgresStore itself created the schema in (so every test also
 * opens an existing, current schema), and dropped after the test
 * (test/support/pg-store-support.ts).
 *
 * Every suite of keychain-store-conformance.ts runs here. The stores are
 * opened with acceptUnerasedDrops: the contracts of a destroy and of a
 * namespace deletion are about the rows, and PostgreSQL cannot erase the
 * dropped bytes (storage/postgres/pg-connection.ts); that refusal without
 * the option is tested in pg-store.test.ts.
 */
import { pgStoreDatabases, PgStoreDatabases } from '../../support/pg-store-support';
import { startTestPostgres, TestPostgres } from '../../support/postgres-fixture';
import { describeKeychainStoreConformance } from '../keychain-store-conformance';

let pg: TestPostgres;
let databases: PgStoreDatabases;

beforeAll(async () => {
  pg = await startTestPostgres();
  databases = await pgStoreDatabases(pg, 'pg_store_contract');
}, 180_000);

afterAll(async () => {
  databases?.close();
  await pg?.stop();
}, 60_000);

describeKeychainStoreConformance('PostgresStore', () => {
  const database = databases.create();
  const store = databases.open(database, { acceptUnerasedDrops: true });
  return {
    store,
    cleanup: () => {
      store.close();
      databases.drop(database);
    },
  };
});
