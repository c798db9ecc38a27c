/** The in-memory audit store: the fast fake of storage/audit-store.ts, same rules. */
import { StorageError } from '../common/errors';
import { AuditHead, AuditRecord, AuditStore } from './audit-store';

export class MemoryAudit implements AuditStore {
  private readonly records: AuditRecord[] = [];

  constructor(private readonly changed: () => void = () => undefined) {}

  appendAuditRecords(records: readonly AuditRecord[]): void {
    let expected = this.records.length + 1;
    for (const record of records) {
      if (record.seq !== expected++) throw new StorageError('STORAGE_ERROR', `audit trail: expected event ${expected - 1}, got ${record.seq}`);
    }
    for (const record of records) this.records.push({ ...record, prevHash: Buffer.from(record.prevHash), hash: Buffer.from(record.hash) });
    if (records.length > 0) this.changed();
  }

  auditHead(): AuditHead | null {
    const last = this.records[this.records.length - 1];
    return last ? { seq: last.seq, hash: Buffer.from(last.hash) } : null;
  }

  readAuditRecords(fromSeq: number, limit: number): AuditRecord[] {
    return this.records.slice(Math.max(0, fromSeq - 1), Math.max(0, fromSeq - 1) + limit).map((r) => ({ ...r, prevHash: Buffer.from(r.prevHash), hash: Buffer.from(r.hash) }));
  }
}
