/**
 * Every constraint of the keychain schema refuses on PostgreSQL what it
 * refuses on SQLite (differential: the same statements on a SQLite file
 * migrated by storage/migrations.ts and on a PostgreSQL database migrated
 * by storage/postgres/pg-migrate.ts, each refusal reduced to the kind of
 * constraint that made it): a duplicate (key, version), a second vote by one
 * officer on one request, an instance of a missing key, a key whose current
 * instance never comes (checked at COMMIT), JSON that is not JSON, the
 * CHECKed enumerations, the append-only audit trail. And what each accepts
 * is accepted by the other. A refused transaction leaves nothing behind.
 * PostgreSQL-only: TRUNCATE, which fires no row trigger, is refused on the
 * journaled and append-only tables.
 */
import { PgDatabase } from '../../../storage/postgres/statement-facade';
import { migratePostgres } from '../../../storage/postgres/pg-migrate';
import { SyncBridge } from '../../../storage/postgres/sync-bridge';
import { freshDatabase, MigratedSqlite, migratedSqlite } from '../../support/pg-schema-support';
import { Engine, postgresEngine, sqliteEngine } from '../../support/pg-twin';
import { startTestPostgres, TestPostgres } from '../../support/postgres-fixture';

let pg: TestPostgres;
let bridge: SyncBridge;
let lite: MigratedSqlite;
let engines: Engine[];
const opened: SyncBridge[] = [];

const MAC = Buffer.alloc(32, 7);
const T0 = '2026-12-07T10:00:00.000Z';

beforeAll(async () => {
  pg = await startTestPostgres();
  bridge = await freshDatabase(pg, opened, 'constraints');
  migratePostgres(bridge);
  lite = migratedSqlite();
  engines = [sqliteEngine(lite.db), postgresEngine(new PgDatabase(bridge))];
  for (const e of engines) {
    e.tx(() => {
      insertKey(e, 'k1', 'one', 'i1');
      insertInstance(e, 'i1', 'k1', 1);
      e.run("INSERT INTO approval_requests (id, operation, args, dual_control_class, requester, required, digest, created_at, expires_at, state, row_mac) VALUES ('r1', 'Destroy', '{}', 'destroy', 'carol', 2, 'd', ?, ?, 'pending', ?)", T0, T0, MAC);
      e.run("INSERT INTO approval_votes (request_id, officer, digest, at, row_mac) VALUES ('r1', 'alice', 'd', ?, ?)", T0, MAC);
      e.run("INSERT INTO audit_events (seq, event, prev_hash, hash) VALUES (1, '{}', ?, ?)", MAC, MAC);
      e.run("INSERT INTO audit_checkpoints (seq, hash, signed_at, signature, public_key) VALUES (1, ?, ?, ?, 'pk')", MAC, T0, MAC);
    });
  }
}, 180_000);

afterAll(async () => {
  lite?.close();
  for (const b of opened.splice(0)) b.close();
  await pg?.stop();
}, 60_000);

function insertKey(e: Engine, id: string, name: string, current: string, overrides: { attributes?: string; policy?: string; sensitive?: number } = {}): void {
  e.run(
    `INSERT INTO keys (id, namespace, name, algorithm, usage_mask, description, owner, custom_attributes, rollover_policy, current_instance_id, created_at, updated_at, row_mac, sensitive)
     VALUES (?, 'ns', ?, 'AES-256', 4294967295, '', 'alice', ?, ?, ?, ?, ?, ?, ?)`,
    id, name, overrides.attributes ?? '{"team":"a"}', overrides.policy ?? 'manual', current, T0, T0, MAC, overrides.sensitive ?? 0,
  );
}

function insertInstance(e: Engine, id: string, keyId: string, version: number, overrides: { fresh?: number; origin?: string } = {}): void {
  e.run(
    `INSERT INTO key_instances (id, key_id, name, version, state, sealed_material, seal_version, created_at, row_mac, fresh, origin)
     VALUES (?, ?, ?, ?, 'Active', ?, 1, ?, ?, ?, ?)`,
    id, keyId, `${keyId}/${version}/${id}`, version, MAC, T0, MAC, overrides.fresh ?? 0, overrides.origin ?? 'generated',
  );
}

/** Each case: a transaction, and what both engines must answer. */
const CASES: ReadonlyArray<readonly [string, string, (e: Engine) => void]> = [
  ['a second instance with the same (key, version)', 'unique', (e) => insertInstance(e, 'i2', 'k1', 1)],
  ['a second vote by the same officer on the same request', 'unique', (e) => e.run("INSERT INTO approval_votes (request_id, officer, digest, at, row_mac) VALUES ('r1', 'alice', 'd2', ?, ?)", T0, MAC)],
  ['an instance of a missing key', 'foreign-key', (e) => insertInstance(e, 'i3', 'no-such-key', 1)],
  ['a key whose current instance is never inserted (checked at COMMIT)', 'foreign-key', (e) => insertKey(e, 'k2', 'two', 'no-such-instance')],
  ['an alias to a missing key', 'foreign-key', (e) => e.run("INSERT INTO aliases (alias, key_id, updated_at, row_mac) VALUES ('a', 'no-such-key', ?, ?)", T0, MAC)],
  ['a vote on a missing request', 'foreign-key', (e) => e.run("INSERT INTO approval_votes (request_id, officer, digest, at, row_mac) VALUES ('no-such', 'bob', 'd', ?, ?)", T0, MAC)],
  ['deleting a key that instances still belong to', 'foreign-key', (e) => e.run("DELETE FROM keys WHERE id = 'k1'")],
  ['a second key with the same namespace and name', 'unique', (e) => {
    insertKey(e, 'k3', 'one', 'i4');
    insertInstance(e, 'i4', 'k3', 1);
  }],
  ['custom attributes that are not JSON', 'check', (e) => {
    insertKey(e, 'k4', 'four', 'i5', { attributes: '{"team":' });
    insertInstance(e, 'i5', 'k4', 1);
  }],
  ['grant permissions that are not JSON', 'check', (e) => e.run("INSERT INTO grants (id, subject_kind, subject, pattern, permissions, created_at, created_by, row_mac) VALUES ('g', 'client', 'c', '*', 'get,list', ?, 'alice', ?)", T0, MAC)],
  ['an unknown rollover policy', 'check', (e) => {
    insertKey(e, 'k5', 'five', 'i6', { policy: 'weekly' });
    insertInstance(e, 'i6', 'k5', 1);
  }],
  ['a Fresh flag that is not 0 or 1', 'check', (e) => {
    insertKey(e, 'k6', 'six', 'i7');
    insertInstance(e, 'i7', 'k6', 1, { fresh: 2 });
  }],
  ['an unknown material origin', 'check', (e) => {
    insertKey(e, 'k7', 'seven', 'i8');
    insertInstance(e, 'i8', 'k7', 1, { origin: 'found' });
  }],
  ['an instance version below 1', 'check', (e) => insertInstance(e, 'i9', 'k1', 0)],
  ['an unknown client role', 'check', (e) => e.run("INSERT INTO clients (name, role, groups, serial_number, fingerprint256, not_before, not_after, created_at, row_mac) VALUES ('c', 'root', '[]', '1', 'f', ?, ?, ?, ?)", T0, T0, T0, MAC)],
  ['an unseal threshold above the shares', 'check', (e) => e.run("INSERT INTO unseal_policy (id, binding, shares, threshold, created_at) VALUES (1, 'hsm+shares', 2, 3, ?)", T0)],
  ['an approval request in an unknown state', 'check', (e) => e.run("INSERT INTO approval_requests (id, operation, args, dual_control_class, requester, required, digest, created_at, expires_at, state, row_mac) VALUES ('r2', 'Destroy', '{}', 'destroy', 'carol', 2, 'd', ?, ?, 'limbo', ?)", T0, T0, MAC)],
  ['a second keychain meta row', 'check', (e) => e.run("INSERT INTO keychain_meta (id, keychain_id, created_at, token_label, token_serial) VALUES (2, 'x', ?, 'l', 's')", T0)],
  ['a negative invocation mark', 'check', (e) => e.run("INSERT INTO gcm_invocations (instance_id, reserved, row_mac) VALUES ('i1', -1, ?)", MAC)],
  ['a key without its row MAC', 'not-null', (e) => e.run("UPDATE keys SET row_mac = NULL WHERE id = 'k1'")],
  ['changing an audit event', 'trigger', (e) => e.run("UPDATE audit_events SET event = '{\"forged\":true}' WHERE seq = 1")],
  ['deleting an audit event', 'trigger', (e) => e.run('DELETE FROM audit_events WHERE seq = 1')],
  ['changing an audit checkpoint', 'trigger', (e) => e.run("UPDATE audit_checkpoints SET public_key = 'other' WHERE seq = 1")],
  ['deleting an audit checkpoint', 'trigger', (e) => e.run('DELETE FROM audit_checkpoints WHERE seq = 1')],
  ['an audit event that repeats a seq', 'unique', (e) => e.run("INSERT INTO audit_events (seq, event, prev_hash, hash) VALUES (1, '{}', ?, ?)", MAC, MAC)],
  ['an audit event at seq 0', 'check', (e) => e.run("INSERT INTO audit_events (seq, event, prev_hash, hash) VALUES (0, '{}', ?, ?)", MAC, MAC)],
];

describe('constraints: PostgreSQL refuses what SQLite refuses', () => {
  it.each(CASES)('%s: %s on both', (_what, expected, write) => {
    const counts = (e: Engine): unknown => e.all('SELECT (SELECT count(*) FROM keys) AS keys, (SELECT count(*) FROM key_instances) AS instances, (SELECT count(*) FROM approval_votes) AS votes, (SELECT count(*) FROM audit_events) AS events');
    for (const e of engines) {
      const before = counts(e);
      expect([e.name, e.refusal(() => write(e))]).toEqual([e.name, expected]);
      expect([e.name, counts(e)]).toEqual([e.name, before]);
    }
  });

  it('accepts on both what the constraints allow: a second version, a second officer, a 32-bit usage mask, valid JSON', () => {
    for (const e of engines) {
      expect([e.name, e.refusal(() => {
        insertInstance(e, 'i2', 'k1', 2);
        e.run("INSERT INTO approval_votes (request_id, officer, digest, at, row_mac) VALUES ('r1', 'bob', 'd', ?, ?)", T0, MAC);
        e.run("INSERT INTO grants (id, subject_kind, subject, pattern, permissions, created_at, created_by, row_mac) VALUES ('g1', 'group', 'ops', 'ns/*', '[\"get\"]', ?, 'alice', ?)", T0, MAC);
      })]).toEqual([e.name, 'none']);
      expect(e.all("SELECT usage_mask AS m FROM keys WHERE id = 'k1'")).toEqual([{ m: 4294967295 }]);
    }
  });
});

describe('json_valid, the CHECKs\' test', () => {
  const DOCS = ['{}', '[]', '{"a":"b"}', '["get","list"]', '1', '"text"', 'null', 'true', ' { "a" : [ 1, 2.5e3, -0 ] } ', '{"a":1,"a":2}', '"\\u00e9"',
    '', ' ', '{', '{"a":}', "{'a':1}", '{a:1}', '[1,]', 'NaN', 'undefined', '{"a":1}x', '"\\x41"', '01'];

  it.each(DOCS)('answers as SQLite does for %j', (doc) => {
    const [sqlite, postgres] = engines;
    const liteAnswer = (sqlite.all('SELECT json_valid(?) AS ok', doc) as Array<{ ok: number }>)[0].ok === 1;
    const pgAnswer = (postgres.all('SELECT json_valid(?) AS ok', doc) as Array<{ ok: boolean }>)[0].ok;
    expect(pgAnswer).toBe(liteAnswer);
  });
});

describe('PostgreSQL only', () => {
  it.each(['audit_events', 'audit_checkpoints', 'keys', 'grants', 'gcm_invocations'])('TRUNCATE %s is refused (it would fire no row trigger)', (table) => {
    const e = engines[1];
    expect(e.refusal(() => e.run(`TRUNCATE ${table} CASCADE`))).toBe('trigger');
  });

  it('refuses an audit event without a seq (SQLite would pick the next rowid): the chain\'s seq is always the appender\'s', () => {
    const postgres = engines[1];
    expect(postgres.refusal(() => postgres.run("INSERT INTO audit_events (event, prev_hash, hash) VALUES ('{}', ?, ?)", MAC, MAC))).toBe('not-null');
  });
});
