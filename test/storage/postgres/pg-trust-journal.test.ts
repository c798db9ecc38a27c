/**
 * The trust journal's triggers on PostgreSQL (storage/postgres/schema-triggers.sql.ts)
 * write exactly the journal rows SQLite's (storage/migration-trust.sql.ts)
 * write, for the same statements run on both — the keychain's own SQL from
 * storage/sqlite-rows.ts where it has one, through the bridge's facade:
 * inserts, updates (journaled only when the row MAC changes), upserts that
 * conflict, deletes, and a namespace's multi-row deletes, on keys,
 * instances, aliases, clients, grants, approvals, votes, quorums and
 * invocation marks. Audit appends journal nothing.
 *
 * And the keychain change counter: on PostgreSQL the triggers move it once
 * per transaction that writes a keychain table, never for audit appends,
 * checkpoints, sink cursors, invocation marks or the trust state, nor for a
 * transaction or savepoint that is rolled back. (SQLite's connection code
 * bumps it instead, storage/sqlite-connection.ts, so raw statements on the
 * SQLite side are not compared for it.)
 */
import { PgDatabase } from '../../../storage/postgres/statement-facade';
import { migratePostgres } from '../../../storage/postgres/pg-migrate';
import { SyncBridge } from '../../../storage/postgres/sync-bridge';
import { SQL } from '../../../storage/sqlite-rows';
import { freshDatabase, MigratedSqlite, migratedSqlite } from '../../support/pg-schema-support';
import { Engine, postgresEngine, sqliteEngine } from '../../support/pg-twin';
import { startTestPostgres, TestPostgres } from '../../support/postgres-fixture';

let pg: TestPostgres;
let lite: MigratedSqlite;
let sqlite: Engine;
let postgres: Engine;
const opened: SyncBridge[] = [];

beforeAll(async () => {
  pg = await startTestPostgres();
  const bridge = await freshDatabase(pg, opened, 'journal');
  migratePostgres(bridge);
  lite = migratedSqlite();
  sqlite = sqliteEngine(lite.db);
  postgres = postgresEngine(new PgDatabase(bridge));
}, 180_000);

afterAll(async () => {
  lite?.close();
  for (const b of opened.splice(0)) b.close();
  await pg?.stop();
}, 60_000);

const T0 = '2026-12-07T10:00:00.000Z';
let macs = 0;
/** A distinct 32-byte MAC each call, the same on both engines (the steps run in order on each). */
const mac = (label: string): Buffer => Buffer.concat([Buffer.from(`${label}:${++macs}`.padEnd(16, '.')), Buffer.alloc(16, macs)]);

const key = (id: string, current: string, rowMac: Buffer) => ({
  id, namespace: 'ns', name: id, algorithm: 'AES-256', usageMask: 12, description: '', owner: 'alice', customAttributes: '{}',
  rolloverPolicy: 'manual', cryptoperiod: null, currentInstanceId: current, nextRolloverAt: null, protectPeriod: null, processPeriod: null,
  createdAt: T0, updatedAt: T0, facts: null, sensitive: 0, rowMac,
});

const instance = (id: string, keyId: string, version: number, rowMac: Buffer) => ({
  id, keyId, name: `${keyId}/${version}`, version, state: 'Active', sealedMaterial: Buffer.alloc(48, 1), sealVersion: 1, createdAt: T0,
  activatedAt: T0, deactivatedAt: null, destroyedAt: null, destroyAt: null, protectStopAt: null, processStopAt: null, processStartAt: null,
  origin: 'generated', revocationReason: null, compromisedAt: null, compromiseOccurredAt: null, usageLimit: null, fresh: 0, rowMac,
});

const instanceChange = (instanceId: string, state: string, rowMac: Buffer, dropMaterial: number) => ({
  instanceId, state, rowMac, dropMaterial,
  setActivatedAt: 0, activatedAt: null, setDeactivatedAt: 1, deactivatedAt: T0, setDestroyedAt: 0, destroyedAt: null, setDestroyAt: 0, destroyAt: null,
  setProtectStopAt: 0, protectStopAt: null, setProcessStopAt: 0, processStopAt: null, setRevocationReason: 0, revocationReason: null,
  setCompromisedAt: 0, compromisedAt: null, setCompromiseOccurredAt: 0, compromiseOccurredAt: null, setFresh: 1, fresh: 1,
});

const UPSERT_MARK = 'INSERT INTO gcm_invocations (instance_id, reserved, row_mac) VALUES (?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET reserved = excluded.reserved, row_mac = excluded.row_mac';
const INSERT_CLIENT = `INSERT INTO clients (name, role, groups, serial_number, fingerprint256, not_before, not_after, created_at, revoked_at, row_mac)
  VALUES (@name, 'app', '["ops"]', '01', @name, @t, @t, @t, NULL, @rowMac)`;
const PUT_QUORUM = `INSERT INTO dual_control_quorums (dual_control_class, required, updated_at, updated_by, row_mac) VALUES (?, ?, ?, 'alice', ?)
  ON CONFLICT (dual_control_class) DO UPDATE SET required = excluded.required, updated_at = excluded.updated_at, updated_by = excluded.updated_by, row_mac = excluded.row_mac`;

interface Step {
  readonly what: string;
  /** Whether it is a keychain change (the counter moves once). */
  readonly keychain: boolean;
  /** Whether SQLite journals anything for it (so that the comparison means something). */
  readonly journals: boolean;
  /** Multi-row statements: the journal is compared as a multiset (the set-hash is an XOR: order does not matter). */
  readonly unordered?: boolean;
  /** Each value (MACs) made once, so both engines get the same. */
  readonly prepare: () => (e: Engine) => void;
}

const STEPS: readonly Step[] = [
  { what: 'a key and its first instance', keychain: true, journals: true, prepare: () => {
    const [k, i] = [mac('k1'), mac('i1')];
    return (e) => {
      e.run(SQL.insertKey, key('k1', 'i1', k));
      e.run(SQL.insertInstance, instance('i1', 'k1', 1, i));
    };
  } },
  { what: 'a rollover: a second instance made current', keychain: true, journals: true, prepare: () => {
    const [i, k] = [mac('i2'), mac('k1b')];
    return (e) => {
      e.run(SQL.insertInstance, instance('i2', 'k1', 2, i));
      e.run(SQL.setCurrent, { instanceId: 'i2', updatedAt: T0, rowMac: k, setNext: 0, nextRolloverAt: null, keyId: 'k1' });
    };
  } },
  { what: 'an update that leaves the row MAC as it was', keychain: true, journals: false, prepare: () => (e) => {
    e.run('UPDATE keys SET updated_at = ? WHERE id = ?', '2026-12-08T00:00:00.000Z', 'k1');
  } },
  { what: 'an instance deactivated, its material dropped', keychain: true, journals: true, prepare: () => {
    const i = mac('i1b');
    return (e) => e.run(SQL.updateInstance, instanceChange('i1', 'Deactivated', i, 1));
  } },
  { what: 'an alias inserted, replaced by an upsert, upserted with the same MAC, then deleted', keychain: true, journals: true, prepare: () => {
    const [a, b] = [mac('a1'), mac('a1b')];
    return (e) => {
      e.run(SQL.putAlias, { alias: 'a1', keyId: 'k1', updatedAt: T0, rowMac: a });
      e.run(SQL.putAlias, { alias: 'a1', keyId: 'k1', updatedAt: T0, rowMac: b });
      e.run(SQL.putAlias, { alias: 'a1', keyId: 'k1', updatedAt: '2026-12-09T00:00:00.000Z', rowMac: b });
      e.run(SQL.deleteAlias, 'a1');
    };
  } },
  { what: 'a client registered, revoked, deleted', keychain: true, journals: true, prepare: () => {
    const [c, r] = [mac('c1'), mac('c1r')];
    return (e) => {
      e.run(INSERT_CLIENT, { name: 'c1', t: T0, rowMac: c });
      e.run('UPDATE clients SET revoked_at = ?, row_mac = ? WHERE name = ? AND revoked_at IS NULL', T0, r, 'c1');
      e.run('DELETE FROM clients WHERE name = ?', 'c1');
    };
  } },
  { what: 'a grant added and deleted', keychain: true, journals: true, prepare: () => {
    const g = mac('g1');
    return (e) => {
      e.run("INSERT INTO grants (id, subject_kind, subject, pattern, permissions, created_at, created_by, row_mac) VALUES ('g1', 'group', 'ops', 'ns/*', '[\"get\"]', ?, 'alice', ?)", T0, g);
      e.run('DELETE FROM grants WHERE id = ?', 'g1');
    };
  } },
  { what: 'an approval request, a vote, its state change, a quorum set twice', keychain: true, journals: true, prepare: () => {
    const [r, v, s, q1, q2] = [mac('r1'), mac('v1'), mac('r1s'), mac('q1'), mac('q2')];
    return (e) => {
      e.run("INSERT INTO approval_requests (id, operation, args, dual_control_class, requester, required, digest, created_at, expires_at, state, row_mac) VALUES ('r1', 'Destroy', '{}', 'destroy', 'carol', 1, 'd', ?, ?, 'pending', ?)", T0, T0, r);
      e.run("INSERT INTO approval_votes (request_id, officer, digest, at, row_mac) VALUES ('r1', 'alice', 'd', ?, ?)", T0, v);
      e.run("UPDATE approval_requests SET state = 'approved', row_mac = ? WHERE id = 'r1' AND state = 'pending'", s);
      e.run(PUT_QUORUM, 'destroy', 2, T0, q1);
      e.run(PUT_QUORUM, 'destroy', 3, T0, q2);
    };
  } },
  { what: 'an invocation mark set, then raised', keychain: false, journals: true, prepare: () => {
    const [m1, m2] = [mac('m1'), mac('m2')];
    return (e) => {
      e.run(UPSERT_MARK, 'i2', 1024, m1);
      e.run(UPSERT_MARK, 'i2', 2048, m2);
    };
  } },
  { what: 'audit events appended, a checkpoint and a sink cursor written', keychain: false, journals: false, prepare: () => {
    const h = mac('h');
    return (e) => {
      e.run('INSERT INTO audit_events (seq, event, prev_hash, hash) VALUES (?, ?, ?, ?)', 1, '{}', h, h);
      e.run('INSERT INTO audit_events (seq, event, prev_hash, hash) VALUES (?, ?, ?, ?)', 2, '{}', h, h);
      e.run("INSERT INTO audit_checkpoints (seq, hash, signed_at, signature, public_key) VALUES (2, ?, ?, ?, 'pk')", h, T0, h);
      e.run("INSERT INTO audit_sink_cursors (sink, seq, hash, saved_at, signature) VALUES ('siem', 2, ?, ?, ?)", h, T0, h);
    };
  } },
  { what: 'the trust state written', keychain: false, journals: false, prepare: () => {
    const sealed = mac('state');
    return (e) => e.run(`INSERT INTO trust_state (id, counter, sealed, updated_at) VALUES (1, @counter, @sealed, @updatedAt)
      ON CONFLICT (id) DO UPDATE SET counter = excluded.counter, sealed = excluded.sealed, updated_at = excluded.updated_at`, { counter: 1, sealed, updatedAt: T0 });
  } },
  { what: 'a namespace deleted: its aliases, instances and keys, several rows per statement', keychain: true, journals: true, unordered: true, prepare: () => {
    const [a, b] = [mac('a2'), mac('a3')];
    return (e) => {
      e.run(SQL.putAlias, { alias: 'a2', keyId: 'k1', updatedAt: T0, rowMac: a });
      e.run(SQL.putAlias, { alias: 'a3', keyId: 'k1', updatedAt: T0, rowMac: b });
      e.run(SQL.deleteNamespaceAliases, 'ns');
      e.run(SQL.deleteNamespaceInstances, 'ns');
      e.run(SQL.deleteNamespaceKeys, 'ns');
    };
  } },
];

interface Entry {
  readonly tbl: string;
  readonly oldMac: string | null;
  readonly newMac: string | null;
}

/** The journal, as hex (comparable), emptied in the same transaction, as the trust ledger's fold empties it. */
function takeJournal(e: Engine): Entry[] {
  return e.tx(() => {
    const rows = e.all('SELECT tbl, old_mac AS oldMac, new_mac AS newMac FROM trust_journal ORDER BY seq') as Array<{ tbl: string; oldMac: Buffer | null; newMac: Buffer | null }>;
    e.run('DELETE FROM trust_journal');
    return rows.map((r) => ({ tbl: r.tbl, oldMac: r.oldMac?.toString('hex') ?? null, newMac: r.newMac?.toString('hex') ?? null }));
  });
}

const counter = (): number => (postgres.all('SELECT counter FROM keychain_changes WHERE id = 1') as Array<{ counter: number }>)[0].counter;
const sorted = (entries: Entry[]): string[] => entries.map((x) => JSON.stringify(x)).sort();

describe('the trust journal: PostgreSQL journals what SQLite journals', () => {
  it.each(STEPS.map((s) => [s.what, s] as const))('%s', (_what, step) => {
    const write = step.prepare();
    const before = counter();
    sqlite.tx(() => write(sqlite));
    postgres.tx(() => write(postgres));
    const fromSqlite = takeJournal(sqlite);
    const fromPostgres = takeJournal(postgres);
    if (step.unordered) expect(sorted(fromPostgres)).toEqual(sorted(fromSqlite));
    else expect(fromPostgres).toEqual(fromSqlite);
    expect(fromSqlite.length > 0).toBe(step.journals);
    expect(counter() - before).toBe(step.keychain ? 1 : 0);
  });
});

describe('the keychain change counter on PostgreSQL', () => {
  it('does not move for a rolled-back keychain transaction, nor for a rolled-back savepoint beside an audit append', () => {
    const before = counter();
    expect(postgres.refusal(() => {
      postgres.run(INSERT_CLIENT, { name: 'gone', t: T0, rowMac: mac('gone') });
      throw Object.assign(new Error('undo'), { code: 'TEST_UNDO' });
    })).toBe('other: TEST_UNDO undefined');
    expect(counter()).toBe(before);
    postgres.tx(() => {
      postgres.run('INSERT INTO audit_events (seq, event, prev_hash, hash) VALUES (?, ?, ?, ?)', 3, '{}', mac('h3'), mac('h3'));
      expect(postgres.refusal(() => {
        postgres.run(INSERT_CLIENT, { name: 'gone2', t: T0, rowMac: mac('gone2') });
        throw Object.assign(new Error('undo'), { code: 'TEST_UNDO' });
      })).toBe('other: TEST_UNDO undefined');
    });
    expect(counter()).toBe(before);
    expect(takeJournal(postgres)).toEqual([]);
  });

  it('moves once for a transaction of many keychain statements, and again for the next', () => {
    const before = counter();
    postgres.tx(() => {
      for (let n = 0; n < 5; n++) postgres.run(INSERT_CLIENT, { name: `many-${n}`, t: T0, rowMac: mac(`many-${n}`) });
      postgres.run("DELETE FROM clients WHERE name LIKE 'many-%'");
    });
    expect(counter()).toBe(before + 1);
    postgres.tx(() => postgres.run("INSERT INTO system_secrets (name, sealed, seal_version, created_at) VALUES ('s', ?, 1, ?)", mac('s'), T0));
    expect(counter()).toBe(before + 2);
    expect(takeJournal(postgres)).toHaveLength(10);
  });
});
