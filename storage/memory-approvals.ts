/** The in-memory approval store: the fast fake of storage/approval-store.ts, same codes as SQLite; records are copied in and out. */
import { StorageError } from '../common/errors';
import { ApprovalFilter, ApprovalRecord, ApprovalStateChange, ApprovalStore, ApprovalVoteRecord, QuorumRecord } from './approval-store';

function notFound(id: string): StorageError {
  return new StorageError('APPROVAL_NOT_FOUND', `no approval request "${id}"`, { details: { id } });
}

function copy(record: ApprovalRecord): ApprovalRecord {
  return { ...record, votes: record.votes.map((v) => ({ ...v })) };
}

export class MemoryApprovals implements ApprovalStore {
  private readonly requests = new Map<string, ApprovalRecord>();
  private readonly quorums = new Map<string, QuorumRecord>();

  constructor(private readonly changed: () => void = () => undefined) {}

  putApproval(record: Omit<ApprovalRecord, 'votes'>): void {
    if (this.requests.has(record.id)) throw new StorageError('STORAGE_ERROR', 'approval request id exists', { details: { id: record.id } });
    this.requests.set(record.id, { ...record, votes: [] });
    this.changed();
  }

  getApproval(id: string): ApprovalRecord | null {
    const record = this.requests.get(id);
    return record ? copy(record) : null;
  }

  listApprovals(filter: ApprovalFilter): ApprovalRecord[] {
    return [...this.requests.values()]
      .filter((r) => (filter.states === undefined || filter.states.includes(r.state)) && (filter.requester === undefined || r.requester === filter.requester))
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? 1 : -1))
      .slice(0, filter.limit)
      .map(copy);
  }

  countOpen(requester: string): number {
    return [...this.requests.values()].filter((r) => r.requester === requester && (r.state === 'pending' || r.state === 'approved')).length;
  }

  listExpired(atIso: string): string[] {
    return [...this.requests.values()]
      .filter((r) => (r.state === 'pending' || r.state === 'approved') && r.expiresAt <= atIso)
      .sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : 1))
      .map((r) => r.id);
  }

  addVote(id: string, vote: ApprovalVoteRecord): void {
    const record = this.requests.get(id);
    if (!record) throw notFound(id);
    if (record.votes.some((v) => v.officer === vote.officer)) {
      throw new StorageError('APPROVAL_ALREADY_VOTED', `"${vote.officer}" already approved request "${id}"`, { details: { id, officer: vote.officer } });
    }
    this.requests.set(id, { ...record, votes: [...record.votes, { ...vote }] });
    this.changed();
  }

  changeState(change: ApprovalStateChange): ApprovalRecord {
    const record = this.requests.get(change.id);
    if (!record) throw notFound(change.id);
    if (record.state !== change.from) {
      throw new StorageError('APPROVAL_NOT_PENDING', `approval request "${change.id}" is ${record.state}, not ${change.from}`, { details: { id: change.id, state: record.state } });
    }
    const next: ApprovalRecord = {
      ...record,
      state: change.to,
      finishedAt: change.at,
      result: change.result === undefined ? record.result : change.result,
      error: change.error === undefined ? record.error : change.error,
      finishedBy: change.finishedBy === undefined ? record.finishedBy : change.finishedBy,
      reason: change.reason === undefined ? record.reason : change.reason,
      rowMac: change.rowMac,
    };
    this.requests.set(change.id, next);
    this.changed();
    return copy(next);
  }

  /** For the owning store's transaction(): a copy to restore when the transaction throws (records are never mutated in place). */
  snapshot(): { requests: Map<string, ApprovalRecord>; quorums: Map<string, QuorumRecord> } {
    return { requests: new Map(this.requests), quorums: new Map(this.quorums) };
  }

  restore(saved: { requests: Map<string, ApprovalRecord>; quorums: Map<string, QuorumRecord> }): void {
    this.requests.clear();
    for (const [k, v] of saved.requests) this.requests.set(k, v);
    this.quorums.clear();
    for (const [k, v] of saved.quorums) this.quorums.set(k, v);
  }

  getQuorum(dualControlClass: string): QuorumRecord | null {
    const q = this.quorums.get(dualControlClass);
    return q ? { ...q } : null;
  }

  putQuorum(record: QuorumRecord): void {
    this.quorums.set(record.dualControlClass, { ...record });
    this.changed();
  }

  listQuorums(): QuorumRecord[] {
    return [...this.quorums.keys()].sort().map((k) => ({ ...(this.quorums.get(k) as QuorumRecord) }));
  }
}
