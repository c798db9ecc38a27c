/**
 * Dual control as the appliance may trust it: an ApprovalStore over the
 * untrusted one that MACs every request, vote and quorum it writes and
 * verifies every one it reads (authorisation-row-macs.ts). A request whose
 * `required` was lowered, a vote written into the file, a quorum edited down
 * to 1: INTEGRITY_FAILURE, not obeyed. Dual control runs only unsealed
 * (access.ts), so a sealed keychain reads and writes none of it (SEALED).
 * The records handed out carry no rowMac.
 */
import { KeychainError } from '../../common/errors';
import { afterStateChange, ApprovalFilter, ApprovalRecord, ApprovalStateChange, ApprovalStore, ApprovalVoteRecord, QuorumRecord } from '../../storage/approval-store';
import { approvalRowMac, assertRowMac, quorumRowMac, voteRowMac } from './authorisation-row-macs';
import { TrustKeys } from './trust-keys';

function bare<T extends { readonly rowMac?: Buffer }>(record: T): T {
  const { rowMac: _omit, ...rest } = record;
  return rest as T;
}

export class AuthenticatedApprovals implements ApprovalStore {
  constructor(private readonly raw: ApprovalStore, private readonly keys: () => TrustKeys | null) {}

  private require(): TrustKeys {
    const keys = this.keys();
    if (keys === null) throw new KeychainError('SEALED', 'the keychain is sealed: dual control was refused; unseal it (strongroom unseal), then try again');
    return keys;
  }

  private verified(keys: TrustKeys, record: ApprovalRecord): ApprovalRecord {
    const { votes, ...request } = record;
    assertRowMac(approvalRowMac(keys, bare(request)), request.rowMac, `approval request ${record.id}`);
    const checkedVotes = votes.map((vote) => {
      assertRowMac(voteRowMac(keys, record.id, bare(vote)), vote.rowMac, `vote of "${vote.officer}" on approval request ${record.id}`);
      return bare(vote);
    });
    return { ...bare(request), votes: checkedVotes };
  }

  putApproval(record: Omit<ApprovalRecord, 'votes'>): void {
    const keys = this.require();
    const fields = bare(record);
    this.raw.putApproval({ ...fields, rowMac: approvalRowMac(keys, fields) });
  }

  getApproval(id: string): ApprovalRecord | null {
    const keys = this.require();
    const record = this.raw.getApproval(id);
    return record === null ? null : this.verified(keys, record);
  }

  listApprovals(filter: ApprovalFilter): ApprovalRecord[] {
    const keys = this.require();
    return this.raw.listApprovals(filter).map((r) => this.verified(keys, r));
  }

  /** A count for the per-requester cap only: a forged row can lower nobody's quorum through it. */
  countOpen(requester: string): number {
    return this.raw.countOpen(requester);
  }

  /** Ids only: whoever expires one reads it (verified) through changeState. */
  listExpired(atIso: string): string[] {
    return this.raw.listExpired(atIso);
  }

  addVote(id: string, vote: ApprovalVoteRecord): void {
    const keys = this.require();
    const fields = bare(vote);
    this.raw.addVote(id, { ...fields, rowMac: voteRowMac(keys, id, fields) });
  }

  changeState(change: ApprovalStateChange): ApprovalRecord {
    const keys = this.require();
    const current = this.getApproval(change.id);
    if (current === null || current.state !== change.from) return this.verified(keys, this.raw.changeState(change)); // the store's own NOT_FOUND / NOT_PENDING
    const { votes: _votes, ...request } = current;
    const after = afterStateChange(request, change);
    return this.verified(keys, this.raw.changeState({ ...change, rowMac: approvalRowMac(keys, after) }));
  }

  getQuorum(dualControlClass: string): QuorumRecord | null {
    const keys = this.require();
    const record = this.raw.getQuorum(dualControlClass);
    if (record === null) return null;
    assertRowMac(quorumRowMac(keys, bare(record)), record.rowMac, `quorum of ${dualControlClass}`);
    return bare(record);
  }

  putQuorum(record: QuorumRecord): void {
    const keys = this.require();
    const fields = bare(record);
    this.raw.putQuorum({ ...fields, rowMac: quorumRowMac(keys, fields) });
  }

  listQuorums(): QuorumRecord[] {
    const keys = this.require();
    return this.raw.listQuorums().map((q) => {
      assertRowMac(quorumRowMac(keys, bare(q)), q.rowMac, `quorum of ${q.dualControlClass}`);
      return bare(q);
    });
  }
}
