/**
 * Every statement of the SQLite keychain's SQL map (storage/sqlite-rows.ts),
 * translated by storage/postgres/translate-sql.ts, is accepted by
 * PostgreSQL's parser and planner against the PostgreSQL schema
 * (PREPARE: tables, columns and parameter types all resolve), except the
 * one the translation inventory lists as needing a rewrite (listKeys). This
 * is what keeping SQLite's names lets the next step (a PgConnection reusing
 * the sqlite-* capability files) count on. The parameter types PostgreSQL
 * infers are checked where they matter: the 0/1 flags of `CASE WHEN @setX`
 * become booleans (a bound 0 or 1 is read as false or true).
 */
import { migratePostgres } from '../../../storage/postgres/pg-migrate';
import { SyncBridge } from '../../../storage/postgres/sync-bridge';
import { translateSql } from '../../../storage/postgres/translate-sql';
import { SQL } from '../../../storage/sqlite-rows';
import { codeOf, NO_ERROR } from '../../support/error-code';
import { freshDatabase } from '../../support/pg-schema-support';
import { startTestPostgres, TestPostgres } from '../../support/postgres-fixture';

let pg: TestPostgres;
let bridge: SyncBridge;
const opened: SyncBridge[] = [];

beforeAll(async () => {
  pg = await startTestPostgres();
  bridge = await freshDatabase(pg, opened, 'statements');
  migratePostgres(bridge);
}, 180_000);

afterAll(async () => {
  for (const b of opened.splice(0)) b.close();
  await pg?.stop();
}, 60_000);

/** Statements that need a rewrite before PostgreSQL takes them (test/storage/postgres/translate-sql.test.ts lists why). */
const REWRITE_FIRST = new Set(['listKeys']);

function prepare(name: string, as = `sr_${name}`): string {
  const text = translateSql(SQL[name as keyof typeof SQL]).text;
  return codeOf(() => {
    bridge.query(`PREPARE ${as} AS ${text}`);
  });
}

/** The types PostgreSQL infers for the statement's $n, in order. */
function parameterTypes(name: string): string[] {
  const as = `sr_types_${name.toLowerCase()}`;
  expect(prepare(name, as)).toBe(NO_ERROR);
  return bridge.query('SELECT parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = $1', [as]).rows[0].types as string[];
}

describe('the SQLite keychain SQL against the PostgreSQL schema', () => {
  it.each(Object.keys(SQL).filter((n) => !REWRITE_FIRST.has(n)))('%s prepares', (name) => {
    expect(prepare(name)).toBe(NO_ERROR);
  });

  it.each([...REWRITE_FIRST])('%s is refused until it is rewritten', (name) => {
    expect(prepare(name)).toBe('STORAGE_ERROR');
  });

  it('reads the CASE WHEN flags as booleans and types the values by their columns', () => {
    // setCurrent's names in $n order: instanceId, updatedAt, rowMac, setNext, nextRolloverAt, keyId.
    expect(parameterTypes('setCurrent')).toEqual(['text', 'text', 'bytea', 'boolean', 'text', 'text']);
    expect(parameterTypes('insertKey')).toContain('bigint');
  });
});
