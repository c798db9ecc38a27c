/**
 * The approval store port: dual-control requests (domain/approvals), the
 * officers' votes on them, and the stored quorum of each dual-controlled
 * class. Two implementations share test/storage/approval-conformance.ts:
 * SQLite (storage/sqlite-approvals.ts, in the keychain database and its
 * transactions, so pending requests survive restarts) and memory.
 *
 * The store keeps what it is given: the rules (who may vote, when a request
 * expires, when the quorum is met) are the domain's. It enforces only what a
 * schema can: one vote per officer per request (APPROVAL_ALREADY_VOTED), a
 * state change only from the state the caller read (APPROVAL_NOT_PENDING
 * otherwise, so two racing writers cannot both move a request on), unknown
 * ids (APPROVAL_NOT_FOUND). Arguments and results are JSON text that never
 * holds key material (the domain strips it before it gets here).
 */

export type ApprovalState = 'pending' | 'approved' | 'executing' | 'executed' | 'failed' | 'denied' | 'cancelled' | 'expired';

export interface ApprovalVoteRecord {
  readonly officer: string;
  /** The digest the officer approved: always the request's own (a different one is refused before it is stored). */
  readonly digest: string;
  readonly at: string;
  /**
   * HMAC of the row's fields under the appliance's row key (domain/trust/):
   * set by the domain's authenticating layer, kept as is by the store.
   * Absent on a row written before schema 12.
   */
  readonly rowMac?: Buffer;
}

export interface ApprovalRecord {
  readonly id: string;
  /** The wire operation that will run (e.g. Destroy). */
  readonly operation: string;
  /** Its validated arguments as canonical JSON (domain/approvals/approval-digest.ts). */
  readonly args: string;
  /**
   * For an operation on a key: canonical JSON of what its reference resolved
   * to when the request was made (`{keyId, name, instance}`), which the digest
   * covers and the executor holds the operation to; null for operations that
   * name no key, and for requests stored before requests were bound.
   */
  readonly binding: string | null;
  readonly dualControlClass: string;
  readonly requester: string;
  readonly required: number;
  /** Hex SHA-256 over the canonical request (operation, arguments, requester, id, creation time). */
  readonly digest: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly state: ApprovalState;
  /** The operation's result as JSON, without key material; null until it ran. */
  readonly result: string | null;
  /** The failure as JSON `{code, message}`; null unless it failed. */
  readonly error: string | null;
  /** When the request left pending (or approved); null before. */
  readonly finishedAt: string | null;
  /** Who denied or cancelled it; null otherwise. */
  readonly finishedBy: string | null;
  /** A denial's reason; null otherwise. */
  readonly reason: string | null;
  /** Approvals in the order given. */
  readonly votes: readonly ApprovalVoteRecord[];
  /**
   * HMAC of the row's fields under the appliance's row key (domain/trust/):
   * set by the domain's authenticating layer, kept as is by the store.
   * Absent on a row written before schema 12.
   */
  readonly rowMac?: Buffer;
}

export interface ApprovalStateChange {
  readonly id: string;
  /** The state the caller read: the change applies only if the request is still in it. */
  readonly from: ApprovalState;
  readonly to: ApprovalState;
  readonly at: string;
  readonly result?: string | null;
  readonly error?: string | null;
  readonly finishedBy?: string | null;
  readonly reason?: string | null;
  /** New arguments (canonical JSON): the request's without the sealed material it no longer needs (domain/approvals/sealed-args.ts). */
  readonly args?: string;
  /** The changed row's MAC (domain/trust/). */
  readonly rowMac?: Buffer;
}

export interface ApprovalFilter {
  readonly states?: readonly ApprovalState[];
  readonly requester?: string;
  /** Most requests returned, newest first. */
  readonly limit: number;
}

export interface QuorumRecord {
  readonly dualControlClass: string;
  readonly required: number;
  readonly updatedAt: string;
  /** The officer whose approved request set it, or `config` for the value seeded from appliance.conf. */
  readonly updatedBy: string;
  /**
   * HMAC of the row's fields under the appliance's row key (domain/trust/):
   * set by the domain's authenticating layer, kept as is by the store.
   * Absent on a row written before schema 12.
   */
  readonly rowMac?: Buffer;
}

export interface ApprovalStore {
  /** Inserts a new request (with no votes); STORAGE_ERROR if the id exists. */
  putApproval(record: Omit<ApprovalRecord, 'votes'>): void;
  getApproval(id: string): ApprovalRecord | null;
  /** Newest first, then id. */
  listApprovals(filter: ApprovalFilter): ApprovalRecord[];
  /** Requests of `requester` in pending or approved state (the per-requester cap). */
  countOpen(requester: string): number;
  /** Pending or approved requests whose expiry is at or before `atIso`: their ids. */
  listExpired(atIso: string): string[];
  /** APPROVAL_NOT_FOUND if no such request; APPROVAL_ALREADY_VOTED if this officer voted on it. */
  addVote(id: string, vote: ApprovalVoteRecord): void;
  /** APPROVAL_NOT_FOUND if no such request; APPROVAL_NOT_PENDING if it is no longer in `change.from`. */
  changeState(change: ApprovalStateChange): ApprovalRecord;

  getQuorum(dualControlClass: string): QuorumRecord | null;
  /** Inserts or replaces. */
  putQuorum(record: QuorumRecord): void;
  /** Ordered by class. */
  listQuorums(): QuorumRecord[];
}

/**
 * A request as a state change leaves it: both stores apply a change this
 * way, and the authenticating layer (domain/trust/) computes the changed
 * row's MAC over the same result. Fields the change leaves undefined keep
 * their value.
 */
export function afterStateChange<T extends Omit<ApprovalRecord, 'votes'>>(record: T, change: ApprovalStateChange): T {
  return {
    ...record,
    state: change.to,
    args: change.args === undefined ? record.args : change.args,
    finishedAt: change.at,
    result: change.result === undefined ? record.result : change.result,
    error: change.error === undefined ? record.error : change.error,
    finishedBy: change.finishedBy === undefined ? record.finishedBy : change.finishedBy,
    reason: change.reason === undefined ? record.reason : change.reason,
  };
}
