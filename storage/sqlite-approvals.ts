/**
 * The approval store (storage/approval-store.ts) on the keychain's shared
 * connection (SQLite, or PostgreSQL through the
 * statement facade: storage/capability-connection.ts). Writes go through the owning store's transaction wrapper, so a
 * vote, the state change it triggers and the approved operation's own writes
 * can share one IMMEDIATE transaction (the write lock): of two racing
 * approvals, the second sees the state the first committed.
 */
import { Statement, StatementDatabase } from './capability-connection';
import { StorageError } from '../common/errors';
import { afterStateChange, ApprovalFilter, ApprovalRecord, ApprovalStateChange, ApprovalStore, ApprovalVoteRecord, QuorumRecord } from './approval-store';
import { ReadRunner, storedMac, WriteRunner } from './sqlite-directory';

const COLUMNS = `id, operation, args, binding, dual_control_class AS dualControlClass, requester, required, digest, created_at AS createdAt,
  expires_at AS expiresAt, state, result, error, finished_at AS finishedAt, finished_by AS finishedBy, reason, row_mac AS rowMac`;

const SQL = {
  insert: `INSERT INTO approval_requests (id, operation, args, binding, dual_control_class, requester, required, digest, created_at, expires_at, state, result, error, finished_at, finished_by, reason, row_mac)
    VALUES (@id, @operation, @args, @binding, @dualControlClass, @requester, @required, @digest, @createdAt, @expiresAt, @state, @result, @error, @finishedAt, @finishedBy, @reason, @rowMac)`,
  byId: `SELECT ${COLUMNS} FROM approval_requests WHERE id = ?`,
  // No LIMIT: every request is filtered in JS (a LIMIT -1 for "none" is SQLite's alone; PostgreSQL refuses it).
  list: `SELECT ${COLUMNS} FROM approval_requests ORDER BY created_at DESC, id`,
  votes: `SELECT officer, digest, at, row_mac AS rowMac FROM approval_votes WHERE request_id = ? ORDER BY at, officer`,
  countOpen: `SELECT count(*) AS n FROM approval_requests WHERE requester = ? AND state IN ('pending', 'approved')`,
  expired: `SELECT id FROM approval_requests WHERE state IN ('pending', 'approved') AND expires_at <= ? ORDER BY expires_at`,
  voteClash: `SELECT 1 FROM approval_votes WHERE request_id = ? AND officer = ?`,
  insertVote: `INSERT INTO approval_votes (request_id, officer, digest, at, row_mac) VALUES (?, ?, ?, ?, ?)`,
  changeState: `UPDATE approval_requests SET state = @to, args = @args, finished_at = @finishedAt, result = @result, error = @error, finished_by = @finishedBy, reason = @reason, row_mac = @rowMac
    WHERE id = @id AND state = @from`,
  getQuorum: `SELECT dual_control_class AS dualControlClass, required, updated_at AS updatedAt, updated_by AS updatedBy, row_mac AS rowMac FROM dual_control_quorums WHERE dual_control_class = ?`,
  putQuorum: `INSERT INTO dual_control_quorums (dual_control_class, required, updated_at, updated_by, row_mac) VALUES (@dualControlClass, @required, @updatedAt, @updatedBy, @rowMac)
    ON CONFLICT (dual_control_class) DO UPDATE SET required = excluded.required, updated_at = excluded.updated_at, updated_by = excluded.updated_by, row_mac = excluded.row_mac`,
  listQuorums: `SELECT dual_control_class AS dualControlClass, required, updated_at AS updatedAt, updated_by AS updatedBy, row_mac AS rowMac FROM dual_control_quorums ORDER BY dual_control_class`,
} as const;

type Row = Omit<ApprovalRecord, 'votes'>;

/** An empty stored MAC (a row from before schema 12) reads as none. */
function withMac<T extends { readonly rowMac?: Buffer | null }>(row: T): T {
  return row.rowMac !== null && row.rowMac !== undefined && row.rowMac.length > 0 ? row : { ...row, rowMac: undefined };
}

function notFound(id: string): StorageError {
  return new StorageError('APPROVAL_NOT_FOUND', `no approval request "${id}"`, { details: { id } });
}

export class SqliteApprovals implements ApprovalStore {
  private readonly stmt: { [K in keyof typeof SQL]: Statement };

  constructor(db: StatementDatabase, private readonly write: WriteRunner, private readonly read: ReadRunner) {
    this.stmt = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as SqliteApprovals['stmt'];
  }

  putApproval(record: Omit<ApprovalRecord, 'votes'>): void {
    this.write('putApproval', () => this.stmt.insert.run({ ...record, rowMac: storedMac(record.rowMac) }));
  }

  getApproval(id: string): ApprovalRecord | null {
    return this.read('getApproval', () => {
      const row = this.stmt.byId.get(id) as Row | undefined;
      return row ? this.withVotes(row) : null;
    });
  }

  listApprovals(filter: ApprovalFilter): ApprovalRecord[] {
    return this.read('listApprovals', () => {
      // Filtering in JS over a bounded scan keeps one statement; the table holds requests, not keys.
      const rows = (this.stmt.list.all() as Row[]).filter(
        (r) => (filter.states === undefined || filter.states.includes(r.state)) && (filter.requester === undefined || r.requester === filter.requester),
      );
      return rows.slice(0, filter.limit).map((r) => this.withVotes(r));
    });
  }

  countOpen(requester: string): number {
    return this.read('countOpen', () => (this.stmt.countOpen.get(requester) as { n: number }).n);
  }

  listExpired(atIso: string): string[] {
    return this.read('listExpired', () => (this.stmt.expired.all(atIso) as Array<{ id: string }>).map((r) => r.id));
  }

  addVote(id: string, vote: ApprovalVoteRecord): void {
    this.write('addVote', () => {
      if (this.stmt.byId.get(id) === undefined) throw notFound(id);
      if (this.stmt.voteClash.get(id, vote.officer) !== undefined) {
        throw new StorageError('APPROVAL_ALREADY_VOTED', `"${vote.officer}" already approved request "${id}"`, { details: { id, officer: vote.officer } });
      }
      this.stmt.insertVote.run(id, vote.officer, vote.digest, vote.at, storedMac(vote.rowMac));
    });
  }

  changeState(change: ApprovalStateChange): ApprovalRecord {
    return this.write('changeState', () => {
      const row = this.stmt.byId.get(change.id) as Row | undefined;
      if (!row) throw notFound(change.id);
      const after = afterStateChange(row, change);
      const done = this.stmt.changeState.run({
        id: change.id,
        from: change.from,
        to: after.state,
        args: after.args,
        finishedAt: after.finishedAt,
        result: after.result,
        error: after.error,
        finishedBy: after.finishedBy,
        reason: after.reason,
        rowMac: storedMac(change.rowMac),
      });
      if (done.changes === 0) {
        throw new StorageError('APPROVAL_NOT_PENDING', `approval request "${change.id}" is ${row.state}, not ${change.from}`, { details: { id: change.id, state: row.state } });
      }
      return this.withVotes(this.stmt.byId.get(change.id) as Row);
    });
  }

  getQuorum(dualControlClass: string): QuorumRecord | null {
    return this.read('getQuorum', () => {
      const row = this.stmt.getQuorum.get(dualControlClass) as QuorumRecord | undefined;
      return row ? withMac(row) : null;
    });
  }

  putQuorum(record: QuorumRecord): void {
    this.write('putQuorum', () => this.stmt.putQuorum.run({ ...record, rowMac: storedMac(record.rowMac) }));
  }

  listQuorums(): QuorumRecord[] {
    return this.read('listQuorums', () => (this.stmt.listQuorums.all() as QuorumRecord[]).map(withMac));
  }

  private withVotes(row: Row): ApprovalRecord {
    return { ...withMac(row), votes: (this.stmt.votes.all(row.id) as ApprovalVoteRecord[]).map(withMac) };
  }
}
