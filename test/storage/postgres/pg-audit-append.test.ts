/**
 * Audit group commits on PostgreSQL (storage/postgres/pg-audit-rows.ts), on
 * a real PostgreSQL 15 with a fresh database per test: a group is one
 * multi-row INSERT (each statement is a round trip the event loop waits for
 * through the bridge), more only past the protocol's parameter limit, and a
 * statement the database fails part-way through leaves nothing of the group.
 *
 * What the server did is seen from the server: a statement-level trigger,
 * added as the superuser, counts the INSERT statements on audit_events; a
 * row-level one refuses one chosen seq in the middle of a group.
 */
import { chainEvents, MAX_EVENTS_PER_COMMIT } from '../../../domain/audit/audit-writer';
import { verifyStore } from '../../../domain/audit/audit-chain';
import { KeychainStore } from '../../../storage/keychain-store';
import { MAX_ROWS_PER_STATEMENT } from '../../../storage/postgres/pg-audit-rows';
import { pgStoreDatabases, PgStoreDatabases } from '../../support/pg-store-support';
import { asSuperuser, startTestPostgres, TestPostgres } from '../../support/postgres-fixture';
import { auditEvents } from '../audit-append-conformance';
import { codeOf } from '../store-fixtures';

let pg: TestPostgres;
let databases: PgStoreDatabases;
let database: string;
let store: KeychainStore | null = null;

beforeAll(async () => {
  pg = await startTestPostgres();
  databases = await pgStoreDatabases(pg, 'pg_audit_append');
}, 180_000);

afterAll(async () => {
  databases?.close();
  await pg?.stop();
}, 60_000);

beforeEach(() => {
  database = databases.create();
  store = databases.open(database);
});

afterEach(() => {
  store?.close();
  store = null;
  databases.drop(database);
});

function opened(): KeychainStore {
  if (store === null) throw new Error('no store');
  return store;
}

/** Counts every INSERT statement on audit_events from now on, in a table of the test's database. */
async function countInsertStatements(): Promise<void> {
  await asSuperuser(pg, database, async (client) => {
    await client.query(`CREATE TABLE test_audit_inserts (statements bigint NOT NULL)`);
    await client.query(`INSERT INTO test_audit_inserts VALUES (0)`);
    await client.query(`CREATE FUNCTION test_count_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN UPDATE test_audit_inserts SET statements = statements + 1; RETURN NULL; END $$`);
    await client.query(`CREATE TRIGGER test_count_audit_insert AFTER INSERT ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION test_count_audit_insert()`);
  });
}

async function insertStatements(): Promise<number> {
  const rows = await asSuperuser(pg, database, (client) => client.query(`SELECT statements FROM test_audit_inserts`));
  return Number(rows.rows[0].statements);
}

function appendGroup(events: readonly string[]): number[] {
  return opened().audit.appendAuditRecordsFromHead((head) => chainEvents(head, events)).map((r) => r.seq);
}

describe('audit group commits on PostgreSQL', () => {
  it('inserts a full group commit with one statement', async () => {
    await countInsertStatements();
    appendGroup(auditEvents(0, 1));
    expect(await insertStatements()).toBe(1);
    appendGroup(auditEvents(1, MAX_EVENTS_PER_COMMIT));
    expect(await insertStatements()).toBe(2);
    expect(opened().audit.auditHead()?.seq).toBe(MAX_EVENTS_PER_COMMIT + 1);
    expect(verifyStore(opened().audit)).toEqual({ ok: true, events: MAX_EVENTS_PER_COMMIT + 1 });
  });

  it('splits a group only where the parameter limit makes it, keeping order with no gap', async () => {
    await countInsertStatements();
    const count = MAX_ROWS_PER_STATEMENT + 2;
    const seqs = appendGroup(auditEvents(0, count));
    expect(await insertStatements()).toBe(2);
    const stored = opened().audit.readAuditRecords(1, count + 1).map((r) => r.seq);
    expect(stored).toEqual(seqs);
    expect(stored).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(verifyStore(opened().audit)).toEqual({ ok: true, events: count });
  });

  it('leaves nothing of a group whose statement the database fails on a row in its middle; the next group continues the chain', async () => {
    appendGroup(auditEvents(0, 3));
    const before = opened().audit.auditHead();
    await asSuperuser(pg, database, async (client) => {
      await client.query(`CREATE FUNCTION test_refuse_seq() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.seq = 53 THEN RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$`);
      await client.query(`CREATE TRIGGER test_refuse_seq BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_refuse_seq()`);
    });
    expect(codeOf(() => appendGroup(auditEvents(3, 100)))).toBe('STORAGE_ERROR');
    expect(opened().audit.auditHead()).toEqual(before);
    expect(opened().audit.readAuditRecords(4, 200)).toEqual([]);
    await asSuperuser(pg, database, (client) => client.query(`DROP TRIGGER test_refuse_seq ON audit_events`));
    expect(appendGroup(auditEvents(200, 60))).toEqual(Array.from({ length: 60 }, (_, i) => i + 4));
    expect(verifyStore(opened().audit)).toEqual({ ok: true, events: 63 });
  });
});
