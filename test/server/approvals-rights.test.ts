/**
 * Separation of duties and the rest of dual control over real mutual TLS:
 * officers get no key material by role, an approved export gives it to its
 * requester once and stores none of it, nobody approves a change to their
 * own rights, requests expire on the injected clock, one requester cannot
 * fill the queue, and a quorum change is itself dual-controlled.
 */
import { ManualClock, systemClock } from '../../common/clock';
import { PkiService } from '../../domain/pki/pki-service';
import { codeOf } from '../support/error-code';
import { LiveEvent } from '../../domain/events/event-bus';
import { DecodedResponse } from '../../protocol/response';
import { ApprovalDetails, required } from '../support/approval-required';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import Database from 'better-sqlite3';
import { join } from 'node:path';

type Details = ApprovalDetails;

const asResponse = (details: Details): DecodedResponse => ({ id: 1, error: { code: 'APPROVAL_REQUIRED', message: '', details: details as never } });

describe('separation of duties and dual control', () => {
  const clock = new ManualClock(Date.now());
  let app: TestAppliance;
  let officer: RawConnection;
  let first: RawConnection;
  let second: RawConnection;
  const events: LiveEvent[] = [];

  beforeAll(async () => {
    app = await startTestAppliance({ max_pending_approvals_per_requester: '3' }, { clock });
    app.server.services.events.subscribe((e) => events.push(e));
    officer = await app.connect(app.officer);
    first = await app.connect(app.approvers[0]);
    second = await app.connect(app.approvers[1]);
    expect((await officer.request('Create', { name: 'sod/secret' })).error).toBeUndefined();
  });
  afterAll(async () => app.stop());
  // Each test starts with no open request of its own (the per-requester cap is small here).
  afterEach(async () => {
    for (const connection of [officer, first]) {
      if (connection.closed) continue; // revoked by the last test
      const open = ((await connection.request('ApprovalList', { state: 'open', mine: true })).result as { requests: Array<{ id: string }> }).requests;
      for (const r of open) await connection.request('ApprovalCancel', { id: r.id });
    }
  });

  it('gives officers no key material by role: Decrypt is refused, Get becomes a key-export request', async () => {
    // Officers use no keys by role (they may not Encrypt either): the ciphertext comes from an app granted encrypt.
    const writer = app.issue('sod-writer', 'app');
    expect((await officer.request('PolicyGrant', { client: 'sod-writer', pattern: 'sod/*', permissions: ['encrypt'] })).error).toBeUndefined();
    const writing = await app.connect(writer);
    const ct = (await writing.request('Encrypt', { name: 'sod/secret', plaintext: Buffer.from('hello').toString('base64') })).result as { ciphertext: string };
    expect(ct.ciphertext).toEqual(expect.any(String));
    expect((await officer.request('Decrypt', { name: 'sod/secret', ciphertext: ct.ciphertext })).error?.code).toBe('PERMISSION_DENIED');
    const asked = required(await officer.request('Get', { name: 'sod/secret' }));
    const shown = (await first.request('ApprovalGet', { id: asked.requestId })).result as { request: { class: string } };
    expect(shown.request.class).toBe('key-export');
    expect((await officer.request('Get', { name: 'sod/nothing-here' })).error?.code).toBe('KEY_NOT_FOUND');
  });

  it('delivers an approved export to its requester once, and stores, publishes and audits none of the material', async () => {
    events.length = 0;
    const asked = required(await officer.request('Get', { name: 'sod/secret' }));
    expect((await officer.request('ApprovalCollect', { id: asked.requestId })).error?.code).toBe('APPROVAL_REQUIRED');
    const approved = await app.approve(asResponse(asked));
    expect(approved.state).toBe('approved');
    expect((await first.request('ApprovalCollect', { id: asked.requestId })).error?.code).toBe('APPROVAL_NOT_REQUESTER');
    const collected = await officer.request('ApprovalCollect', { id: asked.requestId });
    const material = (collected.result as { material: string }).material;
    expect(Buffer.from(material, 'base64')).toHaveLength(32);
    expect((await officer.request('ApprovalCollect', { id: asked.requestId })).error?.code).toBe('APPROVAL_NOT_PENDING');
    const view = ((await first.request('ApprovalGet', { id: asked.requestId })).result as { request: { state: string; result: { material: string } } }).request;
    expect(view.state).toBe('executed');
    expect(view.result.material).toBe('[binary withheld]');

    const hex = Buffer.from(material, 'base64').toString('hex');
    const db = new Database(join(app.dataDir, 'keychain.db'), { readonly: true });
    try {
      const stored = JSON.stringify([db.prepare('SELECT * FROM approval_requests').all(), db.prepare('SELECT * FROM approval_votes').all(), db.prepare('SELECT event FROM audit_events').all()]);
      expect(stored.includes(material)).toBe(false);
      expect(stored.includes(hex)).toBe(false);
    } finally {
      db.close();
    }
    const published = JSON.stringify(events);
    expect(published.includes(material) || published.includes(hex)).toBe(false);
  });

  it('lets a grant of material, approved by two others, give an officer Get at once', async () => {
    const asked = required(await officer.request('PolicyGrant', { client: 'test-officer', pattern: 'sod/*', permissions: ['get'] }));
    // approver-1 and approver-2 are not its subject: they may approve.
    expect((await app.approve(asResponse(asked))).state).toBe('executed');
    expect((await officer.request('Get', { name: 'sod/secret' })).result).toMatchObject({ material: expect.any(String) });
  });

  it('refuses an officer approving a change to their own rights', async () => {
    const grant = required(await officer.request('PolicyGrant', { client: 'approver-1', pattern: 'sod/*', permissions: ['decrypt'] }));
    expect((await first.request('ApprovalApprove', { id: grant.requestId, digest: grant.digest })).error?.code).toBe('APPROVAL_OWN_RIGHTS');
    const grouped = app.issue('grouped-officer', 'officer', { groups: ['ops'] });
    const viaGroup = required(await officer.request('PolicyGrant', { group: 'ops', pattern: 'sod/*', permissions: ['get'] }));
    expect((await (await app.connect(grouped)).request('ApprovalApprove', { id: viaGroup.requestId, digest: viaGroup.digest })).error?.code).toBe('APPROVAL_OWN_RIGHTS');
    const revoke = required(await officer.request('ClientRevoke', { name: 'approver-2' }));
    expect((await second.request('ApprovalApprove', { id: revoke.requestId, digest: revoke.digest })).error?.code).toBe('APPROVAL_OWN_RIGHTS');
    for (const id of [grant.requestId, viaGroup.requestId, revoke.requestId]) expect((await officer.request('ApprovalCancel', { id })).error).toBeUndefined();
  });

  it('runs grants without material at once, and holds the issue of an officer certificate', async () => {
    expect((await officer.request('PolicyGrant', { group: 'batch-jobs', pattern: 'sod/*', permissions: ['encrypt', 'locate'] })).result).toMatchObject({ grant: { subject: 'batch-jobs' } });
    // Key use for a group an officer belongs to is an officer using keys: that waits for approval, whatever the permission.
    const forOfficers = required(await officer.request('PolicyGrant', { group: 'ops', pattern: 'sod/*', permissions: ['encrypt', 'locate'] }));
    expect((await officer.request('ApprovalCancel', { id: forOfficers.requestId })).error).toBeUndefined();
    const { publicKeyPem } = (await import('../../client/credentials')).generateClientKeyPair();
    const asked = required(await officer.request('ClientIssue', { name: 'minted-officer', role: 'officer', publicKeyPem }));
    expect((await officer.request('ClientList')).result).not.toMatchObject({ clients: expect.arrayContaining([expect.objectContaining({ name: 'minted-officer' })]) });
    expect((await officer.request('ApprovalCancel', { id: asked.requestId })).error).toBeUndefined();
  });

  it('expires a request on the clock: approving it then is APPROVAL_EXPIRED', async () => {
    events.length = 0;
    const asked = required(await officer.request('ClientRevoke', { name: 'grouped-officer' }));
    clock.advance(24 * 3_600_000 + 1000);
    expect((await first.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).error?.code).toBe('APPROVAL_EXPIRED');
    expect((await first.request('ApprovalGet', { id: asked.requestId })).result).toMatchObject({ request: { state: 'expired' } });
    expect(events.some((e) => e.kind === 'approval' && e.action === 'expired' && e.requestId === asked.requestId)).toBe(true);
  });

  it('caps the requests one requester has open (max_pending_approvals_per_requester)', async () => {
    const ids: string[] = [];
    for (const name of ['approver-1', 'approver-2', 'grouped-officer']) ids.push(required(await officer.request('ClientRevoke', { name })).requestId);
    expect((await officer.request('ClientRevoke', { name: 'grouped-officer' })).error?.code).toBe('APPROVAL_LIMIT_REACHED');
    // Someone else's slots are their own.
    const other = required(await first.request('ClientRevoke', { name: 'grouped-officer' }));
    expect((await officer.request('ApprovalCancel', { id: ids[0] })).error).toBeUndefined();
    expect(required(await officer.request('ClientRevoke', { name: 'grouped-officer' })).requestId).toEqual(expect.any(String));
    const open = ((await first.request('ApprovalList', { state: 'open' })).result as { requests: Array<{ id: string }> }).requests;
    expect(open.map((r) => r.id)).toEqual(expect.arrayContaining([ids[1], ids[2], other.requestId]));
    for (const r of ((await officer.request('ApprovalList', { state: 'open', mine: true })).result as { requests: Array<{ id: string }> }).requests) {
      expect((await officer.request('ApprovalCancel', { id: r.id })).error).toBeUndefined();
    }
    expect((await first.request('ApprovalCancel', { id: other.requestId })).error).toBeUndefined();
  });

  it('dual-controls a change of quorum, and new requests need the new quorum', async () => {
    const asked = required(await officer.request('ApprovalQuorumSet', { class: 'client-revoke', required: 3 }));
    expect(((await first.request('ApprovalQuorums')).result as { quorums: Array<{ class: string; required: number }> }).quorums).toContainEqual(expect.objectContaining({ class: 'client-revoke', required: 2 }));
    expect((await app.approve(asResponse(asked))).state).toBe('executed');
    expect(((await first.request('ApprovalQuorums')).result as { quorums: Array<{ class: string; required: number; updatedBy: string }> }).quorums).toContainEqual(
      expect.objectContaining({ class: 'client-revoke', required: 3, updatedBy: 'test-officer' }),
    );
    expect(required(await officer.request('ClientRevoke', { name: 'grouped-officer' })).required).toBe(3);
    const plain = await app.connect(app.issue('plain-app-2', 'app'));
    expect((await plain.request('ApprovalQuorums')).error?.code).toBe('PERMISSION_DENIED');
    expect(((await plain.request('ApprovalList')).result as { requests: unknown[] }).requests).toEqual([]);
  });

  it('runs an approved request as its requester: one revoked meanwhile gets it failed, not run', async () => {
    const temp = app.issue('temp-officer', 'officer');
    const conn = await app.connect(temp);
    expect((await conn.request('Create', { name: 'sod/temp' })).error).toBeUndefined();
    expect((await conn.request('Revoke', { name: 'sod/temp', reason: 'superseded' })).error).toBeUndefined();
    const asked = required(await conn.request('Destroy', { name: 'sod/temp' }));
    new PkiService(app.appliance.keychain, app.appliance.keychain.directory, systemClock).revokeClient('temp-officer');
    const done = await app.approve(asResponse(asked));
    expect(done).toMatchObject({ state: 'failed', error: { code: 'PERMISSION_DENIED' } });
    expect((await officer.request('GetAttributes', { name: 'sod/temp' })).result).toMatchObject({ instances: [{ state: 'Deactivated' }] });
  });

  it('never removes the last officer: over the wire nobody is left to approve it, and the rule itself refuses', async () => {
    const pki = new PkiService(app.appliance.keychain, app.appliance.keychain.directory, systemClock);
    for (const c of app.appliance.keychain.directory.listClients()) if (c.role === 'officer' && c.name !== 'test-officer' && c.revokedAt === null) pki.revokeClient(c.name);
    await first.waitClosed(); // the server shuts revoked officers out
    await second.waitClosed();
    const asked = required(await (await app.connect(app.officer)).request('ClientRevoke', { name: 'test-officer' }));
    expect(asked.required).toBe(3);
    expect(codeOf(() => pki.revokeClient('test-officer'))).toBe('WRONG_STATE');
    expect(app.appliance.keychain.directory.countActiveClients('officer')).toBe(1);
  });
});
