/**
 * The trust journal port (schema 12, storage/migration-trust.sql.ts): what
 * the domain's trust ledger (domain/trust/trust-ledger.ts) needs of the
 * store to keep the set-hash of authenticated rows fresh. SQLite only: the
 * journal is filled by triggers, which the in-memory fake has no equivalent
 * of; a store without it (memory) has `trust: null` and its keychain keeps
 * row MACs without freshness.
 *
 * The store sees only sealed bytes and MACs; it decides nothing.
 */
import { AuthenticatedTable } from './migration-trust.sql';

export interface TrustJournalEntry {
  readonly table: string;
  /** The row MAC before the change; null for an insert. */
  readonly oldMac: Buffer | null;
  /** The row MAC after the change; null for a delete. */
  readonly newMac: Buffer | null;
}

export interface TrustStateRecord {
  readonly counter: number;
  /** The set-hash, AES-GCM sealed (the counter is in its AAD). */
  readonly sealed: Buffer;
  readonly updatedAt: string;
}

/** Run inside every keychain write transaction (not audit appends), around the write's own statements. */
export interface TrustWriteHooks {
  /** Before the write: the journal must be empty (throw to refuse the write). */
  beforeWrite(): void;
  /** After the write, before it commits: fold what it journaled (throw to undo the write). */
  afterWrite(): void;
}

/**
 * One consistent view of the authenticated rows, read on a connection of its
 * own so the appliance goes on writing while a full check walks it (SQLite
 * WAL keeps the view as of its first read). Close it when done.
 */
export interface TrustSnapshot {
  readonly state: TrustStateRecord | null;
  readonly journalLength: number;
  /** The row MACs of one table, as of the snapshot; iterate one table at a time. */
  rowMacs(table: AuthenticatedTable): IterableIterator<Buffer>;
  close(): void;
}

export interface TrustJournalStore {
  /** The journaled changes, oldest first, and removes them (call inside the write's transaction). */
  takeJournal(): TrustJournalEntry[];
  /**
   * takeJournal and getTrustState together, as a write's fold needs them
   * (inside the write's transaction): on PostgreSQL one round trip instead
   * of two or three.
   */
  takeJournalWithState(): { readonly entries: TrustJournalEntry[]; readonly state: TrustStateRecord | null };
  /**
   * Before a write: throws a StrongroomError with `refusal`'s code and
   * message unless the journal is empty. On PostgreSQL, inside the write's
   * transaction, the check goes with the transaction's next exchange and
   * fails it (the write's statements after it do not run, its COMMIT is not
   * made): no round trip of its own.
   */
  requireEmptyJournal(refusal: { readonly code: 'INTEGRITY_FAILURE'; readonly message: string }): void;
  /** How many changes wait in the journal. */
  journalLength(): number;
  getTrustState(): TrustStateRecord | null;
  /** Inserts or replaces the one trust state row, in the caller's transaction if any. */
  putTrustState(record: TrustStateRecord): void;
  /** Every stored row MAC of one authenticated table (empty ones included), for a full check. */
  rowMacs(table: AuthenticatedTable): Buffer[];
  /** A snapshot for a full check that must not hold up the appliance's writes. */
  openSnapshot(): TrustSnapshot;
  /** Installs (or with null removes) the hooks every keychain write runs. */
  setWriteHooks(hooks: TrustWriteHooks | null): void;
}
