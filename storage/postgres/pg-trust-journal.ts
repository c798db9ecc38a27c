/**
 * The trust journal on PostgreSQL: storage/sqlite-trust-journal.ts, with
 * the fold's reads and write sent in fewer round trips through the
 * synchronous bridge (each one a time the event loop serves nothing,
 * docs/cluster/bridge.md "Round trips per request"):
 * - the journal is taken with one `DELETE … RETURNING` (what is removed is
 *   exactly what is folded, in one statement, where SQLite's code reads the
 *   rows and then deletes them), in the same exchange as the read of the
 *   trust state the fold opens;
 * - the check before a write that the journal is empty is a deferred check
 *   (SyncBridge.deferCheck): it goes with the write's first statement, and
 *   the worker refuses to run that statement (or a COMMIT) unless it holds;
 * - the new trust state is a deferred write (SyncBridge.deferWrite): it goes
 *   with the transaction's COMMIT. It is still inside the transaction, in
 *   order; should it fail, the COMMIT is not run and the write is undone.
 */
import { SqliteTrustJournal } from '../sqlite-trust-journal';
import { TrustSnapshot, TrustJournalEntry, TrustStateRecord } from '../trust-journal-store';
import type { PgConnection } from './pg-connection';
import type { PgStatement } from './statement-facade';

const TAKE_JOURNAL_SQL = 'DELETE FROM trust_journal RETURNING seq, tbl AS "table", old_mac AS "oldMac", new_mac AS "newMac"';
const COUNT_JOURNAL_SQL = 'SELECT count(*) FROM trust_journal';
const GET_STATE_SQL = 'SELECT counter, sealed, updated_at AS "updatedAt" FROM trust_state WHERE id = 1';

interface TakenRow extends TrustJournalEntry {
  readonly seq: number | bigint;
}

export class PgTrustJournal extends SqliteTrustJournal {
  private readonly putStateLater: PgStatement;

  constructor(private readonly pg: PgConnection, snapshots: () => TrustSnapshot) {
    super(pg, snapshots);
    this.putStateLater = pg.db.prepare(SqliteTrustJournal.PUT_STATE_SQL);
  }

  override takeJournal(): TrustJournalEntry[] {
    return this.pg.read('takeJournal', () => inOrder(this.pg.db.bridge.query(TAKE_JOURNAL_SQL).rows as unknown as TakenRow[]));
  }

  override takeJournalWithState(): { entries: TrustJournalEntry[]; state: TrustStateRecord | null } {
    return this.pg.read('takeJournalWithState', () => {
      const [taken, state] = this.pg.db.bridge.queries([{ sql: TAKE_JOURNAL_SQL }, { sql: GET_STATE_SQL }]);
      return { entries: inOrder(taken.rows as unknown as TakenRow[]), state: (state.rows[0] as unknown as TrustStateRecord | undefined) ?? null };
    });
  }

  override requireEmptyJournal(refusal: { readonly code: 'INTEGRITY_FAILURE'; readonly message: string }): void {
    const bridge = this.pg.db.bridge;
    if (!bridge.inTransaction) {
      super.requireEmptyJournal(refusal);
      return;
    }
    this.pg.read('requireEmptyJournal', () => bridge.deferCheck(COUNT_JOURNAL_SQL, 0, refusal));
  }

  override putTrustState(record: TrustStateRecord): void {
    this.pg.read('putTrustState', () => this.putStateLater.runDeferred(record));
  }
}

/** RETURNING has no order: the journal's own (seq), as the fold must XOR nothing twice nor miss one. */
function inOrder(rows: TakenRow[]): TrustJournalEntry[] {
  return [...rows]
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
    .map(({ table, oldMac, newMac }) => ({ table, oldMac, newMac }));
}
