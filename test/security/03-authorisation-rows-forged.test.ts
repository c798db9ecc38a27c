/**
 * Attack 3 of the Trust issue: unauthenticated authorisation rows. Key and
 * instance rows carried MACs, but clients, grants, quorums, approval requests
 * and votes did not: one grant row inserted into the file let an app with no
 * grant fetch every key from a running appliance; `UPDATE clients SET
 * role='officer'` made an app an officer; a quorum row lowered to 1 needed
 * one approval. And the lesser one: an old row written back with its old,
 * valid MAC (a revoked client, a Compromised instance) was obeyed.
 *
 * The rule (domain/trust/): every such row carries an HMAC under a key
 * derived from the keychain key, verified on every read (INTEGRITY_FAILURE);
 * and a keyed set-hash over every authenticated row, sealed in the file with
 * a change counter, makes an old row (valid MAC and all) a mismatch at the
 * next checkpoint (the appliance seals itself) and at unseal (it will not
 * serve). Each attack runs against a real server, SoftHSM2 token and SQLite
 * file, which the attacker edits with SQL; after each edit the attacker also
 * bumps the change counter, so the server's caches reload what was planted.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

type Row = Record<string, unknown>;

/** Runs SQL on the live keychain file as an attacker with write access to it would. */
function editFile(app: TestAppliance, edit: (db: Database.Database) => void): void {
  const db = new Database(join(app.dataDir, 'keychain.db'));
  try {
    edit(db);
    // So that caches keyed on the change counter reload the planted rows at once.
    db.prepare('UPDATE keychain_changes SET counter = counter + 1').run();
  } finally {
    db.close();
  }
}

function readRow(app: TestAppliance, sql: string, ...params: unknown[]): Row {
  const db = new Database(join(app.dataDir, 'keychain.db'), { readonly: true });
  try {
    return db.prepare(sql).get(...params) as Row;
  } finally {
    db.close();
  }
}

async function connectOrNull(app: TestAppliance, who: Credentials): Promise<RawConnection | null> {
  try {
    return await app.connect(who);
  } catch {
    return null;
  }
}

/** What the trail recorded of type `type` (read from the file). */
function eventsOfType(app: TestAppliance, type: string): Row[] {
  const db = new Database(join(app.dataDir, 'keychain.db'), { readonly: true });
  try {
    return (db.prepare('SELECT event FROM audit_events ORDER BY seq').all() as Array<{ event: string }>).map((r) => JSON.parse(r.event) as Row).filter((e) => e.type === type);
  } finally {
    db.close();
  }
}

describe('attack 3: authorisation rows written into the database file', () => {
  let app: TestAppliance;
  let payroll: Credentials;
  let intruder: Credentials;

  beforeEach(async () => {
    app = await startTestAppliance();
    payroll = app.issue('payroll-app', 'app');
    intruder = app.issue('intruder-app', 'app');
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/payroll', algorithm: 'AES-256' })).error).toBeUndefined();
    const grant = await officer.request('PolicyGrant', { client: 'payroll-app', pattern: 'hr/*', permissions: ['get', 'encrypt'] });
    expect((await app.approve(grant)).state).toBe('executed');
    officer.destroy();
  });

  afterEach(async () => app.stop());

  it('a grant row inserted for an app with no grant (with a valid MAC copied from another grant) gives it nothing, and the file no longer unseals', async () => {
    const before = await app.connect(intruder);
    expect((await before.request('Get', { name: 'hr/payroll' })).error?.code).toBe('PERMISSION_DENIED');
    editFile(app, (db) => {
      // Careful: without the journal trigger the appliance's next write does not trip over the planted row.
      db.exec('DROP TRIGGER grants_trust_insert');
      db.prepare(`INSERT INTO grants (id, subject_kind, subject, pattern, permissions, created_at, created_by, row_mac)
        SELECT 'planted', 'client', 'intruder-app', '*', '["get","encrypt"]', created_at, created_by, row_mac FROM grants LIMIT 1`).run();
    });
    // Any write of the appliance moves its change stamp: the grants are read again, the planted one with them.
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/other', algorithm: 'AES-256' })).error).toBeUndefined();
    const res = await before.request('Get', { name: 'hr/payroll' });
    expect(res.result).toBeUndefined();
    expect(res.error?.code).toBe('INTEGRITY_FAILURE');
    await expect(app.restart()).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
  });

  it("UPDATE clients SET role='officer' does not make an app an officer", async () => {
    const opened = await app.connect(payroll);
    editFile(app, (db) => db.prepare("UPDATE clients SET role = 'officer' WHERE name = 'payroll-app'").run());
    // The connection opened before: its next request is held to the row, which no longer authenticates, so it names nobody.
    const listed = await opened.request('ClientList');
    expect(listed.result).toBeUndefined();
    expect(listed.error?.code).toBe('UNAUTHENTICATED');
    // A new connection: the forged row names nobody.
    const fresh = await connectOrNull(app, payroll);
    if (fresh !== null) {
      const answer = await fresh.request('ClientList').catch(() => null);
      expect(answer?.result).toBeUndefined();
      if (answer !== null) expect(answer.error?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('a quorum row lowered to 1 is refused, not obeyed: no request is stored with one approval', async () => {
    editFile(app, (db) => db.prepare('UPDATE dual_control_quorums SET required = 1').run());
    const officer = await app.connect(app.officer);
    const res = await officer.request('PolicyGrant', { client: 'intruder-app', pattern: 'hr/*', permissions: ['get'] });
    expect(res.error?.code).toBe('INTEGRITY_FAILURE');
    expect(readRow(app, "SELECT count(*) AS n FROM approval_requests WHERE operation = 'PolicyGrant' AND args LIKE '%intruder-app%'").n).toBe(0);
  });

  it("a pending request's required lowered to 1, or a vote written into the file, carries out nothing", async () => {
    const officer = await app.connect(app.officer);
    const asked = await officer.request('PolicyGrant', { client: 'intruder-app', pattern: 'hr/*', permissions: ['get'] });
    expect(asked.error?.code).toBe('APPROVAL_REQUIRED');
    const { requestId, digest } = asked.error?.details as { requestId: string; digest: string };
    editFile(app, (db) => db.prepare('UPDATE approval_requests SET required = 1 WHERE id = ?').run(requestId));
    const approver = await app.connect(app.approvers[0]);
    const vote = await approver.request('ApprovalApprove', { id: requestId, digest });
    expect(vote.error?.code).toBe('INTEGRITY_FAILURE');
    editFile(app, (db) => {
      db.prepare('UPDATE approval_requests SET required = 2 WHERE id = ?').run(requestId);
      db.prepare("INSERT INTO approval_votes (request_id, officer, digest, at, row_mac) VALUES (?, 'approver-2', ?, '2026-01-01T00:00:00.000Z', X'00')").run(requestId, digest);
    });
    expect((await approver.request('ApprovalGet', { id: requestId })).error?.code).toBe('INTEGRITY_FAILURE');
    expect(readRow(app, "SELECT count(*) AS n FROM grants WHERE subject = 'intruder-app'").n).toBe(0);
    const intruderConnection = await app.connect(intruder);
    expect((await intruderConnection.request('Get', { name: 'hr/payroll' })).result).toBeUndefined();
  });

  it("a revoked client's old row written back with its old, valid MAC is caught at the next checkpoint: the appliance seals itself and will not unseal", async () => {
    const oldRow = readRow(app, "SELECT revoked_at, row_mac FROM clients WHERE name = 'intruder-app'");
    const officer = await app.connect(app.officer);
    expect((await app.approve(await officer.request('ClientRevoke', { name: 'intruder-app' }))).state).toBe('executed');
    editFile(app, (db) => {
      // A careful attacker first drops the journal triggers, so the next write does not trip over the journal.
      db.exec('DROP TRIGGER clients_trust_update');
      db.prepare("UPDATE clients SET revoked_at = ?, row_mac = ? WHERE name = 'intruder-app'").run(oldRow.revoked_at, oldRow.row_mac);
    });
    await app.server.checkpointer.checkpoint();
    expect(app.appliance.keychain.isSealed).toBe(true);
    expect(eventsOfType(app, 'keychain-integrity-failure')).toHaveLength(1);
    const after = await app.connect(app.officer);
    expect((await after.request('GetAttributes', { name: 'hr/payroll' })).error?.code).toBe('SEALED');
    await expect(app.restart()).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
  });

  it('an old instance row written back over a Compromised one (re-activating it) is caught at the next checkpoint and at unseal', async () => {
    const officer = await app.connect(app.officer);
    const current = readRow(app, "SELECT i.id, i.state, i.deactivated_at, i.row_mac FROM keys k JOIN key_instances i ON i.id = k.current_instance_id WHERE k.namespace = 'hr' AND k.name = 'payroll'");
    expect(current.state).toBe('Active');
    const revoked = await officer.request('Revoke', { name: 'hr/payroll', reason: 'keyCompromise' });
    expect(revoked.error).toBeUndefined();
    expect(readRow(app, 'SELECT state FROM key_instances WHERE id = ?', current.id).state).toBe('Compromised');
    editFile(app, (db) => {
      db.exec('DROP TRIGGER key_instances_trust_update');
      db.prepare('UPDATE key_instances SET state = ?, deactivated_at = ?, row_mac = ? WHERE id = ?').run(current.state, current.deactivated_at, current.row_mac, current.id);
    });
    await app.server.checkpointer.checkpoint();
    expect(app.appliance.keychain.isSealed).toBe(true);
    await expect(app.restart()).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
  });

  it('the whole file swapped for an older copy of itself (rows, trust state and trail consistent) is refused at unseal: the HSM token saw a later change', async () => {
    await app.server.checkpointer.checkpoint();
    const copy = join(app.dataDir, 'older-copy.db');
    const live = new Database(join(app.dataDir, 'keychain.db'), { readonly: true });
    try {
      live.prepare('VACUUM INTO ?').run(copy);
    } finally {
      live.close();
    }
    const officer = await app.connect(app.officer);
    expect((await app.approve(await officer.request('ClientRevoke', { name: 'intruder-app' }))).state).toBe('executed');
    // The checkpoint raises the token's anchor to the change counter that now includes the revocation.
    await app.server.checkpointer.checkpoint();
    await app.server.close();
    await app.appliance.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(app.dataDir, `keychain.db${suffix}`), { force: true });
    copyFileSync(copy, join(app.dataDir, 'keychain.db'));
    await expect(app.restart()).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
  });

  it('the trust state deleted from the file does not buy a fresh "trust on first unseal": refused at unseal', async () => {
    await app.server.checkpointer.checkpoint();
    editFile(app, (db) => {
      db.exec('DROP TRIGGER grants_trust_insert');
      db.prepare(`INSERT INTO grants (id, subject_kind, subject, pattern, permissions, created_at, created_by, row_mac)
        VALUES ('planted', 'client', 'intruder-app', '*', '["get"]', '2026-01-01T00:00:00.000Z', 'nobody', X'00')`).run();
      db.prepare('DELETE FROM trust_state').run();
    });
    await expect(app.restart()).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
  });

  it('the honest appliance (the control): writes, checkpoints and restarts keep its rows and trust state in step', async () => {
    const officer = await app.connect(app.officer);
    expect((await app.approve(await officer.request('ClientRevoke', { name: 'intruder-app' }))).state).toBe('executed');
    expect((await officer.request('ReKey', { name: 'hr/payroll' })).error).toBeUndefined();
    await app.server.checkpointer.checkpoint();
    expect(app.appliance.keychain.isSealed).toBe(false);
    await app.restart();
    const user = await app.connect(payroll);
    expect((await user.request('Get', { name: 'hr/payroll' })).error).toBeUndefined();
    expect(app.appliance.keychain.checkTrust()?.counter).toBeGreaterThan(0);
  });
});
