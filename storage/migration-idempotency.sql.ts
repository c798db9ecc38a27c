/**
 * Schema 24: idempotency records for retried writes (issue 17,
 * storage/idempotency-store.ts).
 *
 * One row per (client, idempotency key): the primary key is what makes a
 * second write under the same key fail on every engine, also when two
 * appliances run it at once. The server serves a stored answer from it, so
 * the row carries a `row_mac` under the rows key
 * (domain/idempotency-records.ts) and is journaled into the trust set-hash
 * like every authenticated row (migration-trust.sql.ts): a planted or
 * rewritten record fails its MAC, and one put back after the retention
 * sweep deleted it fails the set-hash. PostgreSQL's twin is PG upgrade 24
 * (storage/postgres/pg-upgrades.ts).
 */
import { journalTriggers } from './migration-trust.sql';

export const IDEMPOTENCY_RECORDS_SQL = `
CREATE TABLE idempotency_records (
  client_id       TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  operation       TEXT NOT NULL,
  args_digest     BLOB NOT NULL,
  result          TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  row_mac         BLOB NOT NULL,
  PRIMARY KEY (client_id, idempotency_key)
) STRICT;
-- The retention sweep's order (oldest first).
CREATE INDEX idempotency_records_by_created_at ON idempotency_records (created_at);
${journalTriggers('idempotency_records')}
`;
