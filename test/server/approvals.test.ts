/**
 * Dual control over real mutual TLS, on SoftHSM2 and SQLite (issue 6): a
 * 2-of-3 approval runs the operation exactly once and it really happens;
 * each refusal has its code; concurrent approvals over separate connections
 * run it once; pending requests survive a restart of the appliance on the
 * same data folder; events and audit events follow every change.
 */
import { LiveEvent } from '../../domain/events/event-bus';
import { required } from '../support/approval-required';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';


function auditEvents(app: TestAppliance): Array<{ type: string; operation: string | null; result: string; custom: Record<string, string> }> {
  return app.appliance.store.audit.readAuditRecords(1, 100_000).map((r) => JSON.parse(r.event));
}

describe('dual-control approvals over mutual TLS', () => {
  let app: TestAppliance;
  let requester: RawConnection;
  let first: RawConnection;
  let second: RawConnection;
  const events: LiveEvent[] = [];

  beforeAll(async () => {
    app = await startTestAppliance({ destruction_wait: 'P0D' });
    app.server.services.events.subscribe((e) => events.push(e));
    requester = await app.connect(app.officer);
    first = await app.connect(app.approvers[0]);
    second = await app.connect(app.approvers[1]);
  });
  afterAll(async () => app.stop());

  async function revokedKey(name: string): Promise<void> {
    expect((await requester.request('Create', { name })).error).toBeUndefined();
    expect((await requester.request('Revoke', { name, reason: 'superseded' })).error).toBeUndefined();
  }

  it('holds a Destroy until two other officers approve it, then destroys the key exactly once', async () => {
    await revokedKey('dc/destroy-me');
    const asked = required(await requester.request('Destroy', { name: 'dc/destroy-me' }));
    expect(asked.required).toBe(2);
    expect((await requester.request('GetAttributes', { name: 'dc/destroy-me' })).result).toMatchObject({ instances: [{ state: 'Deactivated' }] });

    const shown = (await first.request('ApprovalGet', { id: asked.requestId })).result as { request: Record<string, unknown> };
    expect(shown.request).toMatchObject({ operation: 'Destroy', args: { name: 'dc/destroy-me' }, requester: 'test-officer', digest: asked.digest, state: 'pending', approvals: 0 });

    const one = await first.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest });
    expect(one.result).toMatchObject({ request: { state: 'pending', approvals: 1 } });
    const two = await second.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest });
    expect(two.result).toMatchObject({ request: { state: 'executed', approvals: 2, approvedBy: ['approver-1', 'approver-2'], result: { instance: { state: 'Destroyed' } } } });
    expect((await requester.request('GetAttributes', { name: 'dc/destroy-me' })).result).toMatchObject({ instances: [{ state: 'Destroyed' }] });

    const third = app.issue('approver-3', 'officer');
    const late = await (await app.connect(third)).request('ApprovalApprove', { id: asked.requestId, digest: asked.digest });
    expect(late.error?.code).toBe('APPROVAL_NOT_PENDING');
    const runs = auditEvents(app).filter((e) => e.type === 'approved-operation' && e.custom.approvalRequest === asked.requestId);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ operation: 'Destroy', result: 'ok', custom: { action: 'executed', approvedBy: 'approver-1,approver-2' } });
  });

  it('revokes a client only once approved, and closes its connections', async () => {
    const doomed = app.issue('doomed-app', 'app');
    const open = await app.connect(doomed);
    expect((await open.request('Query')).result).toBeDefined();
    const asked = required(await requester.request('ClientRevoke', { name: 'doomed-app' }));
    expect((await open.request('Query')).result).toBeDefined();
    const done = await app.approve({ id: 1, error: { code: 'APPROVAL_REQUIRED', message: '', details: asked as never } });
    expect(done).toMatchObject({ state: 'executed', result: { client: { name: 'doomed-app', revokedAt: expect.any(String) } } });
    await open.waitClosed();
  });

  it('refuses the requester, a second vote, a wrong digest and a non-officer, each with its code', async () => {
    await revokedKey('dc/refusals');
    const asked = required(await requester.request('Destroy', { name: 'dc/refusals' }));
    expect((await requester.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).error?.code).toBe('APPROVAL_SELF_APPROVAL');
    const wrong = asked.digest.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect((await first.request('ApprovalApprove', { id: asked.requestId, digest: wrong })).error?.code).toBe('APPROVAL_DIGEST_MISMATCH');
    expect((await first.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).result).toMatchObject({ request: { approvals: 1 } });
    expect((await first.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).error?.code).toBe('APPROVAL_ALREADY_VOTED');
    const auditor = await app.connect(app.issue('auditor-dc', 'auditor'));
    expect((await auditor.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).error?.code).toBe('PERMISSION_DENIED');
    expect((await auditor.request('ApprovalGet', { id: asked.requestId })).result).toMatchObject({ request: { approvals: 1 } });
    expect((await first.request('ApprovalGet', { id: 'no-such-request' })).error?.code).toBe('APPROVAL_NOT_FOUND');
    expect((await requester.request('GetAttributes', { name: 'dc/refusals' })).result).toMatchObject({ instances: [{ state: 'Deactivated' }] });
  });

  it('runs the operation once when approvals arrive at the same time over separate connections', async () => {
    await revokedKey('dc/race');
    const asked = required(await requester.request('Destroy', { name: 'dc/race' }));
    const officers: Credentials[] = [1, 2, 3, 4].map((i) => app.issue(`racer-${i}`, 'officer'));
    const connections = await Promise.all(officers.map((o) => app.connect(o)));
    const answers = await Promise.all(connections.map((c) => c.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })));
    const states = answers.map((a) => (a.result as { request?: { state: string } } | undefined)?.request?.state ?? a.error?.code);
    expect(states.filter((s) => s === 'executed')).toHaveLength(1);
    expect(states.filter((s) => s === 'pending')).toHaveLength(1);
    expect(states.filter((s) => s === 'APPROVAL_NOT_PENDING')).toHaveLength(2);
    expect(auditEvents(app).filter((e) => e.type === 'approved-operation' && e.custom.approvalRequest === asked.requestId)).toHaveLength(1);
  });

  it('lets any officer deny and only the requester cancel', async () => {
    await revokedKey('dc/deny');
    const denied = required(await requester.request('Destroy', { name: 'dc/deny' }));
    const app1 = await app.connect(app.issue('plain-app', 'app'));
    expect((await app1.request('ApprovalDeny', { id: denied.requestId, reason: 'no' })).error?.code).toBe('PERMISSION_DENIED');
    expect((await app1.request('ApprovalCancel', { id: denied.requestId })).error?.code).toBe('APPROVAL_NOT_FOUND');
    expect((await first.request('ApprovalCancel', { id: denied.requestId })).error?.code).toBe('APPROVAL_NOT_REQUESTER');
    expect((await first.request('ApprovalDeny', { id: denied.requestId, reason: 'change freeze' })).result).toMatchObject({ request: { state: 'denied', finishedBy: 'approver-1', reason: 'change freeze' } });
    expect((await second.request('ApprovalApprove', { id: denied.requestId, digest: denied.digest })).error?.code).toBe('APPROVAL_NOT_PENDING');

    const cancelled = required(await requester.request('Destroy', { name: 'dc/deny' }));
    expect((await requester.request('ApprovalCancel', { id: cancelled.requestId })).result).toMatchObject({ request: { state: 'cancelled', finishedBy: 'test-officer' } });
    expect((await first.request('ApprovalApprove', { id: cancelled.requestId, digest: cancelled.digest })).error?.code).toBe('APPROVAL_NOT_PENDING');
    expect((await requester.request('GetAttributes', { name: 'dc/deny' })).result).toMatchObject({ instances: [{ state: 'Deactivated' }] });
  });

  it('publishes an approval event and records an audit event for every change, the request id with them', async () => {
    await revokedKey('dc/events');
    events.length = 0;
    const asked = required(await requester.request('Destroy', { name: 'dc/events' }));
    await app.approve({ id: 1, error: { code: 'APPROVAL_REQUIRED', message: '', details: asked as never } });
    const mine = events.filter((e) => e.kind === 'approval' && e.requestId === asked.requestId);
    expect(mine.map((e) => (e as { action: string }).action)).toEqual(['requested', 'approved', 'approved', 'executed']);
    expect(mine[0]).toMatchObject({ operation: 'Destroy', key: 'dc/events', namespace: 'dc', requester: 'test-officer', required: 2, digest: asked.digest });
    const trail = auditEvents(app).filter((e) => e.custom.approvalRequest === asked.requestId).map((e) => e.custom.action);
    expect(trail).toEqual(['requested', 'approved', 'approved', 'executed']);
  });

  it('keeps a pending request across a restart of the appliance on the same data folder', async () => {
    await revokedKey('dc/restart');
    const asked = required(await requester.request('Destroy', { name: 'dc/restart' }));
    expect((await first.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).error).toBeUndefined();
    await app.restart();
    requester = await app.connect(app.officer);
    first = await app.connect(app.approvers[0]);
    second = await app.connect(app.approvers[1]);
    expect((await second.request('ApprovalGet', { id: asked.requestId })).result).toMatchObject({ request: { state: 'pending', approvals: 1, digest: asked.digest } });
    expect((await first.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).error?.code).toBe('APPROVAL_ALREADY_VOTED');
    expect((await second.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).result).toMatchObject({ request: { state: 'executed' } });
    expect((await requester.request('GetAttributes', { name: 'dc/restart' })).result).toMatchObject({ instances: [{ state: 'Destroyed' }] });
  });
});
