/**
 * Poll and Cancel against a fake native wire (`ctx.call` answering canned
 * approval requests): every state an approval request can be in, including
 * those a wire test cannot reach without a clock or a slow operation
 * (executing, expired), and a key export collected through ApprovalCollect.
 * The wire end to end: test/server/kmip/kmip-dual-control.test.ts.
 */
import { ApprovalError } from '../../../../common/errors';
import type { ApprovalView } from '../../../../domain/approvals/approval-view-shape';
import { ProtocolVersion } from '../../../../protocol/kmip/kmip-message';
import { outcomeOf } from '../../../../server/kmip/kmip-item-runner';
import { cancel } from '../../../../protocol/kmip/operations/cancel';
import { KmipOperation, KmipOperationContext } from '../../../../protocol/kmip/operations/kmip-operation';
import { bytesItem, responsePayload, structureItem, textItem } from '../../../../protocol/kmip/operations/payload';
import { poll } from '../../../../protocol/kmip/operations/poll';
import { enumeration, tagNumber } from '../../../../protocol/kmip/dictionary';
import { TtlvNode } from '../../../../protocol/kmip/ttlv';

const ID = '3f1c2b7e-0000-4000-8000-00000000a11c';

function view(state: string, more: Partial<ApprovalView> = {}): ApprovalView {
  return {
    id: ID, operation: 'Destroy', args: { instance: 'k@1' }, binding: null, class: 'key-destroy', requester: 'alice', required: 2, approvals: 1,
    approvedBy: ['bob'], digest: 'd'.repeat(64), createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-02T00:00:00.000Z', state,
    result: null, error: null, finishedAt: null, finishedBy: null, reason: null, ...more,
  };
}

/** A Get mapping as a stand-in for the real one: the material's length, to see which result it was given. */
const fakeGet: KmipOperation = {
  operation: 'Get',
  run: () => Promise.reject(new Error('not run by Poll')),
  nativeResult: { operation: 'Get', toPayload: (result) => responsePayload([bytesItem('KeyMaterial', (result as { material: Buffer }).material)]) },
};
const fakeDestroy: KmipOperation = {
  operation: 'Destroy',
  run: () => Promise.reject(new Error('not run by Poll')),
  nativeResult: { operation: 'Destroy', toPayload: (result) => responsePayload([textItem('UniqueIdentifier', (result as { instance: { name: string } }).instance.name)]) },
};

interface Run {
  readonly calls: Array<[string, unknown]>;
  readonly outcome: ReturnType<typeof outcomeOf>;
}

/** Runs `operation` with native answers by operation name (a function may throw), and the outcome the item runner would give. */
async function run(operation: KmipOperation, answers: Record<string, () => unknown>, version: ProtocolVersion = { major: 2, minor: 1 }, value = Buffer.from(ID, 'utf8')): Promise<Run> {
  const calls: Array<[string, unknown]> = [];
  const ctx: KmipOperationContext = {
    version,
    header: { protocolVersion: version, batchCount: 1 },
    served: ['Get', 'Destroy', 'Poll', 'Cancel'],
    operations: new Map([['Get', fakeGet], ['Destroy', fakeDestroy]]),
    client: 'alice',
    nowMs: () => 0,
    newId: () => 'id',
    call: async (op, args) => {
      calls.push([op, args]);
      const answer = answers[op];
      if (answer === undefined) throw new Error(`unexpected native call ${op}`);
      return answer();
    },
  };
  const payload = structureItem('RequestPayload', [bytesItem('AsynchronousCorrelationValue', value)]);
  let outcome: Run['outcome'];
  try {
    outcome = { status: 'Success', payload: await operation.run(payload, ctx) };
  } catch (err) {
    outcome = outcomeOf(err, version.major, (e) => { throw e; });
  }
  return { calls, outcome };
}

const child = (payload: TtlvNode, name: string): unknown => (payload.value as TtlvNode[]).find((c) => c.tag === tagNumber(name))?.value;

describe('Poll', () => {
  test('asks the native ApprovalGet for the caller\'s own request', async () => {
    const { calls } = await run(poll, { ApprovalGet: () => ({ request: view('pending') }) });
    expect(calls).toEqual([['ApprovalGet', { id: ID, mine: true }]]);
  });

  test.each(['pending', 'executing'])('while the request is %s: Operation Pending with the same value', async (state) => {
    const { outcome } = await run(poll, { ApprovalGet: () => ({ request: view(state) }) });
    expect(outcome).toEqual({ status: 'OperationPending', asynchronousCorrelationValue: Buffer.from(ID, 'utf8') });
  });

  test('an executed request answers its mapping\'s payload from the stored result, running nothing', async () => {
    const { calls, outcome } = await run(poll, { ApprovalGet: () => ({ request: view('executed', { result: { instance: { name: 'k@1', state: 'Destroyed' } } }) }) });
    expect(calls.map(([op]) => op)).toEqual(['ApprovalGet']);
    expect(outcome.status).toBe('Success');
    expect(child((outcome as { payload: TtlvNode }).payload, 'UniqueIdentifier')).toBe('k@1');
  });

  test('an approved key export is collected once through ApprovalCollect, its live result going to the Get mapping', async () => {
    const exported = view('approved', { operation: 'Get', class: 'key-export', args: { instance: 'k@1' } });
    const { calls, outcome } = await run(poll, { ApprovalGet: () => ({ request: exported }), ApprovalCollect: () => ({ material: Buffer.alloc(32, 7) }) });
    expect(calls).toEqual([['ApprovalGet', { id: ID, mine: true }], ['ApprovalCollect', { id: ID }]]);
    expect(child((outcome as { payload: TtlvNode }).payload, 'KeyMaterial')).toEqual(Buffer.alloc(32, 7));
  });

  test('a collected export is never answered from its stored result (material withheld there): ApprovalCollect refuses it again', async () => {
    const collected = view('executed', { operation: 'Get', class: 'key-export', result: { material: '[binary withheld]' } });
    const notAgain = (): never => {
      throw new ApprovalError('APPROVAL_NOT_PENDING', `approval request "${ID}" is executed`, { details: { id: ID, state: 'executed' } });
    };
    const { outcome } = await run(poll, { ApprovalGet: () => ({ request: collected }), ApprovalCollect: notAgain });
    expect(outcome).toMatchObject({ status: 'OperationFailed', reason: 'IllegalOperation', message: expect.stringMatching(/^APPROVAL_NOT_PENDING: /) });
  });

  test('a request of a native operation no KMIP operation answers is Feature Not Supported', async () => {
    const { outcome } = await run(poll, { ApprovalGet: () => ({ request: view('executed', { operation: 'PolicyGrant', class: 'grant-material' }) }) });
    expect(outcome).toMatchObject({ status: 'OperationFailed', reason: 'FeatureNotSupported', message: expect.stringMatching(/native PolicyGrant, which has no KMIP answer/) });
  });

  test.each([
    [{ major: 2, minor: 1 }, 'WrongKeyLifecycleState'],
    [{ major: 1, minor: 4 }, 'IllegalOperation'],
  ])('a failed run answers its stored error in %j terms', async (version, reason) => {
    const failed = view('failed', { error: { code: 'WRONG_STATE', message: 'instance k@1 is Active' } });
    const { outcome } = await run(poll, { ApprovalGet: () => ({ request: failed }) }, version as ProtocolVersion);
    expect(outcome).toEqual({ status: 'OperationFailed', reason, message: `WRONG_STATE: request ${ID} was approved but failed: instance k@1 is Active` });
  });

  test('a stored error code this build does not know is General Failure', async () => {
    const { outcome } = await run(poll, { ApprovalGet: () => ({ request: view('failed', { error: { code: 'SOME_FUTURE_CODE', message: 'm' } }) }) });
    expect(outcome).toMatchObject({ reason: 'GeneralFailure', message: expect.stringMatching(/^INTERNAL_ERROR: /) });
  });

  test('denied, cancelled and expired requests each have their reason and say what happened', async () => {
    const denied = await run(poll, { ApprovalGet: () => ({ request: view('denied', { finishedBy: 'carol', reason: 'not now' }) }) });
    expect(denied.outcome).toEqual({ status: 'OperationFailed', reason: 'PermissionDenied', message: `request ${ID} was denied by carol: not now` });
    const cancelled = await run(poll, { ApprovalGet: () => ({ request: view('cancelled', { finishedBy: 'alice' }) }) });
    expect(cancelled.outcome).toEqual({ status: 'OperationFailed', reason: 'OperationCanceledByRequester', message: `request ${ID} was cancelled by alice` });
    const expired = await run(poll, { ApprovalGet: () => ({ request: view('expired') }) });
    expect(expired.outcome).toEqual({
      status: 'OperationFailed',
      reason: 'OperationCanceledByRequester',
      message: `APPROVAL_EXPIRED: request ${ID} expired at 2026-01-02T00:00:00.000Z with 1 of 2 approvals; send the operation again`,
    });
  });

  test('a value that is not UTF-8, or longer than any id, is refused without asking the native wire', async () => {
    for (const value of [Buffer.from([0xc3, 0x28]), Buffer.alloc(65, 0x61), Buffer.alloc(0)]) {
      const { calls, outcome } = await run(poll, {}, { major: 2, minor: 1 }, value);
      expect(calls).toEqual([]);
      expect(outcome).toMatchObject({ status: 'OperationFailed', reason: 'InvalidAsynchronousCorrelationValue' });
    }
  });
});

describe('Cancel', () => {
  const resultOf = (outcome: Run['outcome']): string | undefined => {
    expect(outcome.status).toBe('Success');
    const payload = (outcome as { payload: TtlvNode }).payload;
    expect(Buffer.from(child(payload, 'AsynchronousCorrelationValue') as Uint8Array).toString('utf8')).toBe(ID);
    return enumeration('CancellationResult')!.byValue.get(child(payload, 'CancellationResult') as number);
  };

  test('a request the native ApprovalCancel withdraws is Canceled', async () => {
    const { calls, outcome } = await run(cancel, { ApprovalCancel: () => ({ request: view('cancelled') }) });
    expect(calls).toEqual([['ApprovalCancel', { id: ID }]]);
    expect(resultOf(outcome)).toBe('Canceled');
  });

  test.each([
    ['executed', 'Completed'],
    ['failed', 'Failed'],
    ['denied', 'Failed'],
    ['cancelled', 'Canceled'],
    ['executing', 'UnableToCancel'],
  ])('a request already %s is %s', async (state, expected) => {
    const refuse = (): never => {
      throw new ApprovalError('APPROVAL_NOT_PENDING', `approval request "${ID}" is ${state}`, { details: { id: ID, state } });
    };
    expect(resultOf((await run(cancel, { ApprovalCancel: refuse })).outcome)).toBe(expected);
  });

  test('an expired request is Failed', async () => {
    const refuse = (): never => {
      throw new ApprovalError('APPROVAL_EXPIRED', `approval request "${ID}" expired`, { details: { id: ID } });
    };
    expect(resultOf((await run(cancel, { ApprovalCancel: refuse })).outcome)).toBe('Failed');
  });

  test('another refusal is answered as itself', async () => {
    const refuse = (): never => {
      throw new ApprovalError('APPROVAL_NOT_REQUESTER', `only "alice" can cancel request "${ID}"`, { details: { id: ID } });
    };
    expect((await run(cancel, { ApprovalCancel: refuse })).outcome).toMatchObject({ status: 'OperationFailed', reason: 'PermissionDenied' });
  });
});
