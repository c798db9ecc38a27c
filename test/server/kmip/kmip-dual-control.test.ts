/**
 * Dual control over the KMIP wire against a real appliance (issue 13): an
 * officer's Destroy answers Operation Pending with the approval request's id
 * as Asynchronous Correlation Value; Poll answers Pending while officers
 * have not approved, then Destroy's own payload once the two other
 * officers (`t.approvers`, over the native wire) approved it and it ran.
 * Cancel withdraws a pending request; Poll then says it was cancelled. Only
 * the requester may follow or cancel a request; a denial, a failed run and
 * an unknown value each have their answer.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { enumeration } from '../../../protocol/kmip/dictionary';
import { ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { approveOnce, correlationPayload, createdInstance, field, only, stateOf, uidPayload, V14, V21 } from './lifecycle-support';

jest.setTimeout(60_000);

const LATER = '2099-01-01T00:00:00.000Z';

/** The approval request id a pending answer carries. */
function pendingId(answer: ResponseBatchItem): string {
  expect(answer).toMatchObject({ resultStatus: 'OperationPending' });
  return Buffer.from(answer.asynchronousCorrelationValue!).toString('utf8');
}

describe('dual control over KMIP: Poll and Cancel', () => {
  let t: TestAppliance;
  let native: RawConnection;
  let officer: KmipTlsClient;
  let otherOfficer: KmipTlsClient;
  let app: KmipTlsClient;

  beforeAll(async () => {
    t = await startTestAppliance({ destruction_wait: 'P0D' });
    native = await t.connect(t.officer);
    officer = await KmipTlsClient.open(t.server.kmipPort!, t.officer);
    otherOfficer = await KmipTlsClient.open(t.server.kmipPort!, t.approvers[0]);
    app = await KmipTlsClient.open(t.server.kmipPort!, t.issue('kmip-dc-app', 'app'));
    expect((await native.request('PolicyGrant', { client: 'kmip-dc-app', pattern: 'dc-app/*', permissions: ['destroy'] })).error).toBeUndefined();
  });

  afterAll(async () => {
    for (const client of [officer, otherOfficer, app]) client?.destroy();
    await t?.stop();
  });

  /** A key whose instance may be destroyed (revoked over the native wire). */
  async function revoked(name: string): Promise<string> {
    const instance = await createdInstance(native, name);
    expect((await native.request('Revoke', { name, reason: 'superseded' })).error).toBeUndefined();
    return instance;
  }

  async function poll(client: KmipTlsClient, id: string, version = V21): Promise<ResponseBatchItem> {
    return only((await client.call('Poll', correlationPayload(Buffer.from(id, 'utf8')), version)).batchItems);
  }

  async function cancel(client: KmipTlsClient, id: string): Promise<ResponseBatchItem> {
    return only((await client.call('Cancel', correlationPayload(Buffer.from(id, 'utf8')))).batchItems);
  }

  test('an officer\'s Destroy goes Pending, and Poll gives Destroy\'s own answer once two other officers approved it', async () => {
    const instance = await revoked('dc/destroy-me');
    const asked = only((await officer.call('Destroy', uidPayload(instance))).batchItems);
    expect(asked.operation).toBe('Destroy');
    const id = pendingId(asked);
    expect(await stateOf(native, 'dc/destroy-me')).toMatchObject({ state: 'Deactivated' });

    // Waiting for officers: Pending again, with the same value.
    const waiting = await poll(officer, id);
    expect(waiting).toMatchObject({ operation: 'Poll', resultStatus: 'OperationPending' });
    expect(pendingId(waiting)).toBe(id);
    expect(waiting.responsePayload).toBeUndefined();

    expect(await approveOnce(t, 0, id)).toBe('pending');
    expect(pendingId(await poll(officer, id))).toBe(id);
    expect(await approveOnce(t, 1, id)).toBe('executed');
    expect(await stateOf(native, 'dc/destroy-me')).toMatchObject({ state: 'Destroyed' });

    const done = await poll(officer, id);
    expect(done).toMatchObject({ operation: 'Poll', resultStatus: 'Success' });
    expect(field(done.responsePayload, 'UniqueIdentifier')).toBe(instance);
    // The outcome is kept with the request: polling again answers the same, and runs nothing again.
    expect(field((await poll(officer, id, V14)).responsePayload, 'UniqueIdentifier')).toBe(instance);
    // Too late to cancel: it completed.
    expect(field((await cancel(officer, id)).responsePayload, 'CancellationResult')).toBe(enumeration('CancellationResult')!.byName.get('Completed'));
  });

  test('an app\'s Destroy under its grant is held the same way, and the app follows it to its answer in KMIP 1.4', async () => {
    const instance = await revoked('dc-app/retired');
    const id = pendingId(only((await app.call('Destroy', uidPayload(instance), V14)).batchItems));
    expect(pendingId(await poll(app, id, V14))).toBe(id);
    await approveOnce(t, 0, id);
    expect(await approveOnce(t, 1, id)).toBe('executed');
    const done = await poll(app, id, V14);
    expect(done).toMatchObject({ operation: 'Poll', resultStatus: 'Success' });
    expect(field(done.responsePayload, 'UniqueIdentifier')).toBe(instance);
    // Not even an officer may follow it: its outcome is the app's.
    expect(await poll(officer, id)).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
  });

  test('only the requester follows a request: another officer is refused, an app is told there is no such value', async () => {
    const instance = await revoked('dc/not-yours');
    const id = pendingId(only((await officer.call('Destroy', uidPayload(instance))).batchItems));

    const byOfficer = await poll(otherOfficer, id);
    expect(byOfficer).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    expect(byOfficer.resultMessage).toMatch(/^APPROVAL_NOT_REQUESTER: /);
    expect(await poll(app, id)).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidAsynchronousCorrelationValue' });
    expect(await poll(app, id, V14)).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'ItemNotFound' });
    expect(await cancel(otherOfficer, id)).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    // Neither touched it.
    expect(pendingId(await poll(officer, id))).toBe(id);
  });

  test('Cancel withdraws a pending request; Poll then answers Operation Canceled By Requester, and officers can no longer approve it', async () => {
    const instance = await revoked('dc/cancel-me');
    const id = pendingId(only((await officer.call('Destroy', uidPayload(instance))).batchItems));

    const cancelled = await cancel(officer, id);
    expect(cancelled).toMatchObject({ operation: 'Cancel', resultStatus: 'Success' });
    expect(Buffer.from(field(cancelled.responsePayload, 'AsynchronousCorrelationValue') as Uint8Array).toString('utf8')).toBe(id);
    expect(field(cancelled.responsePayload, 'CancellationResult')).toBe(enumeration('CancellationResult')!.byName.get('Canceled'));

    const after = await poll(officer, id);
    expect(after).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'OperationCanceledByRequester' });
    expect(after.resultMessage).toMatch(/cancelled by test-officer/);
    // Cancelling again says the same; an approval now is refused natively.
    expect(field((await cancel(officer, id)).responsePayload, 'CancellationResult')).toBe(enumeration('CancellationResult')!.byName.get('Canceled'));
    const approver = await t.connect(t.approvers[0]);
    const digest = ((await approver.request('ApprovalGet', { id })).result as { request: { digest: string } }).request.digest;
    expect((await approver.request('ApprovalApprove', { id, digest })).error?.code).toBe('APPROVAL_NOT_PENDING');
    expect(await stateOf(native, 'dc/cancel-me')).toMatchObject({ state: 'Deactivated' });
  });

  test('a denied request answers Permission Denied with the officer\'s reason; Cancel then says it Failed', async () => {
    const instance = await revoked('dc/deny-me');
    const id = pendingId(only((await officer.call('Destroy', uidPayload(instance))).batchItems));
    const approver = await t.connect(t.approvers[1]);
    expect((await approver.request('ApprovalDeny', { id, reason: 'still referenced by the backups' })).error).toBeUndefined();

    const denied = await poll(officer, id);
    expect(denied).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    expect(denied.resultMessage).toBe(`request ${id} was denied by approver-2: still referenced by the backups`);
    expect(field((await cancel(officer, id)).responsePayload, 'CancellationResult')).toBe(enumeration('CancellationResult')!.byName.get('Failed'));
  });

  test('an approved request that fails when it runs answers the failure Destroy would have answered', async () => {
    // Pre-Active may be destroyed; activated while the request waits, it may not any more.
    const instance = await createdInstance(native, 'dc/activated-meanwhile', { activateAt: LATER });
    const id = pendingId(only((await officer.call('Destroy', uidPayload(instance))).batchItems));
    expect((await native.request('Activate', { instance })).error).toBeUndefined();
    await approveOnce(t, 0, id);
    expect(await approveOnce(t, 1, id)).toBe('failed');

    const failed = await poll(officer, id);
    expect(failed).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'WrongKeyLifecycleState' });
    expect(failed.resultMessage).toMatch(new RegExp(`^WRONG_STATE: request ${id} was approved but failed: instance .* is Active`));
    expect((await poll(officer, id, V14)).resultReason).toBe('IllegalOperation');
    expect(await stateOf(native, 'dc/activated-meanwhile')).toMatchObject({ state: 'Active' });
  });

  test('a value this server never gave is Invalid Asynchronous Correlation Value (1.x: Item Not Found), for Poll and Cancel', async () => {
    for (const value of [Buffer.from('00000000-0000-4000-8000-000000000000', 'utf8'), Buffer.from([0xff, 0xfe, 0x00]), Buffer.alloc(200, 0x61)]) {
      const polled = only((await officer.call('Poll', correlationPayload(value))).batchItems);
      expect(polled).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidAsynchronousCorrelationValue' });
      expect(polled.resultMessage).toMatch(/^APPROVAL_NOT_FOUND: /);
      expect(only((await officer.call('Cancel', correlationPayload(value))).batchItems)).toMatchObject({ resultReason: 'InvalidAsynchronousCorrelationValue' });
      expect(only((await officer.call('Poll', correlationPayload(value), V14)).batchItems)).toMatchObject({ resultReason: 'ItemNotFound' });
    }
  });

  test('the audit trail records the KMIP Destroy that asked for approval, the polls and the run', async () => {
    const auditor = await t.connect(t.issue('kmip-dc-auditor', 'auditor'));
    const search = async (operation: string): Promise<Array<Record<string, unknown>>> =>
      ((await auditor.request('AuditSearch', { identity: 'test-officer', operation })).result as { events: Array<{ event: Record<string, unknown> }> }).events.map((e) => e.event);
    expect(await search('Destroy')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'operation', key: 'dc/destroy-me', result: 'APPROVAL_REQUIRED' }),
        expect.objectContaining({ type: 'approved-operation', key: 'dc/destroy-me', result: 'ok' }),
      ]),
    );
    expect(await search('ApprovalGet')).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'operation', result: 'ok' }), expect.objectContaining({ result: 'APPROVAL_NOT_FOUND' })]));
    expect(await search('ApprovalCancel')).toEqual(expect.arrayContaining([expect.objectContaining({ result: 'ok' }), expect.objectContaining({ result: 'APPROVAL_NOT_PENDING' })]));
  });
});
