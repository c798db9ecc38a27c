/**
 * Attack 6 of the trust review (issue 12): a state change outlives its missing audit event.
 *
 * The audit trail is made unwritable the way someone with the database file
 * can (a trigger that aborts every append; a full disk does the same), and
 * state changes are attempted: a deactivation, a rollover, an alias moved,
 * an approval vote, and the scheduled rollover sweep. A change used to commit
 * first and write its event after (approval, rollover and unseal events
 * even fire-and-forget), so the caller saw AUDIT_UNAVAILABLE while the key
 * was already deactivated or rolled and the trail said nothing. Now a state
 * change commits in one transaction with its event (a Revoke, a ReKey, an
 * alias moved), or runs only once its intent event is durable (an approval
 * vote; a scheduled sweep, the rollover or the destruction of material,
 * likewise): each attempt is
 * refused with AUDIT_UNAVAILABLE and nothing changed; with the trail
 * writable again the same change goes through and is recorded. Runs over
 * real mutual TLS against a SoftHSM2 token and the SQLite file.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import { AuditEvent } from '../../protocol/audit-event';
import { ManualTimers } from '../support/manual-timers';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What an attacker with the file does: every append to the trail now aborts. */
function blockTrail(app: TestAppliance): void {
  const db = new Database(join(app.dataDir, 'keychain.db'));
  try {
    db.exec("CREATE TRIGGER attack_block BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'no space left on device'); END;");
  } finally {
    db.close();
  }
}

/**
 * Every append of an event of `type` aborts, and only those: the sweep's
 * intent is written, its batch runs, and the batch's own events fail. A
 * sweep that committed its batch first and appended its events after left
 * the change done and the trail silent about it.
 */
function blockEventsOfType(app: TestAppliance, type: string): void {
  const db = new Database(join(app.dataDir, 'keychain.db'));
  try {
    db.exec(`CREATE TRIGGER attack_block BEFORE INSERT ON audit_events WHEN json_extract(NEW.event, '$.type') = '${type}' BEGIN SELECT RAISE(ABORT, 'no space left on device'); END;`);
  } finally {
    db.close();
  }
}

function unblockTrail(app: TestAppliance): void {
  const db = new Database(join(app.dataDir, 'keychain.db'));
  try {
    db.exec('DROP TRIGGER attack_block');
  } finally {
    db.close();
  }
}

function trail(app: TestAppliance): AuditEvent[] {
  const db = new Database(join(app.dataDir, 'keychain.db'), { readonly: true });
  try {
    return (db.prepare('SELECT event FROM audit_events ORDER BY seq').all() as Array<{ event: string }>).map((row) => JSON.parse(row.event) as AuditEvent);
  } finally {
    db.close();
  }
}

interface Described {
  key: { currentInstance: string; currentVersion: number };
  instances: Array<{ name: string; state: string }>;
}

describe('attack 6: a state change outlives its missing audit event', () => {
  let app: TestAppliance;
  let officer: RawConnection;
  let approver: RawConnection;

  const describeKey = async (name: string): Promise<Described> => (await officer.request('GetAttributes', { name })).result as Described;

  beforeAll(async () => {
    app = await startTestAppliance();
    officer = await app.connect(app.officer);
    approver = await app.connect(app.approvers[0]);
    expect((await officer.request('Create', { name: 'hr/payroll' })).error).toBeUndefined();
    expect((await officer.request('Create', { name: 'hr/bonus' })).error).toBeUndefined();
  });
  afterAll(async () => app.stop());
  afterEach(() => {
    try {
      unblockTrail(app);
    } catch {
      // Not blocked.
    }
  });

  it('refuses a deactivation it cannot record, and leaves the instance Active', async () => {
    const before = await describeKey('hr/payroll');
    blockTrail(app);
    const revoked = await officer.request('Revoke', { name: 'hr/payroll', reason: 'keyCompromise' });
    expect(revoked.error?.code).toBe('AUDIT_UNAVAILABLE');
    unblockTrail(app);
    const after = await describeKey('hr/payroll');
    expect(after.instances.find((i) => i.name === before.key.currentInstance)?.state).toBe('Active');
    // The same change with the trail writable: done, and recorded once, by the event that committed with it
    // (the refused attempt left no event: its failure could not be written either).
    const done = await officer.request('Revoke', { name: 'hr/payroll', reason: 'keyCompromise' });
    expect(done.error).toBeUndefined();
    const revokes = trail(app).filter((e) => e.operation === 'Revoke');
    expect(revokes.map((e) => [e.type, e.result, e.instance])).toEqual([['operation', 'ok', before.key.currentInstance]]);
  });

  it('refuses a rollover it cannot record, and keeps the current instance', async () => {
    const before = await describeKey('hr/bonus');
    blockTrail(app);
    expect((await officer.request('ReKey', { name: 'hr/bonus' })).error?.code).toBe('AUDIT_UNAVAILABLE');
    unblockTrail(app);
    expect((await describeKey('hr/bonus')).key).toMatchObject({ currentInstance: before.key.currentInstance, currentVersion: before.key.currentVersion });
  });

  it('refuses every state-changing item of a Batch it cannot record', async () => {
    blockTrail(app);
    const batch = await officer.request('Batch', { items: [{ op: 'AliasSet', args: { alias: 'lab/x', name: 'hr/bonus' } }, { op: 'Revoke', args: { name: 'hr/bonus', reason: 'superseded' } }] });
    expect(batch.error?.code).toBe('AUDIT_UNAVAILABLE');
    unblockTrail(app);
    expect(((await officer.request('AliasList', {})).result as { aliases: unknown[] }).aliases).toEqual([]);
    const bonus = await describeKey('hr/bonus');
    expect(bonus.instances.find((i) => i.name === bonus.key.currentInstance)?.state).toBe('Active');
  });

  it('refuses an approval vote it cannot record, and leaves the request without it', async () => {
    app.issue('payroll-app', 'app');
    const asked = await officer.request('PolicyGrant', { client: 'payroll-app', pattern: 'hr/payroll', permissions: ['get'] });
    expect(asked.error?.code).toBe('APPROVAL_REQUIRED');
    const { requestId, digest } = asked.error!.details as { requestId: string; digest: string };
    blockTrail(app);
    expect((await approver.request('ApprovalApprove', { id: requestId, digest })).error?.code).toBe('AUDIT_UNAVAILABLE');
    unblockTrail(app);
    const request = ((await officer.request('ApprovalGet', { id: requestId })).result as { request: { state: string; approvals: number } }).request;
    expect(request).toMatchObject({ state: 'pending', approvals: 0 });
    // With the trail writable, the vote counts and its approval event is in the trail before the answer.
    expect((await approver.request('ApprovalApprove', { id: requestId, digest })).error).toBeUndefined();
    expect(trail(app).some((e) => e.type === 'approval' && e.custom.approvalRequest === requestId && e.custom.action === 'approved')).toBe(true);
  });
});

describe('attack 6: an approval vote outlives its own missing event', () => {
  let app: TestAppliance;
  let officer: RawConnection;
  let approver: RawConnection;

  beforeAll(async () => {
    app = await startTestAppliance();
    officer = await app.connect(app.officer);
    approver = await app.connect(app.approvers[0]);
  });
  afterAll(async () => app.stop());

  it('undoes a vote whose approval event cannot be appended, though its intent was written', async () => {
    app.issue('bonus-app', 'app');
    const asked = await officer.request('PolicyGrant', { client: 'bonus-app', pattern: 'hr/bonus', permissions: ['get'] });
    expect(asked.error?.code).toBe('APPROVAL_REQUIRED');
    const { requestId, digest } = asked.error!.details as { requestId: string; digest: string };
    blockEventsOfType(app, 'approval');
    expect((await approver.request('ApprovalApprove', { id: requestId, digest })).error?.code).toBe('AUDIT_UNAVAILABLE');
    unblockTrail(app);
    // The vote's intent is in the trail; the vote is not in the request, nor its event in the trail.
    expect(trail(app).some((e) => e.type === 'intent' && e.operation === 'ApprovalApprove')).toBe(true);
    const request = ((await officer.request('ApprovalGet', { id: requestId })).result as { request: { state: string; approvals: number } }).request;
    expect(request).toMatchObject({ state: 'pending', approvals: 0 });
    expect(trail(app).some((e) => e.type === 'approval' && e.custom.approvalRequest === requestId && e.custom.action === 'approved')).toBe(false);
    // Recorded again, the same vote counts, with its event.
    expect((await approver.request('ApprovalApprove', { id: requestId, digest })).error).toBeUndefined();
    expect(trail(app).filter((e) => e.type === 'approval' && e.custom.approvalRequest === requestId && e.custom.action === 'approved')).toHaveLength(1);
  });
});

describe('attack 6: the scheduled rollover sweep outlives its missing audit event', () => {
  const timers = new ManualTimers(new ManualClock(Date.now()));
  let app: TestAppliance;
  let officer: RawConnection;

  beforeAll(async () => {
    app = await startTestAppliance({}, { clock: timers.clock, timers });
    officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/payroll', rollover: 'auto', cryptoperiod: 'P1D' })).error).toBeUndefined();
  });
  afterAll(async () => app.stop());

  it('rolls nothing over while the trail cannot record it, and rolls and records once it can', async () => {
    const current = async (): Promise<string> => ((await officer.request('GetAttributes', { name: 'hr/payroll' })).result as Described).key.currentInstance;
    const first = await current();
    timers.clock.advance(2 * DAY_MS);
    blockTrail(app);
    await app.server.rollover.sweep();
    unblockTrail(app);
    expect(await current()).toBe(first);

    await app.server.rollover.sweep();
    const rolled = await current();
    expect(rolled).not.toBe(first);
    const events = trail(app);
    const intent = events.findIndex((e) => e.type === 'intent' && e.custom.sweep === 'rollover');
    const rollover = events.findIndex((e) => e.type === 'rollover' && e.key === 'hr/payroll' && e.instance === rolled);
    expect(intent).toBeGreaterThanOrEqual(0);
    expect(rollover).toBeGreaterThan(intent);
  });

  it('undoes a batch of rollovers whose own events cannot be appended: no key rolled without its event', async () => {
    expect((await officer.request('Create', { name: 'hr/bonus', rollover: 'auto', cryptoperiod: 'P1D' })).error).toBeUndefined();
    const current = async (): Promise<string> => ((await officer.request('GetAttributes', { name: 'hr/bonus' })).result as Described).key.currentInstance;
    const first = await current();
    timers.clock.advance(2 * DAY_MS);
    blockEventsOfType(app, 'rollover');
    await app.server.rollover.sweep();
    unblockTrail(app);
    // The sweep announced itself and ran its batch, whose events failed: the batch was undone with them.
    expect(trail(app).filter((e) => e.type === 'intent' && e.custom.sweep === 'rollover').length).toBeGreaterThan(0);
    expect(await current()).toBe(first);
    expect(trail(app).some((e) => e.type === 'rollover' && e.key === 'hr/bonus')).toBe(false);

    await app.server.rollover.sweep();
    const rolled = await current();
    expect(rolled).not.toBe(first);
    expect(trail(app).filter((e) => e.type === 'rollover' && e.key === 'hr/bonus').map((e) => e.instance)).toEqual([rolled]);
  });

  it('destroys no material while the trail cannot record it, and destroys and records once it can', async () => {
    const created = await officer.request('Create', { name: 'hr/old' });
    const instance = (created.result as { key: { currentInstance: string } }).key.currentInstance;
    expect((await officer.request('Revoke', { name: 'hr/old', reason: 'cessationOfOperation' })).error).toBeUndefined();
    expect((await app.approve(await officer.request('Destroy', { name: 'hr/old', instance }))).state).toBe('executed');
    const material = async (): Promise<boolean | undefined> =>
      ((await officer.request('GetAttributes', { name: 'hr/old' })).result as { instances: Array<{ name: string; hasMaterial: boolean }> }).instances.find((i) => i.name === instance)?.hasMaterial;
    timers.clock.advance(8 * DAY_MS);
    blockTrail(app);
    await app.server.rollover.sweep();
    unblockTrail(app);
    expect(await material()).toBe(true);

    await app.server.rollover.sweep();
    expect(await material()).toBe(false);
    const events = trail(app);
    const intent = events.findIndex((e) => e.type === 'intent' && e.custom.sweep === 'destruction');
    const destroyed = events.findIndex((e) => e.type === 'destroyed' && e.key === 'hr/old' && e.instance === instance);
    expect(intent).toBeGreaterThanOrEqual(0);
    expect(destroyed).toBeGreaterThan(intent);
  });

  it('keeps the material of a batch of destructions whose own events cannot be appended', async () => {
    const created = await officer.request('Create', { name: 'hr/older' });
    const instance = (created.result as { key: { currentInstance: string } }).key.currentInstance;
    expect((await officer.request('Revoke', { name: 'hr/older', reason: 'cessationOfOperation' })).error).toBeUndefined();
    expect((await app.approve(await officer.request('Destroy', { name: 'hr/older', instance }))).state).toBe('executed');
    const material = async (): Promise<boolean | undefined> =>
      ((await officer.request('GetAttributes', { name: 'hr/older' })).result as { instances: Array<{ name: string; hasMaterial: boolean }> }).instances.find((i) => i.name === instance)?.hasMaterial;
    timers.clock.advance(8 * DAY_MS);
    blockEventsOfType(app, 'destroyed');
    await app.server.rollover.sweep();
    unblockTrail(app);
    expect(await material()).toBe(true);
    expect(trail(app).some((e) => e.type === 'destroyed' && e.instance === instance)).toBe(false);

    await app.server.rollover.sweep();
    expect(await material()).toBe(false);
    expect(trail(app).filter((e) => e.type === 'destroyed' && e.instance === instance)).toHaveLength(1);
  });
});
