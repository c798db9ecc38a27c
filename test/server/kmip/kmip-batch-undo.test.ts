/**
 * KMIP batches sent with the Batch Error Continuation Option Undo, against a
 * real appliance (SoftHSM2, SQLite, mutual TLS; docs/kmip.md §3.15): the
 * OASIS BL-M-2-21 shape (Activate, Check Encrypt, Check Decrypt that fails)
 * leaves the key Pre-Active, with the activation and its undo in the audit
 * trail and the chain verifying; a batch holding an operation that cannot be
 * undone runs nothing; and the undo fails closed when the instance changed
 * between the activation and the undo (a Revoke from another connection,
 * made at that point by running the server's own item runner and batch
 * executor on its dispatcher).
 */
import { X509Certificate } from 'node:crypto';
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { executeBatch, RunItem } from '../../../protocol/kmip/kmip-batch-executor';
import { canUndo } from '../../../protocol/kmip/batch-undo';
import { RequestMessage, ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { kmipOperations } from '../../../protocol/kmip/operations/kmip-operations';
import { maskItem } from '../../../protocol/kmip/operations/payload';
import { kmipItemRunner } from '../../../server/kmip/kmip-item-runner';
import { fingerprintOfDer } from '../../../domain/pki/certificate-info';
import { ClientIdentity } from '../../../domain/policy/identity';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { createdInstance, revocationReason, stateOf, uidPayload, V21 } from './lifecycle-support';

jest.setTimeout(120_000);

/** Far enough ahead that the activation sweep never activates it during the test. */
const LATER = '2099-01-01T00:00:00.000Z';

type AuditedEvent = { operation: string; result: string; instance: string | null; key: string | null; identity: { name: string } | null; transport?: string };

const checkPayload = (instance: string, usage: string) => uidPayload(instance, maskItem('CryptographicUsageMask', [usage]));

/** The BL-M-2-21 batch: Activate, then Check Encrypt, then Check Decrypt, with Undo. */
function blM2Batch(instance: string): RequestMessage {
  return {
    header: { protocolVersion: V21, batchErrorContinuationOption: 'Undo', batchCount: 3 },
    batchItems: [
      { operation: 'Activate', uniqueBatchItemId: Buffer.from('01', 'hex'), requestPayload: uidPayload(instance) },
      { operation: 'Check', uniqueBatchItemId: Buffer.from('02', 'hex'), requestPayload: checkPayload(instance, 'Encrypt') },
      { operation: 'Check', uniqueBatchItemId: Buffer.from('03', 'hex'), requestPayload: checkPayload(instance, 'Decrypt') },
    ],
  };
}

const statuses = (items: readonly ResponseBatchItem[]) => items.map((item) => [item.operation, item.resultStatus, item.resultReason]);

describe('KMIP batches with Undo', () => {
  let t: TestAppliance;
  let native: RawConnection;
  let auditor: RawConnection;
  let appCredentials: Credentials;
  let app: KmipTlsClient;

  beforeAll(async () => {
    t = await startTestAppliance();
    native = await t.connect(t.officer);
    appCredentials = t.issue('undo-app', 'app');
    const auditorCredentials = t.issue('undo-auditor', 'auditor');
    const granted = await native.request('PolicyGrant', { client: 'undo-app', pattern: 'undo/*', permissions: ['activate', 'revoke', 'get-attributes'] });
    expect(granted.error).toBeUndefined();
    app = await KmipTlsClient.open(t.server.kmipPort!, appCredentials);
    auditor = await t.connect(auditorCredentials);
  });

  afterAll(async () => {
    app?.destroy();
    await t?.stop();
  });

  async function events(operation: string, key: string): Promise<AuditedEvent[]> {
    const found = await auditor.request('AuditSearch', { operation, key });
    expect(found.error).toBeUndefined();
    return (found.result as { events: Array<{ event: AuditedEvent }> }).events.map((e) => e.event);
  }

  /**
   * The server's own item runner on its dispatcher, for `credentials`' client,
   * running `between` right after an Activate item: a change made at the one
   * point the undo must notice, without racing a connection.
   */
  function changingAfterActivate(credentials: Credentials, name: string, between: () => Promise<void>): RunItem {
    const fingerprint256 = fingerprintOfDer(new X509Certificate(credentials.certificatePem).raw);
    const identity: ClientIdentity = { name, role: 'app', groups: [], fingerprint256, subject: `CN=${name}` };
    let n = 0;
    const runner = kmipItemRunner({
      dispatcher: t.server.dispatcher,
      operations: kmipOperations(),
      identity,
      source: { transport: 'kmip', address: null },
      newRequestId: () => `undo-test-${++n}`,
      onInternalError: (err) => {
        throw err;
      },
      nowMs: () => Date.now(),
      newId: () => `undo-test-id-${++n}`,
    });
    return async (item, request, placeholder) => {
      const outcome = await runner(item, request, placeholder);
      if (item.operation === 'Activate') await between();
      return outcome;
    };
  }

  test('Activate, Check Encrypt, Check Decrypt (refused): the activation and the passed Check answer Operation Undone, the key is Pre-Active again, both audited, the chain verifies', async () => {
    const instance = await createdInstance(native, 'undo/enc-only', { usage: ['encrypt'], activateAt: LATER });
    const response = await app.request(blM2Batch(instance));
    expect(statuses(response.batchItems)).toEqual([
      ['Activate', 'OperationUndone', undefined],
      ['Check', 'OperationUndone', undefined],
      ['Check', 'OperationFailed', 'IncompatibleCryptographicUsageMask'],
    ]);
    // As BL-M-2-21 shows: an undone item keeps its payload.
    expect(response.batchItems[0].responsePayload).toBeDefined();
    // Back as it was: Pre-Active, with the activation date it had.
    expect(await stateOf(native, 'undo/enc-only')).toMatchObject({ name: instance, state: 'PreActive', activatedAt: null, activatesAt: LATER });

    const activations = await events('Activate', 'undo/enc-only');
    expect(activations.map((e) => [e.result, e.instance, e.identity?.name, e.transport])).toEqual([['ok', instance, 'undo-app', 'kmip']]);
    const undone = await events('UndoActivation', 'undo/enc-only');
    expect(undone.map((e) => [e.result, e.instance, e.identity?.name, e.transport])).toEqual([['ok', instance, 'undo-app', 'kmip']]);
    const verified = await auditor.request('AuditVerify', {});
    expect(verified.error).toBeUndefined();
    expect(verified.result).toMatchObject({ ok: true });

    // The same batch again behaves the same: the undone instance is what it was, so it can be activated (and undone) again.
    expect(statuses((await app.request(blM2Batch(instance))).batchItems).map((s) => s[1])).toEqual(['OperationUndone', 'OperationUndone', 'OperationFailed']);
    expect(await stateOf(native, 'undo/enc-only')).toMatchObject({ state: 'PreActive' });
  });

  test('a batch with Undo holding an operation that cannot be undone (Get) runs nothing: every item answers Feature Not Supported', async () => {
    const instance = await createdInstance(native, 'undo/with-get', { activateAt: LATER });
    const response = await app.request({
      header: { protocolVersion: V21, batchErrorContinuationOption: 'Undo', batchCount: 2 },
      batchItems: [
        { operation: 'Activate', uniqueBatchItemId: Buffer.from('01', 'hex'), requestPayload: uidPayload(instance) },
        { operation: 'Get', uniqueBatchItemId: Buffer.from('02', 'hex'), requestPayload: uidPayload(instance) },
      ],
    });
    expect(statuses(response.batchItems)).toEqual([
      ['Activate', 'OperationFailed', 'FeatureNotSupported'],
      ['Get', 'OperationFailed', 'FeatureNotSupported'],
    ]);
    expect(response.batchItems[0].resultMessage).toMatch(/Undo is not supported for Get/);
    expect(await stateOf(native, 'undo/with-get')).toMatchObject({ state: 'PreActive' });
    expect(await events('Activate', 'undo/with-get')).toEqual([]);
  });

  test('Undo fails closed: an instance revoked between the activation and the undo stays as the Revoke left it, the undo is refused and audited, and the failed item says which item stands', async () => {
    const instance = await createdInstance(native, 'undo/changed', { usage: ['encrypt'], activateAt: LATER });
    // Another connection's Revoke, made right after the batch's Activate: a change the undo must not overwrite.
    const runItem = changingAfterActivate(appCredentials, 'undo-app', async () => {
      const revoked = await app.call('Revoke', uidPayload(instance, revocationReason('CessationOfOperation')));
      expect(revoked.batchItems[0].resultStatus).toBe('Success');
    });
    const response = await executeBatch(blM2Batch(instance), runItem, { timeStamp: 0n, canUndo });
    expect(statuses(response.batchItems)).toEqual([
      ['Activate', 'Success', undefined],
      ['Check', 'OperationUndone', undefined],
      ['Check', 'OperationFailed', 'IncompatibleCryptographicUsageMask'],
    ]);
    expect(response.batchItems[2].resultMessage).toMatch(/the batch could not be undone in full: item 1 \(Activate\) stands: WRONG_STATE: instance .* changed after this batch activated it/);
    expect(await stateOf(native, 'undo/changed')).toMatchObject({ state: 'Deactivated' });
    const undone = await events('UndoActivation', 'undo/changed');
    expect(undone.map((e) => [e.result, e.instance])).toEqual([['WRONG_STATE', instance]]);
  });

  test('the undo is authorised as the activation was: when the client lost its activate grant in between, the undo is refused, audited, and the activation stands', async () => {
    const credentials = t.issue('undo-temp', 'app');
    const granted = await native.request('PolicyGrant', { client: 'undo-temp', pattern: 'undo/perm-*', permissions: ['activate', 'get-attributes'] });
    expect(granted.error).toBeUndefined();
    const grantId = (granted.result as { grant: { id: string } }).grant.id;
    const instance = await createdInstance(native, 'undo/perm-lost', { usage: ['encrypt'], activateAt: LATER });
    const runItem = changingAfterActivate(credentials, 'undo-temp', async () => {
      expect((await native.request('PolicyRevoke', { id: grantId })).error).toBeUndefined();
    });
    const response = await executeBatch(blM2Batch(instance), runItem, { timeStamp: 0n, canUndo });
    // The Checks need get-attributes, lost too: the first Check fails, and the Activate alone was to be undone.
    expect(statuses(response.batchItems)).toEqual([
      ['Activate', 'Success', undefined],
      ['Check', 'OperationFailed', 'PermissionDenied'],
    ]);
    expect(response.batchItems[1].resultMessage).toMatch(/item 1 \(Activate\) stands: PERMISSION_DENIED: client "undo-temp" may not activate/);
    expect(await stateOf(native, 'undo/perm-lost')).toMatchObject({ state: 'Active' });
    expect((await events('UndoActivation', 'undo/perm-lost')).map((e) => [e.result, e.identity?.name])).toEqual([['PERMISSION_DENIED', 'undo-temp']]);
  });
});
