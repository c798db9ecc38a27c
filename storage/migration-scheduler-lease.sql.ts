/**
 * Schema 23: the scheduler's lease (issue 17, storage/scheduler-lease-store.ts).
 *
 * One row (id = 1, so a second "first" lease cannot exist): the node whose
 * lifecycle sweeps act, the lease's epoch and its expiry. Which node acts is
 * something the server decides from, so the row carries a `row_mac` under
 * the rows key (domain/scheduler-lease.ts) and is journaled into the trust
 * set-hash like every authenticated row (migration-trust.sql.ts): a row
 * planted or rewritten in the database fails its MAC and the sweeps act on
 * nothing. PostgreSQL's twin is PG upgrade 23 (storage/postgres/pg-upgrades.ts).
 */
import { journalTriggers } from './migration-trust.sql';

export const SCHEDULER_LEASE_SQL = `
CREATE TABLE scheduler_lease (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  holder     TEXT NOT NULL,
  epoch      INTEGER NOT NULL CHECK (epoch >= 1),
  expires_at TEXT NOT NULL,
  row_mac    BLOB NOT NULL
) STRICT;
${journalTriggers('scheduler_lease')}
`;
