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
import { applyPragmas } from './sqlite-pragmas';
import { openUntrustedSqlite } from './sqlite-untrusted-file';

export class SqliteAuditAppender {
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
      applyPragmas(db, false);
      assertSchemaCurrent(db);
      return new SqliteAuditAppender(db);
    } catch (err) {
      if (db?.open) db.close();
      throw mapSqliteError(err, 'openAuditAppender');
    }
  }

  /** Appends the records `build` makes from the head, in one transaction (one fsync). */
  append(build: (head: AuditHead | null) => AuditRecord[]): AuditRecord[] {
    try {
      return this.appendInTx.immediate(build);
    } catch (err) {
      throw mapSqliteError(err, 'appendAuditRecords');
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
