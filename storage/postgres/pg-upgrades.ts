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

export const PG_UPGRADES: readonly PgUpgrade[] = [AUDIT_SIGNERS];
