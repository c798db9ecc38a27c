/** The in-memory audit store: the fast fake of storage/audit-store.ts, same rules. */
import { StorageError } from '../common/errors';
import { AuditCheckpointRecord, AuditHead, AuditRecord, AuditSignerRecord, AuditStore, SinkCursorRecord } from './audit-store';

function copyCheckpoint(c: AuditCheckpointRecord): AuditCheckpointRecord {
  return { ...c, hash: Buffer.from(c.hash), signature: Buffer.from(c.signature) };
}

export class MemoryAudit implements AuditStore {
  private readonly records: AuditRecord[] = [];
  private readonly checkpoints: AuditCheckpointRecord[] = [];
  private readonly cursors = new Map<string, SinkCursorRecord>();
  private readonly signers = new Map<string, AuditSignerRecord>();

  constructor(private readonly changed: () => void = () => undefined) {}

  appendAuditRecords(records: readonly AuditRecord[]): void {
    let expected = this.records.length + 1;
    for (const record of records) {
      if (record.seq !== expected++) throw new StorageError('STORAGE_ERROR', `audit trail: expected event ${expected - 1}, got ${record.seq}`);
    }
    for (const record of records) this.records.push({ ...record, prevHash: Buffer.from(record.prevHash), hash: Buffer.from(record.hash) });
    if (records.length > 0) this.changed();
  }

  appendAuditRecordsFromHead(build: (head: AuditHead | null) => AuditRecord[]): AuditRecord[] {
    const records = build(this.auditHead());
    this.appendAuditRecords(records);
    return records;
  }

  auditHead(): AuditHead | null {
    const last = this.records[this.records.length - 1];
    return last ? { seq: last.seq, hash: Buffer.from(last.hash) } : null;
  }

  readAuditRecords(fromSeq: number, limit: number): AuditRecord[] {
    return this.records.slice(Math.max(0, fromSeq - 1), Math.max(0, fromSeq - 1) + limit).map((r) => ({ ...r, prevHash: Buffer.from(r.prevHash), hash: Buffer.from(r.hash) }));
  }

  appendAuditCheckpoint(checkpoint: AuditCheckpointRecord): void {
    const last = this.checkpoints[this.checkpoints.length - 1];
    if (last !== undefined && checkpoint.seq <= last.seq) throw new StorageError('STORAGE_ERROR', `audit checkpoints: ${checkpoint.seq} is not after the last checkpoint (${last.seq})`);
    this.checkpoints.push(copyCheckpoint(checkpoint));
  }

  readAuditCheckpoints(fromSeq: number, limit: number): AuditCheckpointRecord[] {
    return this.checkpoints.filter((c) => c.seq >= fromSeq).slice(0, limit).map(copyCheckpoint);
  }

  lastAuditCheckpoint(): AuditCheckpointRecord | null {
    const last = this.checkpoints[this.checkpoints.length - 1];
    return last ? copyCheckpoint(last) : null;
  }

  readSinkCursor(sink: string): SinkCursorRecord | null {
    const cursor = this.cursors.get(sink);
    return cursor ? { ...cursor, hash: Buffer.from(cursor.hash), signature: Buffer.from(cursor.signature) } : null;
  }

  writeSinkCursor(cursor: SinkCursorRecord): void {
    this.cursors.set(cursor.sink, { ...cursor, hash: Buffer.from(cursor.hash), signature: Buffer.from(cursor.signature) });
  }

  listAuditSigners(): AuditSignerRecord[] {
    return [...this.signers.values()].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1)).map((s) => ({ ...s, rowMac: Buffer.from(s.rowMac) }));
  }

  addAuditSigner(signer: AuditSignerRecord): void {
    if (this.signers.has(signer.fingerprint)) throw new StorageError('STORAGE_ERROR', `audit signer ${signer.fingerprint} is registered already`);
    this.signers.set(signer.fingerprint, { ...signer, rowMac: Buffer.from(signer.rowMac) });
    this.changed();
  }
}
