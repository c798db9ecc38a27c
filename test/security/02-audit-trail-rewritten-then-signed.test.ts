/**
 * Attack 2 of the trust review: "a rewritten audit trail signed by the HSM".
 * Someone with write access to keychain.db drops the append-only triggers,
 * deletes the events that show what they did, re-hashes the chain from
 * genesis with the (unkeyed) SHA-256 chain function, deletes the signed
 * checkpoints that no longer match, and restores the triggers. Before the
 * fix the running server signed the forged head at its next checkpoint and
 * `audit verify` (wire, and offline with --public-key) called the trail
 * intact. Now the checkpointer, which remembers the last head it signed,
 * refuses to sign a chain that does not extend it, alarms (error log and an
 * `audit-integrity-failure` event), and both verifications fail naming why.
 * The attack is made on a real server, SoftHSM2 token and SQLite file.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainHash, GENESIS_HASH } from '../../domain/audit/audit-chain';
import { Logger } from '../../common/logger';
import { assertCliBuilt, cli } from '../support/cli-runner';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

interface LogLine { level: string; message: string; meta: Record<string, unknown> }

function recordingLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (message: unknown, meta?: unknown) => {
    lines.push({ level, message: String(message), meta: (meta ?? {}) as Record<string, unknown> });
    return logger as never;
  };
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as Logger;
  return logger;
}

const TRIGGERS = `
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
`;

/**
 * The attacker's edit, as SQL on the file: remove the events `hide` picks,
 * renumber and re-hash what is left from genesis, delete every checkpoint,
 * and put the triggers back. Returns how many events were removed.
 */
function rewriteTrail(dataDir: string, hide: (event: Record<string, unknown>) => boolean): number {
  const db = new Database(join(dataDir, 'keychain.db'));
  try {
    const rows = db.prepare('SELECT seq, event FROM audit_events ORDER BY seq').all() as Array<{ seq: number; event: string }>;
    const kept = rows.filter((row) => !hide(JSON.parse(row.event) as Record<string, unknown>));
    db.transaction(() => {
      db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;');
      db.exec('DELETE FROM audit_events; DELETE FROM audit_checkpoints;');
      const insert = db.prepare('INSERT INTO audit_events (seq, event, prev_hash, hash) VALUES (?, ?, ?, ?)');
      let prev: Buffer = GENESIS_HASH;
      kept.forEach((row, i) => {
        const hash = chainHash(prev, i + 1, row.event);
        insert.run(i + 1, row.event, prev, hash);
        prev = hash;
      });
      db.exec(TRIGGERS);
    })();
    return rows.length - kept.length;
  } finally {
    db.close();
  }
}

/** The Create's event (it committed with the key): what a forger hides. */
const isCreateOf = (name: string) => (event: Record<string, unknown>): boolean => event.operation === 'Create' && event.key === name;

describe('attack 2: an audit trail rewritten from genesis, then offered to the HSM for signing', () => {
  let app: TestAppliance;
  let officer: RawConnection;
  let auditor: RawConnection;
  let dir: string;
  const log: LogLine[] = [];

  async function ok(conn: RawConnection, op: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const res = await conn.request(op, args);
    if (res.error) throw new Error(`${op}: ${res.error.code} ${res.error.message}`);
    return res.result as Record<string, unknown>;
  }

  beforeEach(async () => {
    assertCliBuilt();
    log.length = 0;
    dir = mkdtempSync(join(tmpdir(), 'strongroom-attack-02-'));
    app = await startTestAppliance({}, { log: recordingLogger(log) });
    officer = await app.connect(app.officer);
    auditor = await app.connect(app.issue('auditor-1', 'auditor'));
    await ok(officer, 'Create', { name: 'hr/payroll' });
    await ok(officer, 'Create', { name: 'lab/evidence' });
    expect(await app.server.checkpointer.checkpoint()).not.toBeNull();
    await ok(officer, 'Create', { name: 'lab/after' });
  });

  afterEach(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the honest trail verifies and the checkpointer goes on signing it (the control)', async () => {
    expect(await app.server.checkpointer.checkpoint()).not.toBeNull();
    expect(app.server.checkpointer.integrityFailure).toBeNull();
    // The start's, the one before the attack would have come, and this one.
    expect(await ok(auditor, 'AuditVerify')).toMatchObject({ ok: true, checkpoints: 3, signaturesChecked: true });
  });

  it('refuses to sign the forged head of a running server, alarms, and both verifications say why', async () => {
    expect(rewriteTrail(app.dataDir, isCreateOf('lab/evidence'))).toBe(1);

    // The next checkpoint (the interval's, or the one at stop) is refused, and keeps being refused.
    expect(await app.server.checkpointer.checkpoint()).toBeNull();
    const failure = app.server.checkpointer.integrityFailure;
    expect(failure).toMatchObject({ code: 'INTEGRITY_FAILURE' });
    expect(failure!.reason).toMatch(/not the one signed|ends at event/);
    expect(await app.server.checkpointer.checkpoint()).toBeNull();
    expect(log.filter((line) => line.level === 'error' && line.meta.code === 'INTEGRITY_FAILURE').length).toBeGreaterThanOrEqual(2);

    // The alarm is in the trail itself (recorded once), for the SIEM and for every later verification.
    const search = await ok(auditor, 'AuditSearch', { type: 'audit-integrity-failure' });
    const alarms = (search.events as Array<{ event: { type: string; result: string } }>).filter((line) => line.event.type === 'audit-integrity-failure');
    expect(alarms).toHaveLength(1);
    expect(alarms[0].event.result).toBe('INTEGRITY_FAILURE');

    const wire = await ok(auditor, 'AuditVerify');
    expect(wire).toMatchObject({ ok: false, checkpoints: 0 });
    expect(wire.reason).toMatch(/not intact/);

    // Offline, against a copy of the signing key kept apart, after the server stopped (its stop checkpoint is refused too).
    const kept = join(dir, 'signing-key.pem');
    writeFileSync(kept, await (await app.appliance.hsm()).signingPublicKey());
    await app.server.close();
    const offline = cli(['--data', app.dataDir, 'audit', 'verify', '--public-key', kept, '--json']);
    expect(offline.status).toBe(7);
    expect(offline.json).toMatchObject({ ok: false, checkpoints: 0 });
    expect(offline.json.reason).toMatch(/not intact/);
  });

  it('catches the rewrite also when the attacker hides the server starts and the alarm is the only trace left', async () => {
    expect(rewriteTrail(app.dataDir, (event) => isCreateOf('lab/evidence')(event) || event.type === 'server-start')).toBe(2);
    expect(await app.server.checkpointer.checkpoint()).toBeNull();
    expect(app.server.checkpointer.integrityFailure).toMatchObject({ code: 'INTEGRITY_FAILURE' });
    const wire = await ok(auditor, 'AuditVerify');
    expect(wire).toMatchObject({ ok: false });
    expect(wire.reason).toMatch(/not intact/);
  });

  it('a server started on a trail rewritten while it was stopped refuses to sign it: the trail shows a server ran but holds no checkpoint', async () => {
    await app.server.close();
    expect(rewriteTrail(app.dataDir, isCreateOf('lab/evidence'))).toBe(1);
    await app.restart();
    expect(app.server.checkpointer.integrityFailure).toMatchObject({ code: 'INTEGRITY_FAILURE' });
    expect(app.server.checkpointer.integrityFailure!.reason).toMatch(/server start/);
    expect(await app.server.checkpointer.checkpoint()).toBeNull();
    const auditorAgain = await app.connect(app.issue('auditor-2', 'auditor'));
    const wire = await ok(auditorAgain, 'AuditVerify');
    expect(wire).toMatchObject({ ok: false, checkpoints: 0 });
  });
});
