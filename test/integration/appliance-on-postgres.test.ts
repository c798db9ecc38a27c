/**
 * One appliance serving from PostgreSQL instead of its SQLite file (issue
 * 17), end to end on real parts: a throwaway PostgreSQL 15
 * (postgres-fixture.ts), a SoftHSM2 token, the appliance PKI and mutual TLS
 * (appliance-fixture.ts), configured as an operator would: storage =
 * postgres, postgres_server, a password file, and the consent
 * cluster_destroy = logical.
 *
 * Over the wire: a key is created, served, rolled over and its new instance
 * served; the audit trail is read and verified; the appliance is stopped and
 * opened again on the same database, and the keys and the trail are still
 * there and verify; a dual-controlled Destroy (two other officers) drops the
 * material; backups are refused with NOT_ON_POSTGRES. Each step is checked
 * in the database itself too, and the data folder holds no keychain file,
 * so the test cannot pass on SQLite. Without the consent the appliance
 * refuses to start, before it connects.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { StrongroomError } from '../../common/errors';
import { openAppliance } from '../../server/compose/open-appliance';
import { resultOf as ok, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { asSuperuser, startTestPostgres, TestPostgres } from '../support/postgres-fixture';
import { codeOf } from '../support/error-code';

const DATABASE = 'strongroom_appliance';

interface AuditLine { seq: number; hash: string; event: { operation: string | null; result: string } }
interface Verdict { ok: boolean; events: number; headSeq: number; firstBadSeq?: number }

let pg: TestPostgres;
let secrets: string;
let passwordFile: string;

beforeAll(async () => {
  pg = await startTestPostgres();
  await pg.sql(`CREATE DATABASE ${DATABASE}`);
  secrets = mkdtempSync(join(tmpdir(), 'strongroom-pg-secret-'));
  passwordFile = join(secrets, 'postgres-password');
  writeFileSync(passwordFile, `${pg.credentials.password}\n`, { mode: 0o600 });
  chmodSync(passwordFile, 0o600);
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (secrets) rmSync(secrets, { recursive: true, force: true });
}, 60_000);

/** What an operator writes in appliance.conf to serve from this PostgreSQL. */
function postgresSettings(database: string): Record<string, string> {
  return {
    storage: 'postgres',
    postgres_server: `127.0.0.1:${pg.port}`,
    postgres_database: database,
    postgres_user: pg.credentials.user,
    postgres_password_file: passwordFile,
    cluster_destroy: 'logical',
    destruction_wait: 'P0D',
  };
}

/** Rows of `sql` in `database` (the appliance's by default), read as the superuser on a connection of its own. */
async function inDatabase(sql: string, values: unknown[] = [], database = DATABASE): Promise<Array<Record<string, unknown>>> {
  return asSuperuser(pg, database, async (client) => (await client.query(sql, values)).rows as Array<Record<string, unknown>>);
}

describe('an appliance serving from PostgreSQL (storage = postgres)', () => {
  let app: TestAppliance;

  beforeAll(async () => {
    app = await startTestAppliance(postgresSettings(DATABASE));
  }, 180_000);

  afterAll(async () => app?.stop(), 60_000);

  it('creates, serves and rolls over a key, keeps the trail verifiable, and finds both again after a restart', async () => {
    expect(app.appliance.storage).toBe('postgres');
    // Nothing of the keychain is in the data folder: it is all in the database.
    expect(existsSync(join(app.dataDir, 'keychain.db'))).toBe(false);

    const officer = await app.connect(app.officer);
    await ok(officer, 'Create', { name: 'pg/payroll' });
    // Officers get no material by role: an app is granted `get` (dual-controlled: two other officers approve).
    const approved = await app.approve(await officer.request('PolicyGrant', { group: 'payroll', pattern: 'pg/*', permissions: ['get'] }));
    expect(approved.state).toBe('executed');
    const appCredentials = app.issue('payroll-app', 'app', { groups: ['payroll'] });
    let client = await app.connect(appCredentials);
    const first = await ok<{ instance: { name: string }; material: string }>(client, 'Get', { name: 'pg/payroll' });

    const rolled = await ok<{ instances: Array<{ name: string; state: string }> }>(officer, 'ReKey', { name: 'pg/payroll' });
    const second = await ok<{ instance: { name: string }; material: string }>(client, 'Get', { name: 'pg/payroll' });
    expect(second.instance.name).not.toBe(first.instance.name);
    expect(rolled.instances.map((i) => i.name)).toEqual(expect.arrayContaining([first.instance.name, second.instance.name]));
    expect(Buffer.from(second.material, 'base64').equals(Buffer.from(first.material, 'base64'))).toBe(false);
    // Both instances are rows of the database.
    const rows = await inDatabase('SELECT name FROM key_instances WHERE name = ANY($1) ORDER BY name', [[first.instance.name, second.instance.name]]);
    expect(rows).toHaveLength(2);

    const verdict = await ok<Verdict>(officer, 'AuditVerify');
    expect(verdict).toMatchObject({ ok: true });
    const operations = await ok<{ events: AuditLine[] }>(officer, 'AuditSearch', { key: 'pg/payroll', limit: 1000 });
    const seen = operations.events.map((line) => line.event);
    expect(seen.filter((e) => e.result === 'ok').map((e) => e.operation)).toEqual(expect.arrayContaining(['Create', 'Get', 'ReKey']));
    const rekeyed = await ok<{ events: AuditLine[] }>(officer, 'AuditSearch', { key: 'pg/payroll', operation: 'ReKey', type: 'operation' });
    expect(rekeyed.events).toHaveLength(1);
    const [{ count: storedEvents }] = await inDatabase('SELECT count(*)::int AS count FROM audit_events');
    expect(storedEvents).toBeGreaterThanOrEqual(verdict.events);

    await app.restart(postgresSettings(DATABASE));
    expect(app.appliance.storage).toBe('postgres');
    client = await app.connect(appCredentials);
    const again = await ok<{ instance: { name: string }; material: string }>(client, 'Get', { name: 'pg/payroll' });
    expect(again.instance.name).toBe(second.instance.name);
    expect(again.material).toBe(second.material);
    const older = await ok<{ material: string }>(client, 'Get', { name: 'pg/payroll', instance: first.instance.name });
    expect(older.material).toBe(first.material);

    const officerAgain = await app.connect(app.officer);
    const after = await ok<Verdict>(officerAgain, 'AuditVerify');
    expect(after).toMatchObject({ ok: true });
    // The same chain, grown by the restart's own events (server-stop, server-start, the checkpoints, these requests).
    expect(after.events).toBeGreaterThan(verdict.events);
    // Each run signed the head it started from (and the first run its stop): checkpoints of the HSM signing key, in the database.
    const [{ count: checkpoints }] = await inDatabase('SELECT count(*)::int AS count FROM audit_checkpoints');
    expect(checkpoints).toBeGreaterThanOrEqual(3);
    // The rollover's event is still there, at the same place in the chain.
    const kept = await ok<{ events: AuditLine[] }>(officerAgain, 'AuditSearch', { key: 'pg/payroll', operation: 'ReKey', type: 'operation' });
    expect(kept.events.map((line) => [line.seq, line.hash])).toEqual(rekeyed.events.map((line) => [line.seq, line.hash]));
  }, 180_000);

  it('destroys a key once two other officers approve, the material dropped from its row (cluster_destroy = logical)', async () => {
    const officer = await app.connect(app.officer);
    const created = await ok<{ instances: Array<{ name: string }> }>(officer, 'Create', { name: 'pg/doomed' });
    await ok(officer, 'Revoke', { name: 'pg/doomed', reason: 'superseded' });
    const done = await app.approve(await officer.request('Destroy', { name: 'pg/doomed' }));
    expect(done).toMatchObject({ state: 'executed', result: { instance: { state: 'Destroyed' } } });
    const [row] = await inDatabase('SELECT state, sealed_material FROM key_instances WHERE name = $1', [created.instances[0].name]);
    expect(row).toEqual({ state: 'Destroyed', sealed_material: null });
    expect(await ok<Verdict>(officer, 'AuditVerify')).toMatchObject({ ok: true });
  }, 120_000);

  it('refuses backups and restores with NOT_ON_POSTGRES, touching nothing', async () => {
    const officer = await app.connect(app.officer);
    for (const [op, args] of [['BackupCreate', {}], ['BackupList', {}], ['BackupRestore', { name: 'backup-20260101T000000Z-00.srbk' }]] as const) {
      const answer = await officer.request(op, args);
      expect(answer.error?.code).toBe('NOT_ON_POSTGRES');
      expect(answer.error?.message).toContain('pg_basebackup');
    }
    expect(existsSync(join(app.dataDir, 'backups'))).toBe(false);
  }, 60_000);
});

describe('opening a PostgreSQL keychain outside serving', () => {
  it('refuses at start with CONFIG_INVALID naming the setting and docs/cluster/destroy.md, before connecting', async () => {
    const database = 'strongroom_no_consent';
    await pg.sql(`CREATE DATABASE ${database}`);
    const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-pg-consent-'));
    try {
      const { cluster_destroy: _consent, ...withoutConsent } = postgresSettings(database);
      const config = loadConfig({ dataDir, env: {}, flags: withoutConsent });
      let refused: unknown = null;
      try {
        openAppliance(config, { create: true }).close();
      } catch (err) {
        refused = err;
      }
      expect(refused).toBeInstanceOf(StrongroomError);
      expect((refused as StrongroomError).code).toBe('CONFIG_INVALID');
      expect((refused as Error).message).toContain('cluster_destroy = logical');
      expect((refused as Error).message).toContain('docs/cluster/destroy.md');
      // Refused before connecting: the keychain schema was not created.
      const tables = await inDatabase(`SELECT count(*)::int AS count FROM pg_tables WHERE schemaname = 'public'`, [], database);
      expect(tables).toEqual([{ count: 0 }]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a read-only open (local status, offline audit) with NOT_ON_POSTGRES, and an empty database as not initialised', async () => {
    const database = 'strongroom_empty';
    await pg.sql(`CREATE DATABASE ${database}`);
    const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-pg-open-'));
    try {
      const config = loadConfig({ dataDir, env: {}, flags: postgresSettings(database) });
      expect(codeOf(() => openAppliance(config, { readonly: true }))).toBe('NOT_ON_POSTGRES');
      expect(codeOf(() => openAppliance(config))).toBe('KEYCHAIN_NOT_INITIALIZED');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
