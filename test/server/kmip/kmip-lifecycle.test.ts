/**
 * Activate, Revoke and Destroy over KMIP against a real appliance (SoftHSM2,
 * SQLite, mutual TLS): each goes through the native operation, so its
 * grants, its states and its audit are the native wire's. Keys and grants
 * are made over the native wire; the refusals carry the Result Reason of
 * the version asked (Wrong Key Lifecycle State in 2.x, Illegal Operation in
 * 1.x). Dual control of Destroy, Poll and Cancel: kmip-dual-control.test.ts.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { enumeration, tagName } from '../../../protocol/kmip/dictionary';
import { dateItem, enumItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { createdInstance, field, only, revocationReason, stateOf, uidPayload, V14, V21 } from './lifecycle-support';

jest.setTimeout(60_000);

/** Far enough ahead that the activation sweep never activates it during the test. */
const LATER = '2099-01-01T00:00:00.000Z';

describe('the KMIP lifecycle operations', () => {
  let t: TestAppliance;
  let native: RawConnection;
  let app: KmipTlsClient;
  let stranger: KmipTlsClient;
  let officer: KmipTlsClient;

  beforeAll(async () => {
    t = await startTestAppliance({ destruction_wait: 'P0D' });
    // Certificates first: issuing blocks the event loop for seconds, and a connection just opened may be dropped meanwhile (its handshake not yet finished on the server).
    const appCredentials = t.issue('kmip-lc-app', 'app');
    const strangerCredentials = t.issue('kmip-lc-stranger', 'app');
    native = await t.connect(t.officer);
    const granted = await native.request('PolicyGrant', { client: 'kmip-lc-app', pattern: 'lc/*', permissions: ['activate', 'revoke', 'destroy', 'get-attributes'] });
    expect(granted.error).toBeUndefined();
    app = await KmipTlsClient.open(t.server.kmipPort!, appCredentials);
    stranger = await KmipTlsClient.open(t.server.kmipPort!, strangerCredentials);
    officer = await KmipTlsClient.open(t.server.kmipPort!, t.officer);
  });

  afterAll(async () => {
    for (const client of [app, stranger, officer]) client?.destroy();
    await t?.stop();
  });

  test('Activate makes a Pre-Active instance Active and answers its Unique Identifier; again, the state is refused in each version\'s terms', async () => {
    const instance = await createdInstance(native, 'lc/activate-me', { activateAt: LATER });
    expect(await stateOf(native, 'lc/activate-me')).toMatchObject({ name: instance, state: 'PreActive' });

    const answer = only((await app.call('Activate', uidPayload(instance))).batchItems);
    expect(answer).toMatchObject({ operation: 'Activate', resultStatus: 'Success' });
    expect(field(answer.responsePayload, 'UniqueIdentifier')).toBe(instance);
    expect(await stateOf(native, 'lc/activate-me')).toMatchObject({ state: 'Active' });

    const again = only((await app.call('Activate', uidPayload(instance), V21)).batchItems);
    expect(again).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'WrongKeyLifecycleState' });
    expect(again.resultMessage).toMatch(/^WRONG_STATE: /);
    expect(only((await app.call('Activate', uidPayload(instance), V14)).batchItems)).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'IllegalOperation' });
  });

  test('without a grant the answer is Permission Denied, and an unknown Unique Identifier is Object Not Found (2.x) for an officer (Permission Denied for an app, which is not told what exists)', async () => {
    const instance = await createdInstance(native, 'lc/not-yours', { activateAt: LATER });
    const denied = only((await stranger.call('Activate', uidPayload(instance))).batchItems);
    expect(denied).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    expect(denied.resultMessage).toMatch(/^PERMISSION_DENIED: /);
    expect(await stateOf(native, 'lc/not-yours')).toMatchObject({ state: 'PreActive' });

    const unknown = only((await officer.call('Activate', uidPayload('lc-no-such-instance'))).batchItems);
    expect(unknown).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'ObjectNotFound' });
    expect(unknown.resultMessage).toMatch(/^INSTANCE_NOT_FOUND: /);
    expect(only((await app.call('Revoke', uidPayload('lc-no-such-instance', revocationReason('Superseded')))).batchItems)).toMatchObject({ resultReason: 'PermissionDenied' });
  });

  test('Revoke for a reason that is not a compromise deactivates; Key Compromise with its occurrence date compromises', async () => {
    const retired = await createdInstance(native, 'lc/retired');
    const answer = only((await app.call('Revoke', uidPayload(retired, revocationReason('CessationOfOperation')))).batchItems);
    expect(answer).toMatchObject({ operation: 'Revoke', resultStatus: 'Success' });
    expect(field(answer.responsePayload, 'UniqueIdentifier')).toBe(retired);
    expect(await stateOf(native, 'lc/retired')).toMatchObject({ state: 'Deactivated', revocationReason: 'cessationOfOperation', compromisedAt: null });

    const leaked = await createdInstance(native, 'lc/leaked');
    const occurred = BigInt(Math.floor(Date.parse('2026-03-04T05:06:07Z') / 1000));
    const compromised = only((await app.call('Revoke', uidPayload(leaked, revocationReason('KeyCompromise'), dateItem('CompromiseOccurrenceDate', occurred)), V14)).batchItems);
    expect(compromised.resultStatus).toBe('Success');
    expect(await stateOf(native, 'lc/leaked')).toMatchObject({
      state: 'Compromised', deactivatedAt: '2026-03-04T05:06:07.000Z', revocationReason: 'keyCompromise', compromiseOccurredAt: '2026-03-04T05:06:07.000Z',
    });
    const { compromisedAt } = (await stateOf(native, 'lc/leaked')) as { compromisedAt: string };
    expect(Date.parse(compromisedAt)).toBeGreaterThan(Date.parse('2026-03-04T05:06:07Z'));

    // What Revoke recorded, over KMIP: the reason, when it was compromised and when that occurred; no Deactivation Date.
    const names = ['Revocation Reason', 'Compromise Date', 'Compromise Occurrence Date', 'Deactivation Date', 'Original Creation Date'];
    const read = only((await app.call('GetAttributes', uidPayload(leaked, ...names.map((n) => textItem('AttributeName', n))), V14)).batchItems);
    const attributes = (read.responsePayload!.value as TtlvNode[]).filter((n) => tagName(n.tag) === 'Attribute').map((a) => a.value as TtlvNode[]);
    const byName = new Map(attributes.map(([name, value]) => [name.value as string, value]));
    expect([...byName.keys()].sort()).toEqual(['Compromise Date', 'Compromise Occurrence Date', 'Original Creation Date', 'Revocation Reason']);
    expect(byName.get('Compromise Occurrence Date')!.value).toBe(occurred);
    expect(byName.get('Compromise Date')!.value).toBe(BigInt(Math.floor(Date.parse(compromisedAt) / 1000)));
    const code = (byName.get('Revocation Reason')!.value as TtlvNode[])[0];
    expect([tagName(code.tag), enumeration('RevocationReasonCode')?.byValue.get(code.value as number)]).toEqual(['RevocationReasonCode', 'KeyCompromise']);
  });

  test('a Revoke the native Revoke cannot take exactly is refused, naming the field, and changes nothing', async () => {
    const instance = await createdInstance(native, 'lc/kept');
    const refusals: Array<[ReturnType<typeof uidPayload>, string, RegExp]> = [
      [uidPayload(instance), 'InvalidField', /RevocationReason is required/],
      [uidPayload(instance, revocationReason('Superseded'), dateItem('CompromiseOccurrenceDate', 6n)), 'InvalidField', /CompromiseOccurrenceDate is only for Key Compromise/],
      [uidPayload(instance, structureItem('RevocationReason', [])), 'InvalidField', /RevocationReasonCode is required/],
      [uidPayload(instance, structureItem('RevocationReason', [enumItem('RevocationReasonCode', 'Superseded'), textItem('RevocationMessage', 'x'.repeat(201))])), 'InvalidField', /message/],
      [structureItem('RequestPayload', [revocationReason('Superseded')]), 'ItemNotFound', /UniqueIdentifier is omitted and no earlier item of this batch set the ID Placeholder/],
    ];
    for (const [payload, reason, message] of refusals) {
      const answer = only((await app.call('Revoke', payload)).batchItems);
      expect(answer).toMatchObject({ resultStatus: 'OperationFailed', resultReason: reason });
      expect(answer.resultMessage).toMatch(message);
    }
    expect(await stateOf(native, 'lc/kept')).toMatchObject({ state: 'Active' });
  });

  test('Destroy of an Active instance is refused before any approval is asked (2.x Wrong Key Lifecycle State, 1.x Permission Denied as OASIS SKLC-M-2-14 expects)', async () => {
    const instance = await createdInstance(native, 'lc/in-use');
    const before = await native.request('ApprovalList', { state: 'pending' });
    const refused = only((await officer.call('Destroy', uidPayload(instance), V21)).batchItems);
    expect(refused).toMatchObject({ operation: 'Destroy', resultStatus: 'OperationFailed', resultReason: 'WrongKeyLifecycleState' });
    expect(refused.resultMessage).toMatch(/revoke \(deactivate\) it before destroying it/);
    const refused14 = only((await app.call('Destroy', uidPayload(instance), V14)).batchItems);
    expect(refused14).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    expect(refused14.resultMessage).toMatch(/^WRONG_STATE: .*revoke \(deactivate\) it before destroying it/);
    expect((await native.request('ApprovalList', { state: 'pending' })).result).toEqual(before.result);
    expect(await stateOf(native, 'lc/in-use')).toMatchObject({ state: 'Active', destroyAt: null });
  });

  test('an unexpected field is refused as Invalid Field, naming it', async () => {
    const instance = await createdInstance(native, 'lc/extra', { activateAt: LATER });
    const answer = only((await app.call('Activate', uidPayload(instance, textItem('Name', 'x')))).batchItems);
    expect(answer).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidField' });
    expect(answer.resultMessage).toMatch(/RequestPayload\/Name is not supported here/);
  });

  test('a Revocation Message goes with the Revoke into its audit event', async () => {
    const retired = await createdInstance(native, 'lc/with-message');
    const payload = uidPayload(retired, structureItem('RevocationReason', [enumItem('RevocationReasonCode', 'Superseded'), textItem('RevocationMessage', 'rotated by the test')]));
    expect(only((await app.call('Revoke', payload)).batchItems)).toMatchObject({ resultStatus: 'Success' });
    expect(await stateOf(native, 'lc/with-message')).toMatchObject({ state: 'Deactivated' });
    const auditor = await t.connect(t.issue('kmip-lc-auditor-2', 'auditor'));
    const found = await auditor.request('AuditSearch', { identity: 'kmip-lc-app', operation: 'Revoke', key: 'lc/with-message' });
    const events = (found.result as { events: Array<{ event: { result: string; custom: Record<string, string> } }> }).events.map((e) => e.event);
    expect(events.filter((e) => e.result === 'ok').map((e) => e.custom.revocationMessage)).toEqual(['rotated by the test']);
    auditor.destroy();
  });

  test('the audit trail records each KMIP request with its client, key and outcome', async () => {
    const auditor = await t.connect(t.issue('kmip-lc-auditor', 'auditor'));
    const found = await auditor.request('AuditSearch', { identity: 'kmip-lc-app', operation: 'Activate' });
    const events = (found.result as { events: Array<{ event: Record<string, unknown> }> }).events.map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ operation: 'Activate', result: 'ok', key: 'lc/activate-me' })]));
    // The refusals too: the one of a second Activate, with its native code.
    expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ operation: 'Activate', result: 'WRONG_STATE', key: 'lc/activate-me' })]));
    const revokes = await auditor.request('AuditSearch', { identity: 'kmip-lc-app', operation: 'Revoke' });
    expect((revokes.result as { events: Array<{ event: Record<string, unknown> }> }).events.map((e) => e.event)).toEqual(
      expect.arrayContaining([expect.objectContaining({ operation: 'Revoke', result: 'ok', key: 'lc/leaked' })]),
    );
  });
});
