/**
 * The approval store's shared suite: requests, votes, guarded state changes
 * and quorums behave the same on SQLite and in memory.
 */
import { ApprovalRecord } from '../../storage/approval-store';
import { KeychainStore } from '../../storage/keychain-store';
import { codeOf } from '../support/error-code';

const request = (id: string, over: Partial<Omit<ApprovalRecord, 'votes'>> = {}): Omit<ApprovalRecord, 'votes'> => ({
  id,
  operation: 'Destroy',
  args: '{"name":"hr/payroll"}',
  binding: '{"instance":"i1","keyId":"k1","name":"hr/payroll"}',
  dualControlClass: 'key-destroy',
  requester: 'alice',
  required: 2,
  digest: 'd'.repeat(64),
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-02T00:00:00.000Z',
  state: 'pending',
  result: null,
  error: null,
  finishedAt: null,
  finishedBy: null,
  reason: null,
  ...over,
});

export function describeApprovalConformance(name: string, factory: () => { store: KeychainStore; cleanup(): void }): void {
  describe(`${name} approval store`, () => {
    let store: KeychainStore;
    let cleanup: () => void;
    beforeEach(() => ({ store, cleanup } = factory()));
    afterEach(() => cleanup());

    it('stores a request and reads it back with no votes; absent ids are null', () => {
      store.approvals.putApproval(request('r1'));
      expect(store.approvals.getApproval('r1')).toEqual({ ...request('r1'), votes: [] });
      expect(store.approvals.getApproval('nope')).toBeNull();
      expect(codeOf(() => store.approvals.putApproval(request('r1')))).toBe('STORAGE_ERROR');
    });

    it('records one vote per officer, in order, and refuses a second with APPROVAL_ALREADY_VOTED', () => {
      store.approvals.putApproval(request('r1'));
      store.approvals.addVote('r1', { officer: 'bob', digest: 'd'.repeat(64), at: '2026-01-01T01:00:00.000Z' });
      store.approvals.addVote('r1', { officer: 'carol', digest: 'd'.repeat(64), at: '2026-01-01T02:00:00.000Z' });
      expect(codeOf(() => store.approvals.addVote('r1', { officer: 'bob', digest: 'd'.repeat(64), at: '2026-01-01T03:00:00.000Z' }))).toBe('APPROVAL_ALREADY_VOTED');
      expect(codeOf(() => store.approvals.addVote('nope', { officer: 'bob', digest: 'x', at: '2026-01-01T03:00:00.000Z' }))).toBe('APPROVAL_NOT_FOUND');
      expect(store.approvals.getApproval('r1')?.votes.map((v) => v.officer)).toEqual(['bob', 'carol']);
    });

    it('changes state only from the state the caller read (APPROVAL_NOT_PENDING otherwise)', () => {
      store.approvals.putApproval(request('r1'));
      const done = store.approvals.changeState({ id: 'r1', from: 'pending', to: 'executed', at: '2026-01-01T05:00:00.000Z', result: '{"ok":true}' });
      expect(done).toMatchObject({ state: 'executed', result: '{"ok":true}', finishedAt: '2026-01-01T05:00:00.000Z', error: null });
      expect(codeOf(() => store.approvals.changeState({ id: 'r1', from: 'pending', to: 'executed', at: '2026-01-01T06:00:00.000Z' }))).toBe('APPROVAL_NOT_PENDING');
      expect(codeOf(() => store.approvals.changeState({ id: 'nope', from: 'pending', to: 'denied', at: '2026-01-01T06:00:00.000Z' }))).toBe('APPROVAL_NOT_FOUND');
      expect(store.approvals.getApproval('r1')?.finishedAt).toBe('2026-01-01T05:00:00.000Z');
    });

    it('keeps a denial reason and who denied', () => {
      store.approvals.putApproval(request('r1'));
      expect(store.approvals.changeState({ id: 'r1', from: 'pending', to: 'denied', at: '2026-01-01T05:00:00.000Z', finishedBy: 'bob', reason: 'freeze' })).toMatchObject({
        state: 'denied',
        finishedBy: 'bob',
        reason: 'freeze',
      });
    });

    it('rewrites the arguments with a state change that gives them (a key import\'s sealed material erased), and keeps them otherwise', () => {
      store.approvals.putApproval(request('r1'));
      store.approvals.putApproval(request('r2'));
      expect(store.approvals.changeState({ id: 'r1', from: 'pending', to: 'cancelled', at: '2026-01-01T05:00:00.000Z', args: '{"name":"erased"}' }).args).toBe('{"name":"erased"}');
      expect(store.approvals.getApproval('r1')?.args).toBe('{"name":"erased"}');
      const before = store.approvals.getApproval('r2')?.args;
      expect(store.approvals.changeState({ id: 'r2', from: 'pending', to: 'cancelled', at: '2026-01-01T05:00:00.000Z' }).args).toBe(before);
    });

    it('lists newest first with filters, counts open requests per requester, finds the expired', () => {
      store.approvals.putApproval(request('a', { createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-02T00:00:00.000Z' }));
      store.approvals.putApproval(request('b', { createdAt: '2026-01-03T00:00:00.000Z', expiresAt: '2026-01-04T00:00:00.000Z', state: 'approved' }));
      store.approvals.putApproval(request('c', { createdAt: '2026-01-02T00:00:00.000Z', requester: 'bob', state: 'denied' }));
      expect(store.approvals.listApprovals({ limit: 10 }).map((r) => r.id)).toEqual(['b', 'c', 'a']);
      expect(store.approvals.listApprovals({ limit: 1 }).map((r) => r.id)).toEqual(['b']);
      expect(store.approvals.listApprovals({ states: ['pending', 'approved'], limit: 10 }).map((r) => r.id)).toEqual(['b', 'a']);
      expect(store.approvals.listApprovals({ requester: 'bob', limit: 10 }).map((r) => r.id)).toEqual(['c']);
      expect(store.approvals.countOpen('alice')).toBe(2);
      expect(store.approvals.countOpen('bob')).toBe(0);
      expect(store.approvals.listExpired('2026-01-02T00:00:00.000Z')).toEqual(['a']);
      expect(store.approvals.listExpired('2026-02-01T00:00:00.000Z')).toEqual(['a', 'b']);
    });

    it('stores and replaces quorums per class', () => {
      expect(store.approvals.getQuorum('key-destroy')).toBeNull();
      store.approvals.putQuorum({ dualControlClass: 'key-destroy', required: 2, updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'config' });
      store.approvals.putQuorum({ dualControlClass: 'client-revoke', required: 1, updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'config' });
      store.approvals.putQuorum({ dualControlClass: 'key-destroy', required: 3, updatedAt: '2026-01-05T00:00:00.000Z', updatedBy: 'alice' });
      expect(store.approvals.getQuorum('key-destroy')).toEqual({ dualControlClass: 'key-destroy', required: 3, updatedAt: '2026-01-05T00:00:00.000Z', updatedBy: 'alice' });
      expect(store.approvals.listQuorums().map((q) => q.dualControlClass)).toEqual(['client-revoke', 'key-destroy']);
    });

    it('undoes a vote and a state change together when the transaction around them throws', () => {
      store.approvals.putApproval(request('r1'));
      expect(() =>
        store.transaction(() => {
          store.approvals.addVote('r1', { officer: 'bob', digest: 'd'.repeat(64), at: '2026-01-01T01:00:00.000Z' });
          store.approvals.changeState({ id: 'r1', from: 'pending', to: 'executed', at: '2026-01-01T01:00:00.000Z' });
          throw new Error('crash before commit');
        }),
      ).toThrow('crash before commit');
      expect(store.approvals.getApproval('r1')).toMatchObject({ state: 'pending', votes: [] });
    });
  });
}
