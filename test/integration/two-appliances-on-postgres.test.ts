/**
 * Two appliances serving one keychain from one PostgreSQL database (issue
 * 17, docs/cluster/one-appliance.md), on real parts: the throwaway PostgreSQL 15, three
 * SoftHSM2 tokens, mutual TLS.
 *
 * A and B each have a token of their own holding the SAME master key v1,
 * written into both by scripts/share-master-key.sh (hsm_imported_master_keys
 * = 1, as docs/backup.md §6 asks). A creates the keychain (with its master
 * key check value); B opens it, unseals with its own token and serves.
 * A change made through A (a rollover, a client revoked, a grant removed) is
 * obeyed by B at B's next change poll, never later: the test drives B's
 * timers (manual) by one WATCH_INTERVAL_MS and asks B again, so the bound is
 * exactly one poll interval after A's commit. (A rollover is often obeyed
 * sooner: without an own-change feed on PostgreSQL, each of B's own commits,
 * such as the audit event of its previous Get, drops B's key caches too. The
 * poll is what bounds an idle B, and the only thing that rechecks B's open
 * connections and its clients and grants.)
 *
 * C's token holds ANOTHER master key v1 (its own ceremony): C refuses to
 * unseal with MASTER_KEY_MISMATCH naming the check value and the remedy, and
 * every table of the database is byte for byte as before its attempt.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '../../common/clock';
import { StrongroomError } from '../../common/errors';
import { publicKeyFingerprint } from '../../domain/audit/audit-checkpoint';
import { WATCH_INTERVAL_MS } from '../../server/compose/change-watch';
import { openAppliance } from '../../server/compose/open-appliance';
import { joinCluster } from '../../server/cluster/cluster-join';
import { Credentials, RawConnection, resultOf as ok, startTestAppliance, TestAppliance, TestToken } from '../support/appliance-fixture';
import { ApplianceToken, shareMasterKey } from '../support/appliance-process';
import { JoinedAppliance, joinedConfig, joinTestAppliance } from '../support/joined-appliance';
import { ManualTimers } from '../support/manual-timers';
import { asSuperuser, startTestPostgres, TestPostgres } from '../support/postgres-fixture';
import { makeSoftHsmFixture, SoftHsmFixture } from '../support/softhsm-fixture';

const DATABASE = 'strongroom_two_nodes';

let pg: TestPostgres;
let secrets: string;
let passwordFile: string;
let tokens: SoftHsmFixture;
const label = { a: 'sr-node-a', b: 'sr-node-b', c: 'sr-node-c' };

beforeAll(async () => {
  pg = await startTestPostgres();
  await pg.sql(`CREATE DATABASE ${DATABASE}`);
  secrets = mkdtempSync(join(tmpdir(), 'strongroom-two-nodes-'));
  passwordFile = join(secrets, 'postgres-password');
  writeFileSync(passwordFile, `${pg.credentials.password}\n`, { mode: 0o600 });
  chmodSync(passwordFile, 0o600);
  // One SoftHSM2 folder (one module per process reads one configuration), three tokens in it.
  tokens = await makeSoftHsmFixture(label.a, { extraLabels: [label.b, label.c] });
  const pinFile = join(secrets, 'user-pin');
  writeFileSync(pinFile, `${tokens.userPin}\n`, { mode: 0o600 });
  const spec = (name: string): ApplianceToken => ({ name, dataDir: secrets, label: name, pinFile, softhsmConf: tokens.softhsmConf, modulePath: tokens.modulePath });
  expect(shareMasterKey([spec(label.a), spec(label.b)])).toMatchObject({ status: 0 });
  // C's own ceremony: a master key v1 too, but another one.
  expect(shareMasterKey([spec(label.c)])).toMatchObject({ status: 0 });
}, 180_000);

afterAll(async () => {
  await tokens?.cleanup();
  await pg?.stop();
  if (secrets) rmSync(secrets, { recursive: true, force: true });
}, 60_000);

function token(tokenLabel: string): TestToken {
  return { modulePath: tokens.modulePath, label: tokenLabel, softhsmConf: tokens.softhsmConf, userPin: tokens.userPin, cleanup: async () => undefined };
}

function settings(): Record<string, string> {
  return {
    storage: 'postgres',
    postgres_server: `127.0.0.1:${pg.port}`,
    postgres_database: DATABASE,
    postgres_user: pg.credentials.user,
    postgres_password_file: passwordFile,
    cluster_destroy: 'logical',
    hsm_imported_master_keys: '1',
  };
}

/** Every table of the database as text, read as the superuser: what "unchanged" is measured against. */
async function databaseContents(): Promise<Record<string, string>> {
  return asSuperuser(pg, DATABASE, async (client) => {
    const tables = await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    const out: Record<string, string> = {};
    for (const { tablename } of tables.rows as Array<{ tablename: string }>) {
      const rows = await client.query(`SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') AS body FROM "${tablename}" t`);
      out[tablename] = (rows.rows[0] as { body: string }).body;
    }
    return out;
  });
}

/** Statements (each with its parameters) in one session as the superuser, what an intruder with the database can do; the last one's rows. */
async function databaseQuery(...statements: Array<string | unknown[]>): Promise<unknown[]> {
  return asSuperuser(pg, DATABASE, async (client) => {
    let rows: unknown[] = [];
    for (let i = 0; i < statements.length; i++) {
      const sql = statements[i];
      if (typeof sql !== 'string') continue;
      const next = statements[i + 1];
      rows = (await client.query(sql, Array.isArray(next) ? next : [])).rows as unknown[];
    }
    return rows;
  });
}

describe('two appliances on one PostgreSQL keychain, tokens sharing the master key', () => {
  let a: TestAppliance;
  let b: JoinedAppliance;
  const bTimers = new ManualTimers(new ManualClock(Date.now()));
  /** One poll of B's change watch: the whole bound between A's commit and B obeying it. */
  const pollB = () => bTimers.advance(WATCH_INTERVAL_MS);

  beforeAll(async () => {
    // Two nodes on one host: each names itself (node_name), as docs/cluster/scheduler-lease.md asks, or both would hold the scheduler's lease as the host.
    a = await startTestAppliance({ ...settings(), node_name: 'node-a' }, { token: token(label.a), timers: new ManualTimers(new ManualClock(Date.now())) });
    b = await joinTestAppliance(token(label.b), { ...settings(), node_name: label.b }, { timers: bTimers });
  }, 180_000);

  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  }, 60_000);

  it('stores a master key check value at creation, and B (same key, another token) unseals and serves', async () => {
    expect(a.appliance.store.getHsmSealedSecret('master-key-check')).toMatchObject({ masterKeyVersion: 1 });
    expect(b.appliance.keychain.isSealed).toBe(false);
    const officer = await b.connect(a.officer);
    await ok(officer, 'Create', { name: 'made/on-b' });
    const onA = await a.connect(a.officer);
    expect(await ok<{ key: { name: string } }>(onA, 'GetAttributes', { name: 'made/on-b' })).toBeTruthy();
  }, 120_000);

  it('after B joined (cluster join), A and B both sign checkpoints, AuditVerify passes on both, and no audit-integrity-failure is recorded', async () => {
    expect(b.joined).toMatchObject({ node: label.b, registered: true, signingKey: { created: true } });
    expect(b.joined.signers.map((s) => s.node).sort()).toEqual(['node-a', label.b]);
    const officerA = await a.connect(a.officer);
    const officerB = await b.connect(a.officer);
    // Each node signs after the other: each must accept the other's newest checkpoint before signing its own.
    for (const [node, officer, name] of [[a, officerA, 'ck/one'], [b, officerB, 'ck/two'], [a, officerA, 'ck/three'], [b, officerB, 'ck/four']] as const) {
      await ok(officer, 'Create', { name });
      expect(await node.server.checkpointer.checkpoint()).not.toBeNull();
    }
    const signedBy = new Set(a.appliance.store.audit.readAuditCheckpoints(1, 10_000).map((c) => publicKeyFingerprint(c.publicKey)));
    expect(signedBy).toEqual(new Set(b.joined.signers.map((s) => s.fingerprint)));
    expect(await ok<{ ok: boolean }>(officerA, 'AuditVerify')).toMatchObject({ ok: true });
    expect(await ok<{ ok: boolean }>(officerB, 'AuditVerify')).toMatchObject({ ok: true });
    expect(a.server.checkpointer.integrityFailure).toBeNull();
    expect(b.server.checkpointer.integrityFailure).toBeNull();
    const [{ n }] = (await databaseQuery(`SELECT count(*)::int AS n FROM audit_events WHERE event LIKE '%"type":"audit-integrity-failure"%'`)) as Array<{ n: number }>;
    expect(n).toBe(0);
  }, 120_000);

  it('cluster status on each node (ClusterStatus over mutual TLS): its name, listed as a signer, the master key matching, the lease, the signers', async () => {
    // A takes the scheduler's lease as a sweep batch does (inside a transaction), so the status has one to show.
    const keychainA = a.appliance.keychain;
    expect(keychainA.transaction(() => keychainA.schedulerLease('node-a', 60_000).claim())).toMatchObject({ holder: 'node-a', epoch: 1 });
    const onA = await ok<Record<string, unknown>>(await a.connect(a.officer), 'ClusterStatus');
    const onB = await ok<Record<string, unknown>>(await b.connect(a.officer), 'ClusterStatus');
    const common = { storage: 'postgres', singleNode: false, postgres: { server: `127.0.0.1:${pg.port}` }, masterKeyCheck: { matches: true, code: null, message: null }, signer: { listed: true } };
    expect(onA).toMatchObject({ ...common, node: 'node-a', lease: { holder: 'node-a', epoch: 1, valid: true, heldByThisNode: true } });
    expect(onB).toMatchObject({ ...common, node: label.b, lease: { holder: 'node-a', epoch: 1, valid: true, heldByThisNode: false } });
    const signers = b.joined.signers.map((s) => ({ node: s.node, fingerprint: s.fingerprint, addedAt: s.addedAt }));
    expect((onA.signers as Array<Record<string, unknown>>).map(({ thisNode: _, ...s }) => s)).toEqual(signers);
    expect((onB.signers as Array<{ node: string; thisNode: boolean }>).filter((s) => s.thisNode).map((s) => s.node)).toEqual([label.b]);
    expect((onA.signer as { fingerprint: string }).fingerprint).not.toBe((onB.signer as { fingerprint: string }).fingerprint);
  }, 120_000);

  it('refuses a signer row planted in the database without a valid MAC: AuditVerify fails closed on A and B', async () => {
    const planted = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    // As an intruder with the database would: triggers off (session_replication_role), so no journal row shows it.
    const quietly = 'SET session_replication_role = replica';
    await databaseQuery(quietly, [], 'INSERT INTO audit_signers (fingerprint, public_key, node, added_at, added_by, row_mac) VALUES ($1, $2, $3, $4, $5, $6)', [publicKeyFingerprint(planted), planted, 'intruder', new Date().toISOString(), 'nobody', randomBytes(32)]);
    try {
      for (const node of [a, b]) {
        const officer = await node.connect(a.officer);
        expect((await officer.request('AuditVerify')).error?.code).toBe('INTEGRITY_FAILURE');
      }
    } finally {
      // Taken out the same way, so the later tests run on the keychain the appliances wrote.
      await databaseQuery(quietly, [], "DELETE FROM audit_signers WHERE node = 'intruder'");
    }
  }, 120_000);

  let appCredentials: Credentials;
  let first: string;

  it('a rollover on A: B serves the new current instance after one poll', async () => {
    const officer = await a.connect(a.officer);
    await ok(officer, 'Create', { name: 'hx/ledger' });
    expect((await a.approve(await officer.request('PolicyGrant', { group: 'ledger', pattern: 'hx/*', permissions: ['get'] }))).state).toBe('executed');
    appCredentials = a.issue('ledger-app', 'app', { groups: ['ledger'] });
    await pollB();
    const onB = await b.connect(appCredentials);
    first = (await ok<{ instance: { name: string } }>(onB, 'Get', { name: 'hx/ledger' })).instance.name;

    await ok(officer, 'ReKey', { name: 'hx/ledger' });
    const onA = await a.connect(appCredentials);
    const current = (await ok<{ instance: { name: string } }>(onA, 'Get', { name: 'hx/ledger' })).instance.name;
    expect(current).not.toBe(first);
    await pollB();
    expect((await ok<{ instance: { name: string } }>(onB, 'Get', { name: 'hx/ledger' })).instance.name).toBe(current);
  }, 120_000);

  it('a client revoked on A is refused by B after one poll, on its open connection and on a new one', async () => {
    const doomed = a.issue('doomed-app', 'app', { groups: ['ledger'] });
    await pollB();
    const onB = await b.connect(doomed);
    await ok(onB, 'Get', { name: 'hx/ledger' });
    const officer = await a.connect(a.officer);
    const revoked = await officer.request('ClientRevoke', { name: 'doomed-app' });
    if (revoked.error?.code === 'APPROVAL_REQUIRED') expect((await a.approve(revoked)).state).toBe('executed');
    else expect(revoked.error).toBeUndefined();
    await pollB();
    const after = await onB.request('Get', { name: 'hx/ledger' }).catch((err: Error) => ({ error: { code: 'CLOSED', message: err.message } }));
    // B closed the connection at its recheck: the request got no answer.
    expect(after.error?.code).toBe('CLOSED');
    const again = await RawConnection.open(b.server.port, doomed, doomed.caPem).then(
      async (conn) => {
        try {
          return (await conn.request('Get', { name: 'hx/ledger' })).error?.code ?? 'SERVED';
        } finally {
          conn.destroy();
        }
      },
      () => 'HANDSHAKE_REFUSED',
    );
    expect(again).toBe('UNAUTHENTICATED');
  }, 120_000);

  it('a grant removed on A stops B serving after one poll (PERMISSION_DENIED)', async () => {
    const onB = await b.connect(appCredentials);
    await ok(onB, 'Get', { name: 'hx/ledger' });
    const officer = await a.connect(a.officer);
    const grants = await ok<{ grants: Array<{ id: string; subjectKind: string; subject: string }> }>(officer, 'PolicyList');
    const grant = grants.grants.find((g) => g.subjectKind === 'group' && g.subject === 'ledger');
    expect(grant).toBeDefined();
    const removed = await officer.request('PolicyRevoke', { id: grant?.id });
    if (removed.error?.code === 'APPROVAL_REQUIRED') expect((await a.approve(removed)).state).toBe('executed');
    else expect(removed.error).toBeUndefined();
    await pollB();
    expect((await onB.request('Get', { name: 'hx/ledger' })).error?.code).toBe('PERMISSION_DENIED');
  }, 120_000);

  it('C, whose token holds another master key v1, refuses to join (MASTER_KEY_MISMATCH) before writing anything: no signing key in its token, the database unchanged', async () => {
    const before = await databaseContents();
    const { config, dataDir } = joinedConfig(token(label.c), settings());
    const c = openAppliance(config);
    let refused: unknown = null;
    try {
      // The real join path: the check value is compared before anything is written, the token's signing key included.
      await joinCluster(c, { node: 'node-c', operator: { name: 'local:test', subject: 'uid=0' }, clock: systemClock });
    } catch (err) {
      refused = err;
    }
    try {
      expect(await (await c.hsm()).signingPublicKey().then(() => 'CREATED', (err: StrongroomError) => err.code)).not.toBe('CREATED');
    } finally {
      await c.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    expect(refused).toBeInstanceOf(StrongroomError);
    expect((refused as StrongroomError).code).toBe('MASTER_KEY_MISMATCH');
    expect((refused as StrongroomError).details).toMatchObject({ reason: 'masterKeyCheck', masterKeyVersion: 1 });
    expect((refused as Error).message).toContain('scripts/share-master-key.sh');
    expect((refused as Error).message).toContain(label.c);
    expect(await databaseContents()).toEqual(before);
  }, 120_000);
});
