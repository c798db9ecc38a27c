/**
 * The PostgreSQL twins of SQLite's migrations after 21 (the version the base
 * schema script builds: schema.sql.ts), applied in order by pg-migrate.ts.
 * Never edit an applied one: add the next.
 */
import { changeCounterTrigger, journalTriggers } from './schema-triggers.sql';
import type { PgUpgrade } from './pg-migrate';

const T = 'text COLLATE "C"';

/** SQLite migration 22 (storage/migration-audit-signers.sql.ts): the cluster's audit checkpoint signers. */
const AUDIT_SIGNERS: PgUpgrade = {
  version: 22,
  description: 'the cluster\'s audit checkpoint signers, each row MACed and journaled into the trust set-hash',
  sql: `
CREATE TABLE audit_signers (
  fingerprint ${T} PRIMARY KEY,
  public_key  ${T} NOT NULL,
  node        ${T} NOT NULL,
  added_at    ${T} NOT NULL,
  added_by    ${T} NOT NULL,
  row_mac     bytea NOT NULL
);
${journalTriggers('audit_signers')}
${changeCounterTrigger('audit_signers')}
`,
};

/**
 * SQLite migration 23 (storage/migration-scheduler-lease.sql.ts): the
 * scheduler's lease. No change-counter trigger, on purpose: the lease is
 * renewed at every sweep batch and no cache depends on it, so counting it
 * would empty every node's caches at each batch.
 */
const SCHEDULER_LEASE: PgUpgrade = {
  version: 23,
  description: 'the scheduler\'s lease: the node whose sweeps act, its epoch and expiry, the row MACed and journaled into the trust set-hash',
  sql: `
CREATE TABLE scheduler_lease (
  id         integer PRIMARY KEY CHECK (id = 1),
  holder     ${T} NOT NULL,
  epoch      integer NOT NULL CHECK (epoch >= 1),
  expires_at ${T} NOT NULL,
  row_mac    bytea NOT NULL
);
${journalTriggers('scheduler_lease')}
`,
};

/**
 * SQLite migration 24 (storage/migration-idempotency.sql.ts): idempotency
 * records of retried writes. No change-counter trigger: no cache depends on
 * them, and the write each records already moved the counter.
 */
const IDEMPOTENCY_RECORDS: PgUpgrade = {
  version: 24,
  description: 'idempotency records of retried writes: per (client, key) the operation, its arguments\' digest and its answer, the row MACed and journaled into the trust set-hash',
  sql: `
CREATE TABLE idempotency_records (
  client_id       ${T} NOT NULL,
  idempotency_key ${T} NOT NULL,
  operation       ${T} NOT NULL,
  args_digest     bytea NOT NULL,
  result          ${T} NOT NULL,
  created_at      ${T} NOT NULL,
  row_mac         bytea NOT NULL,
  PRIMARY KEY (client_id, idempotency_key)
);
CREATE INDEX idempotency_records_by_created_at ON idempotency_records (created_at);
${journalTriggers('idempotency_records')}
`,
};

export const PG_UPGRADES: readonly PgUpgrade[] = [AUDIT_SIGNERS, SCHEDULER_LEASE, IDEMPOTENCY_RECORDS];
