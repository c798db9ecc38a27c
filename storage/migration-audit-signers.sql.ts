/**
 * Schema 22: the cluster's audit checkpoint signers (issue 17).
 *
 * Each node of a cluster signs checkpoints with the key in its own HSM token;
 * a node trusts another's checkpoints only when that key is on this list.
 * The list is something the server decides from, so each row carries a
 * `row_mac` under the rows key (domain/audit/cluster-signers.ts) and is
 * journaled into the trust set-hash like every authenticated row
 * (migration-trust.sql.ts): a row planted or edited in the database fails its
 * MAC, and one deleted or written back from an older copy fails the next full
 * check. PostgreSQL's twin is PG upgrade 22 (storage/postgres/pg-upgrades.ts).
 */
import { journalTriggers } from './migration-trust.sql';

export const AUDIT_SIGNERS_SQL = `
CREATE TABLE audit_signers (
  fingerprint TEXT PRIMARY KEY,
  public_key  TEXT NOT NULL,
  node        TEXT NOT NULL,
  added_at    TEXT NOT NULL,
  added_by    TEXT NOT NULL,
  row_mac     BLOB NOT NULL
) STRICT;
${journalTriggers('audit_signers')}
`;
