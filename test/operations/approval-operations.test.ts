/**
 * ApprovalApprove over an operation that finishes asynchronously (as
 * master-key rotation will): the approver's answer comes at once with the
 * request `executing`, and the outcome is recorded when the run settles.
 * (The wire end to end is in approvals.test.ts; no operation of today's
 * table is both dual-controlled and asynchronous.) And ApprovalGet with
 * `mine`, which KMIP's Poll asks: a request shown to its requester alone.
 */
import { ManualClock } from '../../common/clock';
import { ApprovalService } from '../../domain/approvals/approval-service';
import { parseQuorumSetting } from '../../domain/approvals/quorum-settings';
import { approvalApprove, approvalGet } from '../../operations/approval-operations';
import { OperationContext, Services } from '../../operations/context';
import { MemoryStore } from '../../storage/memory-store';

describe('ApprovalApprove of an asynchronous operation', () => {
  it('answers executing at once, then the request is executed with its result', async () => {
    const store = new MemoryStore();
    let release: (value: unknown) => void = () => undefined;
    const approvals = new ApprovalService({
      approvals: store.approvals,
      transaction: (fn) => store.transaction(fn),
      clock: new ManualClock(Date.UTC(2026, 0, 1)),
      newId: () => 'req-1',
      ttlMs: 3_600_000,
      maxOpenPerRequester: 5,
      defaultQuorums: parseQuorumSetting('1'),
      execute: () => new Promise((resolve) => (release = resolve)),
      publish: () => undefined,
      audit: () => undefined,
      target: () => ({ key: null, namespace: null }),
    });
    const record = approvals.request({ operation: 'MasterKeyRotate', args: {}, dualControlClass: 'master-key-rotation', requester: { name: 'alice', role: 'officer', groups: [] } });
    const ctx = (name: string): OperationContext => ({
      identity: { name, role: 'officer', groups: [], fingerprint256: 'f', subject: `CN=${name}` },
      meta: {},
      services: { approvals } as unknown as Services,
    });
    const answer = approvalApprove.run({ id: record.id, digest: record.digest }, ctx('bob')) as { request: { state: string } };
    expect(answer).not.toBeInstanceOf(Promise);
    expect(answer.request.state).toBe('executing');
    release({ masterKeyVersion: 2 });
    await new Promise((resolve) => setImmediate(resolve));
    expect((approvalGet.run({ id: record.id }, ctx('bob')) as { request: unknown }).request).toMatchObject({ state: 'executed', result: { masterKeyVersion: 2 } });
  });
});

describe('ApprovalGet with mine', () => {
  it('shows a request to its requester alone: another officer, who may read it without mine, is APPROVAL_NOT_REQUESTER', () => {
    const store = new MemoryStore();
    const approvals = new ApprovalService({
      approvals: store.approvals,
      transaction: (fn) => store.transaction(fn),
      clock: new ManualClock(Date.UTC(2026, 0, 1)),
      newId: () => 'req-mine',
      ttlMs: 3_600_000,
      maxOpenPerRequester: 5,
      defaultQuorums: parseQuorumSetting('2'),
      execute: () => undefined,
      publish: () => undefined,
      audit: () => undefined,
      target: () => ({ key: null, namespace: null }),
    });
    approvals.request({ operation: 'MasterKeyRotate', args: {}, dualControlClass: 'master-key-rotation', requester: { name: 'alice', role: 'officer', groups: [] } });
    const ctx = (name: string): OperationContext => ({
      identity: { name, role: 'officer', groups: [], fingerprint256: 'f', subject: `CN=${name}` },
      meta: {},
      services: { approvals } as unknown as Services,
    });
    expect(approvalGet.run({ id: 'req-mine', mine: true }, ctx('alice'))).toMatchObject({ request: { id: 'req-mine', requester: 'alice' } });
    expect(approvalGet.run({ id: 'req-mine' }, ctx('bob'))).toMatchObject({ request: { id: 'req-mine' } });
    expect(() => approvalGet.run({ id: 'req-mine', mine: true }, ctx('bob'))).toThrow(expect.objectContaining({ code: 'APPROVAL_NOT_REQUESTER' }));
  });
});
