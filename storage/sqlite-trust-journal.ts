/**
 * The trust journal (storage/trust-journal-store.ts) on the keychain's
 * shared connection (SQLite, or PostgreSQL through the statement facade:
 * both schemas fill the journal with triggers of the same meaning): reads
 * and empties the journal, keeps the one trust_state row, and lists row
 * MACs for full checks. Its statements run inside whatever transaction the
 * caller holds (the write hooks run inside the write's own), never opening
 * one of their own. A full check's snapshot needs a second connection of
 * the backend's own kind, so the backend passes the function that opens
 * one (openSqliteTrustSnapshot below; storage/postgres/pg-trust-snapshot.ts).
 */
import Database from 'better-sqlite3';
import { KeychainError } from '../common/errors';
import { CapabilityConnection, Statement } from './capability-connection';
import { AUTHENTICATED_TABLES, AuthenticatedTable } from './migration-trust.sql';
import { mapSqliteError } from './sqlite-errors';
import { openUntrustedSqlite } from './sqlite-untrusted-file';
import { TrustJournalEntry, TrustJournalStore, TrustSnapshot, TrustStateRecord, TrustWriteHooks } from './trust-journal-store';

export class SqliteTrustJournal implements TrustJournalStore {
  private readonly journal: Statement;
  private readonly clearJournal: Statement;
  private readonly countJournal: Statement;
  private readonly getState: Statement;
  /** The upsert of the one trust_state row (a backend may send it differently: storage/postgres/pg-trust-journal.ts). */
  protected static readonly PUT_STATE_SQL = `INSERT INTO trust_state (id, counter, sealed, updated_at) VALUES (1, @counter, @sealed, @updatedAt)
      ON CONFLICT (id) DO UPDATE SET counter = excluded.counter, sealed = excluded.sealed, updated_at = excluded.updated_at`;
  private readonly putState: Statement;
  private readonly macsOf: ReadonlyMap<AuthenticatedTable, Statement>;

  constructor(
    private readonly connection: CapabilityConnection,
    private readonly snapshots: () => TrustSnapshot,
  ) {
    const { db } = connection;
    this.journal = db.prepare('SELECT tbl AS "table", old_mac AS oldMac, new_mac AS newMac FROM trust_journal ORDER BY seq');
    this.clearJournal = db.prepare('DELETE FROM trust_journal');
    this.countJournal = db.prepare('SELECT count(*) FROM trust_journal').pluck();
    this.getState = db.prepare('SELECT counter, sealed, updated_at AS updatedAt FROM trust_state WHERE id = 1');
    this.putState = db.prepare(SqliteTrustJournal.PUT_STATE_SQL);
    this.macsOf = new Map(AUTHENTICATED_TABLES.map((t) => [t, db.prepare(`SELECT row_mac FROM ${t}`).pluck()]));
  }

  takeJournal(): TrustJournalEntry[] {
    return this.connection.read('takeJournal', () => {
      const entries = this.journal.all() as TrustJournalEntry[];
      if (entries.length > 0) this.clearJournal.run();
      return entries;
    });
  }

  takeJournalWithState(): { entries: TrustJournalEntry[]; state: TrustStateRecord | null } {
    const entries = this.takeJournal();
    return { entries, state: this.getTrustState() };
  }

  requireEmptyJournal(refusal: { readonly code: 'INTEGRITY_FAILURE'; readonly message: string }): void {
    if (this.journalLength() > 0) throw new KeychainError(refusal.code, refusal.message);
  }

  journalLength(): number {
    return this.connection.read('journalLength', () => this.countJournal.get() as number);
  }

  getTrustState(): TrustStateRecord | null {
    return this.connection.read('getTrustState', () => (this.getState.get() as TrustStateRecord | undefined) ?? null);
  }

  putTrustState(record: TrustStateRecord): void {
    this.connection.read('putTrustState', () => this.putState.run(record));
  }

  rowMacs(table: AuthenticatedTable): Buffer[] {
    return this.connection.read('rowMacs', () => (this.macsOf.get(table) as Statement).all() as Buffer[]);
  }

  openSnapshot(): TrustSnapshot {
    return this.snapshots();
  }

  setWriteHooks(hooks: TrustWriteHooks | null): void {
    this.connection.setWriteHooks(hooks);
  }
}

/** A snapshot on a read-only connection of its own to the keychain file at `path` (WAL keeps the view as of its first read). */
export function openSqliteTrustSnapshot(path: string): TrustSnapshot {
  let db: Database.Database | null = null;
  try {
    db = openUntrustedSqlite(path, { readonly: true, fileMustExist: true });
    const reader = db;
    reader.exec('BEGIN');
    // The first read fixes the snapshot: state, journal and rows are all as of this moment.
    const state = (reader.prepare('SELECT counter, sealed, updated_at AS updatedAt FROM trust_state WHERE id = 1').get() as TrustStateRecord | undefined) ?? null;
    const journalLength = reader.prepare('SELECT count(*) FROM trust_journal').pluck().get() as number;
    return {
      state,
      journalLength,
      rowMacs: (table) => reader.prepare(`SELECT row_mac FROM ${table}`).pluck().iterate() as IterableIterator<Buffer>,
      close: () => {
        if (reader.inTransaction) reader.exec('COMMIT');
        reader.close();
      },
    };
  } catch (err) {
    if (db?.open) db.close();
    throw mapSqliteError(err, 'openSnapshot');
  }
}
