/**
 * How one audit group commit's rows reach PostgreSQL: as one multi-row
 * INSERT (several only past the protocol's parameter limit), not one INSERT
 * per event. On SQLite an INSERT is an in-process call and the per-row loop
 * of storage/sqlite-audit.ts costs microseconds; on PostgreSQL each statement
 * is a round trip through the synchronous bridge during which the event loop
 * serves nothing (docs/cluster/bridge.md), so a group of N events held it for N
 * round trips plus BEGIN and COMMIT, under the cluster's writer lock.
 *
 * Everything the trail promises stays where it was: SqliteAudit reads the
 * head and checks seq = previous + 1 for every record inside the same write
 * transaction (the writer lock holds the head still), before this runs; the
 * rows go in seq order; and the transaction's COMMIT (synchronous_commit on)
 * is what makes the group durable. A failing statement fails the whole
 * transaction, so a group lands whole or not at all. The INSERTs are
 * deferred writes: they travel with the COMMIT (SyncBridge.deferWrite), so a
 * group commit is two round trips, BEGIN with the head read, then the rows
 * with COMMIT; an INSERT that fails stops that exchange before its COMMIT.
 */
import type { AuditRecord } from '../audit-store';
import type { SyncBridge } from './sync-bridge';

/** The extended query protocol counts parameters in an unsigned 16-bit field. */
export const MAX_PARAMETERS_PER_STATEMENT = 65_535;
const COLUMNS = ['seq', 'event', 'prev_hash', 'hash'] as const;
/** Rows one statement can carry: 16,383, more than a group commit ever holds (MAX_EVENTS_PER_COMMIT). */
export const MAX_ROWS_PER_STATEMENT = Math.floor(MAX_PARAMETERS_PER_STATEMENT / COLUMNS.length);

/** Inserts `records` (already checked and in seq order) in as few statements as the parameter limit allows. */
export function insertAuditRows(bridge: SyncBridge, records: readonly AuditRecord[]): void {
  for (let from = 0; from < records.length; from += MAX_ROWS_PER_STATEMENT) {
    const chunk = records.slice(from, from + MAX_ROWS_PER_STATEMENT);
    // Nothing reads the INSERT's answer: it goes with the COMMIT, one round trip for both (SyncBridge.deferWrite).
    const params = chunk.flatMap((r) => [r.seq, r.event, r.prevHash, r.hash]);
    if (bridge.inTransaction) bridge.deferWrite(insertStatement(chunk.length), params);
    else bridge.query(insertStatement(chunk.length), params);
  }
}

/** `INSERT … VALUES ($1,$2,$3,$4),($5,…)…` for `rows` rows. */
export function insertStatement(rows: number): string {
  const tuples: string[] = new Array<string>(rows);
  for (let row = 0; row < rows; row++) {
    const at = row * COLUMNS.length;
    tuples[row] = `($${at + 1},$${at + 2},$${at + 3},$${at + 4})`;
  }
  return `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${tuples.join(',')}`;
}
