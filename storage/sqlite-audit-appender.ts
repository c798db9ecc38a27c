/**
 * A connection of its own that only appends to the audit trail, for the
 * audit worker thread (storage/audit-worker/): better-sqlite3 is synchronous,
 * so a group commit's fsync on the server's connection held the event loop
 * for its whole duration. On this connection the fsync blocks only the
 * worker; the server keeps reading frames and answering other requests,
 * while each audited response still waits for its event to be durable.
 *
 * The records are built inside the IMMEDIATE transaction from the head read
 * under the write lock, so another process appending meanwhile (the CLI in
 * local mode) can never make a batch collide with its sequence numbers.
 */
import Database from 'better-sqlite3';
import { StorageError } from '../common/errors';
import { AuditHead, AuditRecord } from './audit-store';
import { mapSqliteError } from './sqlite-errors';
import { assertSchemaCurrent } from './migrations';
import { performance } from 'node:perf_hooks';
import { isBusy } from './sqlite-busy';
import { applyPragmas, BUSY_TIMEOUT_MS } from './sqlite-pragmas';
import { openUntrustedSqlite } from './sqlite-untrusted-file';

/** How often a group commit tries again for the write lock another connection holds (sub-millisecond: a sweep's gaps are short). */
export const LOCK_POLL_MS = 0.25;

export class SqliteAuditAppender {
  /** What the worker thread waits on between two tries for the lock (nothing ever wakes it: a bounded pause). */
  private readonly pauseCell = new Int32Array(new SharedArrayBuffer(4));
  private readonly insert: Database.Statement;
  private readonly head: Database.Statement;
  private readonly appendInTx: Database.Transaction<(build: (head: AuditHead | null) => AuditRecord[]) => AuditRecord[]>;

  private constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT INTO audit_events (seq, event, prev_hash, hash) VALUES (@seq, @event, @prevHash, @hash)');
    this.head = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
    this.appendInTx = db.transaction((build: (head: AuditHead | null) => AuditRecord[]) => {
      const head = (this.head.get() as AuditHead | undefined) ?? null;
      const records = build(head);
      let expected = (head?.seq ?? 0) + 1;
      for (const record of records) {
        if (record.seq !== expected++) throw new StorageError('STORAGE_ERROR', `audit trail: expected event ${expected - 1}, got ${record.seq}`);
        this.insert.run(record);
      }
      return records;
    });
  }

  /** Opens the keychain file (which must exist, at the current schema) for appends. */
  static open(path: string): SqliteAuditAppender {
    let db: Database.Database | undefined;
    try {
      db = openUntrustedSqlite(path, { fileMustExist: true });
      // SQLite's own wait for the write lock backs off in sleeps of up to 100 ms; append() polls instead (LOCK_POLL_MS).
      applyPragmas(db, false, 0);
      assertSchemaCurrent(db);
      return new SqliteAuditAppender(db);
    } catch (err) {
      if (db?.open) db.close();
      throw mapSqliteError(err, 'openAuditAppender');
    }
  }

  /**
   * Appends the records `build` makes from the head, in one transaction (one
   * fsync). While another connection holds the write lock (the server's own,
   * committing a sweep's batch or an officer's change) it tries again every
   * LOCK_POLL_MS, up to BUSY_TIMEOUT_MS in all, then fails STORAGE_BUSY.
   * SQLite's busy handler slept 1, 2, 5, 10, 15, 20, 25… ms between tries:
   * against a sweep that takes the lock back every few milliseconds, a
   * group of Get events waited through several of those sleeps for a lock
   * that had been free in between. Only a transaction that never started is
   * tried again.
   */
  append(build: (head: AuditHead | null) => AuditRecord[]): AuditRecord[] {
    const deadline = performance.now() + BUSY_TIMEOUT_MS;
    for (;;) {
      let started = false;
      try {
        return this.appendInTx.immediate((head) => {
          started = true;
          return build(head);
        });
      } catch (err) {
        if (started || !isBusy(err) || performance.now() >= deadline) throw mapSqliteError(err, 'appendAuditRecords');
        Atomics.wait(this.pauseCell, 0, 0, LOCK_POLL_MS);
      }
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
