/**
 * Idempotency records for retried writes (issue 17, docs/protocol.md §3.5):
 * what a write sent with an idempotency key answered, kept so that a retry
 * of it (to this or another appliance of the cluster) is answered from the
 * record instead of doing the write twice. One row per (client, key),
 * written in the same transaction as the change it records.
 *
 * Untrusted as stored: the domain (domain/idempotency-records.ts) checks
 * `rowMac` before serving anything from a row, and the rows are journaled
 * into the trust set-hash like every authenticated row.
 */
export interface IdempotencyRecord {
  /** The client's stable id: its name (names are never reused; a renewal keeps it). */
  readonly clientId: string;
  /** The key the client sent (printable ASCII, 8–128 characters). */
  readonly idempotencyKey: string;
  /** The operation it was sent with. */
  readonly operation: string;
  /** A keyed SHA-256 digest of the canonical arguments (domain/idempotency-records.ts). */
  readonly argsDigest: Buffer;
  /** The operation's result as JSON (never one that holds material). */
  readonly result: string;
  /** ISO time it was written: the retention sweep deletes it once older than idempotency_retention. */
  readonly createdAt: string;
  readonly rowMac: Buffer;
}

export interface IdempotencyStore {
  /** The record of (clientId, idempotencyKey), or null (unauthenticated: the domain checks the MAC). */
  readIdempotencyRecord(clientId: string, idempotencyKey: string): IdempotencyRecord | null;
  /**
   * Writes the record unless one of the same (clientId, idempotencyKey)
   * exists (whatever else it holds); answers whether it wrote. On
   * PostgreSQL a concurrent writer's uncommitted row makes this wait for its
   * transaction, then answer false if it committed.
   */
  insertIdempotencyRecord(record: IdempotencyRecord): boolean;
  /** Deletes at most `limit` records created before `before` (ISO), oldest first; answers how many. */
  deleteIdempotencyRecordsBefore(before: string, limit: number): number;
}
