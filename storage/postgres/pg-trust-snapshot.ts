/**
 * The trust journal's snapshot for a full check (TrustJournalStore.openSnapshot)
 * on PostgreSQL: a bridge of its own (a second connection, on its own worker
 * thread) holding one REPEATABLE READ READ ONLY transaction, so the state,
 * the journal length and every table's row MACs are read as of one moment
 * while the store's own connection goes on writing. It takes no writer lock
 * (a read transaction never does), so it cannot hold up the cluster's
 * writers; the server's idle_in_transaction_session_timeout bounds how long
 * an abandoned snapshot can stay open.
 *
 * A table's MACs arrive in one answer (the bridge has no cursors): memory
 * grows with the table, 32 bytes a row, as the check reads one table at a time.
 */
import { AUTHENTICATED_TABLES, AuthenticatedTable } from '../migration-trust.sql';
import { TrustSnapshot, TrustStateRecord } from '../trust-journal-store';
import { SyncBridge, SyncBridgeOptions } from './sync-bridge';

export function openPgTrustSnapshot(options: SyncBridgeOptions): TrustSnapshot {
  const bridge = SyncBridge.open({ ...options, applicationName: `${options.applicationName ?? 'strongroom'}-trust-check` });
  try {
    bridge.begin(false);
    // The first statement fixes the snapshot: state, journal and rows are all as of this moment.
    const state = (bridge.query('SELECT counter, sealed, updated_at AS "updatedAt" FROM trust_state WHERE id = 1').rows[0] as unknown as TrustStateRecord | undefined) ?? null;
    const journalLength = bridge.query('SELECT count(*) AS n FROM trust_journal').rows[0]?.n as number;
    return {
      state,
      journalLength,
      rowMacs: (table: AuthenticatedTable) => {
        // Only the schema's own table names are ever put into the SQL.
        if (!AUTHENTICATED_TABLES.includes(table)) throw new RangeError(`not an authenticated table: ${String(table)}`);
        return bridge.query(`SELECT row_mac FROM ${table}`).rows.map((row) => row.row_mac as Buffer)[Symbol.iterator]();
      },
      close: () => {
        try {
          if (bridge.inTransaction) bridge.rollback();
        } finally {
          bridge.close();
        }
      },
    };
  } catch (err) {
    bridge.close();
    throw err;
  }
}
