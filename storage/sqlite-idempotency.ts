/**
 * Idempotency records (storage/idempotency-store.ts) on the keychain's
 * shared connection, SQLite or PostgreSQL (storage/capability-connection.ts).
 *
 * Written with the trust hooks (the rows are authenticated: their journal
 * entries must be folded in the same transaction) but not as a keychain
 * change: no cache depends on them, and a write that records its answer
 * already counts as a change through the rows it changed.
 */
import { CapabilityConnection, Statement } from './capability-connection';
import { IdempotencyRecord, IdempotencyStore } from './idempotency-store';

const COLUMNS = `client_id AS clientId, idempotency_key AS idempotencyKey, operation, args_digest AS argsDigest, result,
  created_at AS createdAt, row_mac AS rowMac`;

const SQL = {
  read: `SELECT ${COLUMNS} FROM idempotency_records WHERE client_id = @clientId AND idempotency_key = @idempotencyKey`,
  insert: `INSERT INTO idempotency_records (client_id, idempotency_key, operation, args_digest, result, created_at, row_mac)
    VALUES (@clientId, @idempotencyKey, @operation, @argsDigest, @result, @createdAt, @rowMac)
    ON CONFLICT (client_id, idempotency_key) DO NOTHING`,
  // Row values: a bounded batch without DELETE ... LIMIT (which neither engine offers as standard).
  deleteBefore: `DELETE FROM idempotency_records WHERE (client_id, idempotency_key) IN (
    SELECT client_id, idempotency_key FROM idempotency_records WHERE created_at < @before ORDER BY created_at LIMIT @limit)`,
} as const;

export class SqliteIdempotency implements IdempotencyStore {
  private readonly stmt: { [K in keyof typeof SQL]: Statement };

  constructor(private readonly conn: CapabilityConnection) {
    this.stmt = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, conn.db.prepare(sql)])) as SqliteIdempotency['stmt'];
  }

  readIdempotencyRecord(clientId: string, idempotencyKey: string): IdempotencyRecord | null {
    return this.conn.read('readIdempotencyRecord', () => (this.stmt.read.get({ clientId, idempotencyKey }) as IdempotencyRecord | undefined) ?? null);
  }

  insertIdempotencyRecord(record: IdempotencyRecord): boolean {
    const row = { ...record };
    return this.conn.write('insertIdempotencyRecord', () => this.stmt.insert.run(row).changes === 1, false, true);
  }

  deleteIdempotencyRecordsBefore(before: string, limit: number): number {
    return this.conn.write('deleteIdempotencyRecordsBefore', () => this.stmt.deleteBefore.run({ before, limit }).changes, false, true);
  }
}
