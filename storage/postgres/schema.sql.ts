/**
 * The keychain schema on PostgreSQL, at the version SQLite's migrations
 * (storage/migrations.ts) reach: every table, column, constraint and index
 * of SQLite migrations 1–21 as one script, applied to an empty database by
 * pg-migrate.ts. The trust journal's and the change counter's trigger
 * functions are in schema-triggers.sql.ts.
 *
 * The mapping, chosen so that the SQL of the SQLite capability files
 * (storage/sqlite-rows.ts and the others) runs unchanged after
 * translate-sql.ts:
 * - names (tables, columns, indexes) and column order are SQLite's final
 *   ones (columns added by ALTER TABLE come last, as there);
 * - TEXT → text COLLATE "C": bytewise order and comparison, as SQLite's
 *   BINARY, whatever the database's default collation (names sort, ISO
 *   timestamps compare as text);
 * - BLOB → bytea; INTEGER → bigint where values are unbounded (audit seq,
 *   counters, invocation marks, KMIP usage masks are 32-bit unsigned),
 *   integer for small ones (versions, flags, counts, the id = 1 singletons);
 *   flags stay 0/1 integers as the SQLite code binds them;
 * - json_valid(x) CHECKs call a function of that name (schema-triggers):
 *   PostgreSQL 15 has no validity test that does not raise;
 * - every PRIMARY KEY, UNIQUE, FOREIGN KEY (keys → key_instances stays
 *   DEFERRABLE INITIALLY DEFERRED, so a key and its first instance go in one
 *   transaction) and CHECK is kept; SQLite's rowid keys (INTEGER PRIMARY KEY)
 *   become plain keys, except trust_journal's, which the triggers leave to an
 *   identity (SQLite assigns the rowid).
 */

/** The schema version this script builds: SQLite's latest (asserted by test/storage/postgres/pg-schema.test.ts). */
export const PG_SCHEMA_VERSION = 21;

const T = 'text COLLATE "C"';

/** Tables of the keychain itself (SQLite migrations 1–11, 15–19). */
export const KEYCHAIN_TABLES_SQL = `
CREATE TABLE keychain_meta (
  id           integer PRIMARY KEY CHECK (id = 1),
  keychain_id  ${T} NOT NULL,
  created_at   ${T} NOT NULL,
  token_label  ${T} NOT NULL,
  token_serial ${T} NOT NULL
);

CREATE TABLE keychain_keys (
  version            integer PRIMARY KEY CHECK (version >= 1),
  master_key_version integer NOT NULL,
  mechanism          ${T} NOT NULL,
  wrapped            bytea NOT NULL,
  created_at         ${T} NOT NULL
);

CREATE TABLE keys (
  id                  ${T} PRIMARY KEY,
  namespace           ${T} NOT NULL,
  name                ${T} NOT NULL,
  algorithm           ${T} NOT NULL,
  usage_mask          bigint NOT NULL,
  description         ${T} NOT NULL,
  owner               ${T} NOT NULL,
  custom_attributes   ${T} NOT NULL CHECK (json_valid(custom_attributes)),
  rollover_policy     ${T} NOT NULL CHECK (rollover_policy IN ('auto', 'manual', 'none')),
  cryptoperiod        ${T},
  current_instance_id ${T} NOT NULL,
  created_at          ${T} NOT NULL,
  updated_at          ${T} NOT NULL,
  row_mac             bytea NOT NULL DEFAULT '\\x',
  next_rollover_at    ${T},
  protect_period      ${T},
  process_period      ${T},
  facts               ${T} CHECK (facts IS NULL OR json_valid(facts)),
  sensitive           integer NOT NULL DEFAULT 0 CHECK (sensitive IN (0, 1)),
  UNIQUE (namespace, name)
);
CREATE INDEX keys_by_algorithm ON keys (algorithm);
CREATE INDEX keys_by_current_instance ON keys (current_instance_id);

CREATE TABLE key_instances (
  id                     ${T} PRIMARY KEY,
  key_id                 ${T} NOT NULL REFERENCES keys (id),
  name                   ${T} NOT NULL UNIQUE,
  version                integer NOT NULL CHECK (version >= 1),
  state                  ${T} NOT NULL,
  sealed_material        bytea,
  seal_version           integer NOT NULL,
  created_at             ${T} NOT NULL,
  activated_at           ${T},
  deactivated_at         ${T},
  destroyed_at           ${T},
  row_mac                bytea NOT NULL DEFAULT '\\x',
  destroy_at             ${T},
  protect_stop_at        ${T},
  process_stop_at        ${T},
  process_start_at       ${T},
  origin                 ${T} NOT NULL DEFAULT 'generated' CHECK (origin IN ('generated', 'imported')),
  revocation_reason      ${T},
  compromised_at         ${T},
  compromise_occurred_at ${T},
  usage_limit            ${T},
  fresh                  integer NOT NULL DEFAULT 0 CHECK (fresh IN (0, 1)),
  CONSTRAINT key_instances_key_id_version_key UNIQUE (key_id, version)
);
-- UNIQUE (key_id, version) also serves listInstances and the FK from keys.
CREATE INDEX key_instances_by_seal_version ON key_instances (seal_version);

-- The circle keys ⇄ key_instances: checked at COMMIT, as in SQLite.
ALTER TABLE keys ADD CONSTRAINT keys_current_instance_id_fkey
  FOREIGN KEY (current_instance_id) REFERENCES key_instances (id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE clients (
  name           ${T} PRIMARY KEY,
  role           ${T} NOT NULL CHECK (role IN ('app', 'officer', 'auditor')),
  groups         ${T} NOT NULL CHECK (json_valid(groups)),
  serial_number  ${T} NOT NULL,
  fingerprint256 ${T} NOT NULL UNIQUE,
  not_before     ${T} NOT NULL,
  not_after      ${T} NOT NULL,
  created_at     ${T} NOT NULL,
  revoked_at     ${T},
  row_mac        bytea NOT NULL DEFAULT '\\x'
);

CREATE TABLE grants (
  id           ${T} PRIMARY KEY,
  subject_kind ${T} NOT NULL CHECK (subject_kind IN ('client', 'group')),
  subject      ${T} NOT NULL,
  pattern      ${T} NOT NULL,
  permissions  ${T} NOT NULL CHECK (json_valid(permissions)),
  created_at   ${T} NOT NULL,
  created_by   ${T} NOT NULL,
  row_mac      bytea NOT NULL DEFAULT '\\x'
);

CREATE TABLE system_secrets (
  name         ${T} PRIMARY KEY,
  sealed       bytea NOT NULL,
  seal_version integer NOT NULL,
  created_at   ${T} NOT NULL
);

CREATE TABLE aliases (
  alias      ${T} PRIMARY KEY,
  key_id     ${T} NOT NULL REFERENCES keys (id),
  updated_at ${T} NOT NULL,
  row_mac    bytea NOT NULL
);
CREATE INDEX aliases_by_key ON aliases (key_id);

CREATE TABLE unseal_policy (
  id         integer PRIMARY KEY CHECK (id = 1),
  binding    ${T} NOT NULL CHECK (binding IN ('hsm+shares')),
  shares     integer NOT NULL CHECK (shares BETWEEN 1 AND 255),
  threshold  integer NOT NULL,
  created_at ${T} NOT NULL,
  CHECK (threshold BETWEEN 1 AND shares)
);

CREATE TABLE hsm_sealed_secrets (
  name               ${T} PRIMARY KEY,
  master_key_version integer NOT NULL,
  mechanism          ${T} NOT NULL,
  wrapped_key        bytea NOT NULL,
  sealed             bytea NOT NULL,
  created_at         ${T} NOT NULL
);

CREATE TABLE approval_requests (
  id                 ${T} PRIMARY KEY,
  operation          ${T} NOT NULL,
  args               ${T} NOT NULL CHECK (json_valid(args)),
  dual_control_class ${T} NOT NULL,
  requester          ${T} NOT NULL,
  required           integer NOT NULL CHECK (required >= 1),
  digest             ${T} NOT NULL,
  created_at         ${T} NOT NULL,
  expires_at         ${T} NOT NULL,
  state              ${T} NOT NULL CHECK (state IN ('pending', 'approved', 'executing', 'executed', 'failed', 'denied', 'cancelled', 'expired')),
  result             ${T} CHECK (result IS NULL OR json_valid(result)),
  error              ${T} CHECK (error IS NULL OR json_valid(error)),
  finished_at        ${T},
  finished_by        ${T},
  reason             ${T},
  binding            ${T} CHECK (binding IS NULL OR json_valid(binding)),
  row_mac            bytea NOT NULL DEFAULT '\\x'
);
CREATE INDEX approval_requests_open ON approval_requests (expires_at) WHERE state IN ('pending', 'approved');
CREATE INDEX approval_requests_by_requester ON approval_requests (requester, state);

-- One vote per officer per request: the issue's unique (request, approver).
CREATE TABLE approval_votes (
  request_id ${T} NOT NULL REFERENCES approval_requests (id),
  officer    ${T} NOT NULL,
  digest     ${T} NOT NULL,
  at         ${T} NOT NULL,
  row_mac    bytea NOT NULL DEFAULT '\\x',
  PRIMARY KEY (request_id, officer)
);

CREATE TABLE dual_control_quorums (
  dual_control_class ${T} PRIMARY KEY,
  required           integer NOT NULL CHECK (required >= 1),
  updated_at         ${T} NOT NULL,
  updated_by         ${T} NOT NULL,
  row_mac            bytea NOT NULL DEFAULT '\\x'
);

-- Bumped once per keychain write transaction by schema-triggers (SQLite: by SqliteConnection.write).
CREATE TABLE keychain_changes (
  id      integer PRIMARY KEY CHECK (id = 1),
  counter bigint NOT NULL
);
INSERT INTO keychain_changes (id, counter) VALUES (1, 0);

CREATE TABLE gcm_invocations (
  instance_id ${T} PRIMARY KEY,
  reserved    bigint NOT NULL CHECK (reserved >= 0),
  row_mac     bytea NOT NULL
);
`;

/** The audit trail, its checkpoints and the sinks' cursors (SQLite migrations 7, 8, 20). */
export const AUDIT_TABLES_SQL = `
CREATE TABLE audit_events (
  seq       bigint PRIMARY KEY CHECK (seq >= 1),
  event     ${T} NOT NULL,
  prev_hash bytea NOT NULL,
  hash      bytea NOT NULL
);

CREATE TABLE audit_checkpoints (
  seq        bigint PRIMARY KEY CHECK (seq >= 1),
  hash       bytea NOT NULL,
  signed_at  ${T} NOT NULL,
  signature  bytea NOT NULL,
  public_key ${T} NOT NULL
);

CREATE TABLE audit_sink_cursors (
  sink      ${T} PRIMARY KEY,
  seq       bigint NOT NULL CHECK (seq >= 0),
  hash      bytea NOT NULL,
  saved_at  ${T} NOT NULL,
  signature bytea NOT NULL
);
`;

/** The trust journal and state (SQLite migration 12; storage/migration-trust.sql.ts says what they are for). */
export const TRUST_TABLES_SQL = `
CREATE TABLE trust_journal (
  seq     bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  tbl     ${T} NOT NULL,
  old_mac bytea,
  new_mac bytea
);

CREATE TABLE trust_state (
  id         integer PRIMARY KEY CHECK (id = 1),
  counter    bigint NOT NULL CHECK (counter >= 0),
  sealed     bytea NOT NULL,
  updated_at ${T} NOT NULL
);
`;

/** The due-work indexes in the sweeps' order (SQLite migration 21: due date, then id). */
export const DUE_INDEXES_SQL = `
CREATE INDEX keys_by_next_rollover ON keys (next_rollover_at, id) WHERE next_rollover_at IS NOT NULL;
CREATE INDEX key_instances_by_destroy_at ON key_instances (destroy_at, id) WHERE destroy_at IS NOT NULL;
CREATE INDEX key_instances_by_process_stop ON key_instances (process_stop_at, id) WHERE process_stop_at IS NOT NULL AND state = 'Active';
CREATE INDEX key_instances_by_activation_date ON key_instances (activated_at, id) WHERE state = 'PreActive' AND activated_at IS NOT NULL;
`;

/** What records the schema version; created with the schema, in the same transaction. */
export const SCHEMA_VERSION_SQL = `
CREATE TABLE schema_version (
  id         integer PRIMARY KEY CHECK (id = 1),
  version    integer NOT NULL CHECK (version >= 1),
  applied_at ${T} NOT NULL
);
`;
