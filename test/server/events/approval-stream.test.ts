/**
 * Dual control on the live event stream, end to end over real mutual TLS (a
 * real appliance: SoftHSM2, SQLite, certificates made now; the subscribers
 * use client/event-stream.ts): as an officer's dual-controlled request is
 * made over the wire, officers and auditors watching the stream receive an
 * `approval` event `requested` with the request id and digest the
 * APPROVAL_REQUIRED answer named, then one `approved` per approver as each
 * acts, then `executed` when the quorum runs it; the matching audit events
 * follow, durable. Nothing streamed carries key material, not even for a key
 * export the requester collects, nor for the Gets the approved grant allows.
 */
import { EventStream, StreamEvent } from '../../../client/event-stream';
import { DecodedResponse } from '../../../protocol/response';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { auditEvents, openStream, readFor, readUntil } from './event-support';

/** Long enough for an event published now to cross a loopback socket; used only to show that something does NOT arrive. */
const QUIET_MS = 300;

interface Required {
  requestId: string;
  digest: string;
  required: number;
  expiresAt: string;
  operation: string;
  class: string;
}

function required(response: DecodedResponse): Required {
  expect(response.error?.code).toBe('APPROVAL_REQUIRED');
  return response.error?.details as unknown as Required;
}

const approvalsOf = (events: StreamEvent[], requestId: string): StreamEvent[] => events.filter((e) => e.kind === 'approval' && e.requestId === requestId);

/** Every spelling of the bytes that must never be streamed. */
function expectNoMaterial(events: StreamEvent[], materials: readonly Buffer[]): void {
  const text = JSON.stringify(events);
  for (const material of materials) {
    for (const needle of [material.toString('base64'), material.toString('hex'), material.toString('base64url')]) expect(text).not.toContain(needle);
    expect(Buffer.from(text, 'latin1').includes(material)).toBe(false);
    expect(Buffer.from(text, 'utf8').includes(material)).toBe(false);
  }
}

describe('approval events on the live event stream', () => {
  let app: TestAppliance;
  let auditor: Credentials;
  let vaultApp: Credentials;
  let officer: RawConnection;
  let first: RawConnection;
  let second: RawConnection;
  const materials: Buffer[] = [];

  beforeAll(async () => {
    app = await startTestAppliance();
    auditor = app.issue('auditor-1', 'auditor');
    vaultApp = app.issue('vault-app', 'app');
    officer = await app.connect(app.officer);
    first = await app.connect(app.approvers[0]);
    second = await app.connect(app.approvers[1]);
    expect((await officer.request('Create', { name: 'vault/db' })).error).toBeUndefined();
  });

  afterAll(async () => app.stop());

  it('streams a material grant as it is requested, approved by each approver and executed, with the APPROVAL_REQUIRED id and digest', async () => {
    const approvalsOnly: EventStream = await openStream(app, auditor, { types: ['approval'] });
    const everything: EventStream = await openStream(app, app.officer);

    const asked = required(await officer.request('PolicyGrant', { client: 'vault-app', pattern: 'vault/*', permissions: ['get'] }));
    expect(asked).toMatchObject({ operation: 'PolicyGrant', class: 'grant-material', required: 2 });
    const requested = await readUntil(approvalsOnly, (seen) => seen.length >= 1);
    expect(requested.events).toEqual([
      expect.objectContaining({
        kind: 'approval', action: 'requested', requestId: asked.requestId, digest: asked.digest, expiresAt: asked.expiresAt,
        operation: 'PolicyGrant', requester: 'test-officer', approvals: 0, required: 2, key: null, namespace: null,
      }),
    ]);
    // Requested is all there is until an approver acts.
    expect(await readFor(approvalsOnly, QUIET_MS)).toEqual([]);
    // Not yet granted: the app is still refused.
    const appConn = await app.connect(vaultApp);
    expect((await appConn.request('Get', { name: 'vault/db' })).error?.code).toBe('PERMISSION_DENIED');

    const one = await first.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest });
    expect(one.result).toMatchObject({ request: { state: 'pending', approvals: 1 } });
    const afterOne = await readUntil(approvalsOnly, (seen) => seen.length >= 1);
    expect(afterOne.events).toEqual([expect.objectContaining({ action: 'approved', requestId: asked.requestId, digest: asked.digest, actor: 'approver-1', approvals: 1 })]);

    const two = await second.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest });
    expect(two.result).toMatchObject({ request: { state: 'executed', approvals: 2, result: { grant: { subject: 'vault-app' } } } });
    const afterTwo = await readUntil(approvalsOnly, (seen) => seen.length >= 2);
    expect(afterTwo.events).toEqual([
      expect.objectContaining({ action: 'approved', requestId: asked.requestId, digest: asked.digest, actor: 'approver-2', approvals: 2 }),
      expect.objectContaining({ action: 'executed', requestId: asked.requestId, digest: asked.digest, actor: null, requester: 'test-officer', approvals: 2 }),
    ]);
    expect(await readFor(approvalsOnly, QUIET_MS)).toEqual([]);

    // The grant is in force: the app now gets the key (and its bytes must not be streamed).
    const got = await appConn.request('Get', { name: 'vault/db' });
    materials.push(Buffer.from((got.result as { material: string }).material, 'base64'));
    expect(materials[0]).toHaveLength(32);

    // The unfiltered officer stream has the same approval events, and the durable audit events of each step.
    const seen = await readUntil(everything, (events) =>
      approvalsOf(events, asked.requestId).length >= 4 &&
      auditEvents(events).some((e) => e.event.type === 'approved-operation') &&
      auditEvents(events).some((e) => e.event.operation === 'Get' && e.event.result === 'ok'));
    expect(approvalsOf(seen.events, asked.requestId).map((e) => [e.action, e.digest])).toEqual([
      ['requested', asked.digest], ['approved', asked.digest], ['approved', asked.digest], ['executed', asked.digest],
    ]);
    const trail = auditEvents(seen.events).map((e) => e.event as { type: string; custom: Record<string, string>; identity: { name: string } | null })
      .filter((e) => e.custom.approvalRequest === asked.requestId);
    expect(trail.map((e) => [e.type, e.custom.action, e.custom.digest, e.identity?.name])).toEqual([
      ['approval', 'requested', asked.digest, 'test-officer'],
      ['approval', 'approved', asked.digest, 'approver-1'],
      ['approval', 'approved', asked.digest, 'approver-2'],
      ['approved-operation', 'executed', asked.digest, 'test-officer'],
    ]);
    expectNoMaterial([...requested.events, ...afterOne.events, ...afterTwo.events, ...seen.events], materials);
    appConn.destroy();
    await approvalsOnly.close();
    await everything.close();
  });

  it('streams an officer\'s key export through its collection, and never the exported material', async () => {
    const stream = await openStream(app, auditor);
    const asked = required(await officer.request('Get', { name: 'vault/db' }));
    expect(asked).toMatchObject({ operation: 'Get', class: 'key-export' });
    expect((await first.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).error).toBeUndefined();
    expect((await second.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).result).toMatchObject({ request: { state: 'approved' } });
    // The quorum does not run an export: nothing is executed until the requester collects it.
    const approved = await readUntil(stream, (events) => approvalsOf(events, asked.requestId).length >= 3);
    expect(approvalsOf(approved.events, asked.requestId).map((e) => e.action)).toEqual(['requested', 'approved', 'approved']);
    expect(approvalsOf(approved.events, asked.requestId)[0]).toMatchObject({ requestId: asked.requestId, digest: asked.digest, operation: 'Get', key: 'vault/db', namespace: 'vault', requester: 'test-officer' });

    const collected = await officer.request('ApprovalCollect', { id: asked.requestId });
    const exported = Buffer.from((collected.result as { material: string }).material, 'base64');
    expect(exported).toHaveLength(32);
    const done = await readUntil(stream, (events) =>
      approvalsOf(events, asked.requestId).length >= 1 &&
      auditEvents(events).some((e) => (e.event as { custom: Record<string, string> }).custom.approvalRequest === asked.requestId && e.event.type === 'approved-operation'));
    expect(approvalsOf(done.events, asked.requestId)).toEqual([expect.objectContaining({ action: 'executed', digest: asked.digest, requester: 'test-officer' })]);
    expectNoMaterial([...approved.events, ...done.events], [exported]);
    await stream.close();
  });
});
