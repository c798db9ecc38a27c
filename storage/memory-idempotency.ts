/** Idempotency records in memory: the fast fake of storage/idempotency-store.ts, same rules, undone with its transaction. */
import { IdempotencyRecord, IdempotencyStore } from './idempotency-store';
import { MemoryTables } from './memory-tables';

function copy(record: IdempotencyRecord): IdempotencyRecord {
  return { ...record, argsDigest: Buffer.from(record.argsDigest), rowMac: Buffer.from(record.rowMac) };
}

/** The map key of (client, idempotency key): NUL cannot occur in either (printable ASCII keys, client names). */
const slot = (clientId: string, idempotencyKey: string): string => `${clientId}\0${idempotencyKey}`;

export class MemoryIdempotency implements IdempotencyStore {
  constructor(private readonly tables: MemoryTables) {}

  readIdempotencyRecord(clientId: string, idempotencyKey: string): IdempotencyRecord | null {
    this.tables.assertOpen();
    const row = this.tables.current.idempotencyRecords.get(slot(clientId, idempotencyKey));
    return row === undefined ? null : copy(row);
  }

  insertIdempotencyRecord(record: IdempotencyRecord): boolean {
    this.tables.assertOpen();
    const at = slot(record.clientId, record.idempotencyKey);
    if (this.tables.current.idempotencyRecords.has(at)) return false;
    this.tables.current.idempotencyRecords.set(at, copy(record));
    return true;
  }

  deleteIdempotencyRecordsBefore(before: string, limit: number): number {
    this.tables.assertOpen();
    const records = this.tables.current.idempotencyRecords;
    const old = [...records.entries()].filter(([, r]) => r.createdAt < before).sort(([, a], [, b]) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    const gone = old.slice(0, limit);
    for (const [at] of gone) records.delete(at);
    return gone.length;
  }
}
