/**
 * The audit store (storage/audit-store.ts) on the keychain's shared
 * connection (SQLite, or PostgreSQL through the
 * statement facade: storage/capability-connection.ts). Appends go through the owning store's transaction wrapper: a
 * batch of events is one transaction and one fsync (group commit). The head
 * is read and every seq checked here, for both engines; how the checked rows
 * are inserted is the engine's (`insertRows`: one prepared INSERT per row on
 * SQLite, in-process and cheap; one multi-row statement on PostgreSQL, where
 * each statement is a round trip: storage/postgres/pg-audit-rows.ts).
 */
import { Statement, StatementDatabase } from './capability-connection';
import { StorageError } from '../common/errors';
import { AuditCheckpointRecord, AuditHead, AuditRecord, AuditSignerRecord, AuditStore, SinkCursorRecord } from './audit-store';
import { ReadRunner, WriteRunner } from './sqlite-directory';

/** Inserts audit rows already checked to continue the chain, in seq order, inside the caller's transaction. */
export type AuditRowInserter = (records: readonly AuditRecord[]) => void;

const SQL = {
  insert: `INSERT INTO audit_events (seq, event, prev_hash, hash) VALUES (@seq, @event, @prevHash, @hash)`,
  head: `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`,
  read: `SELECT seq, event, prev_hash AS prevHash, hash FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?`,
  insertCheckpoint: `INSERT INTO audit_checkpoints (seq, hash, signed_at, signature, public_key) VALUES (@seq, @hash, @signedAt, @signature, @publicKey)`,
  readCheckpoints: `SELECT seq, hash, signed_at AS signedAt, signature, public_key AS publicKey FROM audit_checkpoints WHERE seq >= ? ORDER BY seq LIMIT ?`,
  lastCheckpoint: `SELECT seq, hash, signed_at AS signedAt, signature, public_key AS publicKey FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`,
  readSinkCursor: `SELECT sink, seq, hash, saved_at AS savedAt, signature FROM audit_sink_cursors WHERE sink = ?`,
  writeSinkCursor: `INSERT INTO audit_sink_cursors (sink, seq, hash, saved_at, signature) VALUES (@sink, @seq, @hash, @savedAt, @signature)
    ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, saved_at = excluded.saved_at, signature = excluded.signature`,
  listSigners: `SELECT fingerprint, public_key AS publicKey, node, added_at AS addedAt, added_by AS addedBy, row_mac AS rowMac FROM audit_signers ORDER BY fingerprint`,
  addSigner: `INSERT INTO audit_signers (fingerprint, public_key, node, added_at, added_by, row_mac) VALUES (@fingerprint, @publicKey, @node, @addedAt, @addedBy, @rowMac)`,
} as const;

export class SqliteAudit implements AuditStore {
  private readonly stmt: { [K in keyof typeof SQL]: Statement };
  private readonly insertRows: AuditRowInserter;

  /**
   * `write` runs the trail's appends (no trust hooks: audit rows carry no row
   * MAC); `keychainWrite` the signer list's, an authenticated table whose
   * journal the trust hooks must fold in the same transaction.
   * `insertRows` replaces the per-row INSERT (PostgreSQL's multi-row one).
   */
  constructor(
    db: StatementDatabase,
    private readonly write: WriteRunner,
    private readonly read: ReadRunner,
    private readonly keychainWrite: WriteRunner,
    insertRows?: AuditRowInserter,
  ) {
    this.stmt = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as SqliteAudit['stmt'];
    this.insertRows = insertRows ?? ((records) => {
      for (const record of records) this.stmt.insert.run(record);
    });
  }

  appendAuditRecords(records: readonly AuditRecord[]): void {
    if (records.length === 0) return;
    this.appendAuditRecordsFromHead(() => [...records]);
  }

  appendAuditRecordsFromHead(build: (head: AuditHead | null) => AuditRecord[]): AuditRecord[] {
    return this.write('appendAuditRecords', () => {
      const head = (this.stmt.head.get() as AuditHead | undefined) ?? null;
      const records = build(head);
      // Every seq is checked before any row is written: a bad record anywhere in the group writes nothing.
      let expected = (head?.seq ?? 0) + 1;
      for (const record of records) {
        if (record.seq !== expected) {
          throw new StorageError('STORAGE_ERROR', `audit trail: expected event ${expected}, got ${record.seq}`, { details: { expected, seq: record.seq } });
        }
        expected++;
      }
      if (records.length > 0) this.insertRows(records);
      return records;
    });
  }

  auditHead(): AuditHead | null {
    return this.read('auditHead', () => (this.stmt.head.get() as AuditHead | undefined) ?? null);
  }

  readAuditRecords(fromSeq: number, limit: number): AuditRecord[] {
    return this.read('readAuditRecords', () => this.stmt.read.all(fromSeq, limit) as AuditRecord[]);
  }

  appendAuditCheckpoint(checkpoint: AuditCheckpointRecord): void {
    this.write('appendAuditCheckpoint', () => {
      const last = this.stmt.lastCheckpoint.get() as AuditCheckpointRecord | undefined;
      if (last !== undefined && checkpoint.seq <= last.seq) {
        throw new StorageError('STORAGE_ERROR', `audit checkpoints: ${checkpoint.seq} is not after the last checkpoint (${last.seq})`, { details: { last: last.seq, seq: checkpoint.seq } });
      }
      this.stmt.insertCheckpoint.run(checkpoint);
    });
  }

  readAuditCheckpoints(fromSeq: number, limit: number): AuditCheckpointRecord[] {
    return this.read('readAuditCheckpoints', () => this.stmt.readCheckpoints.all(fromSeq, limit) as AuditCheckpointRecord[]);
  }

  lastAuditCheckpoint(): AuditCheckpointRecord | null {
    return this.read('lastAuditCheckpoint', () => (this.stmt.lastCheckpoint.get() as AuditCheckpointRecord | undefined) ?? null);
  }

  readSinkCursor(sink: string): SinkCursorRecord | null {
    return this.read('readSinkCursor', () => (this.stmt.readSinkCursor.get(sink) as SinkCursorRecord | undefined) ?? null);
  }

  writeSinkCursor(cursor: SinkCursorRecord): void {
    this.write('writeSinkCursor', () => void this.stmt.writeSinkCursor.run(cursor));
  }

  listAuditSigners(): AuditSignerRecord[] {
    return this.read('listAuditSigners', () => this.stmt.listSigners.all() as AuditSignerRecord[]);
  }

  addAuditSigner(signer: AuditSignerRecord): void {
    this.keychainWrite('addAuditSigner', () => void this.stmt.addSigner.run(signer));
  }
}
