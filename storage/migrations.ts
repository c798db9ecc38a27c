/**
 * Numbered schema migrations of the SQLite keychain store. The applied
 * version is PRAGMA user_version, which lives in the database header and is
 * transactional: each migration and its version bump commit together or not
 * at all. Adding a table later is one more entry at the end of MIGRATIONS
 * (never edit an applied one). A database newer than this code is refused
 * with STORAGE_SCHEMA_TOO_NEW rather than written by code that doesn't know it.
 */
import Database from 'better-sqlite3';
import { DUE_INDEXES_SQL } from './migration-due-indexes.sql';
import { StorageError } from '../common/errors';
import { journalTriggers, TRUST_SQL } from './migration-trust.sql';
import { SINK_CURSORS_SQL } from './migration-sink-cursors.sql';
import { AUDIT_SIGNERS_SQL } from './migration-audit-signers.sql';
import { SCHEDULER_LEASE_SQL } from './migration-scheduler-lease.sql';
import { IDEMPOTENCY_RECORDS_SQL } from './migration-idempotency.sql';
import { V1_SQL } from './migration-v1.sql';

export interface Migration {
  /** 1, 2, 3…: consecutive. */
  readonly version: number;
  readonly description: string;
  up(db: Database.Database): void;
}

const V2_SQL = `
CREATE TABLE clients (
  name           TEXT PRIMARY KEY,
  role           TEXT NOT NULL CHECK (role IN ('app', 'officer', 'auditor')),
  groups         TEXT NOT NULL CHECK (json_valid(groups)),
  serial_number  TEXT NOT NULL,
  fingerprint256 TEXT NOT NULL UNIQUE,
  not_before     TEXT NOT NULL,
  not_after      TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  revoked_at     TEXT
) STRICT;

CREATE TABLE grants (
  id           TEXT PRIMARY KEY,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('client', 'group')),
  subject      TEXT NOT NULL,
  pattern      TEXT NOT NULL,
  permissions  TEXT NOT NULL CHECK (json_valid(permissions)),
  created_at   TEXT NOT NULL,
  created_by   TEXT NOT NULL
) STRICT;

-- Row MACs (domain/row-mac.ts): the domain authenticates names, pointers and
-- states, which AES-GCM over the material does not cover.
ALTER TABLE keys ADD COLUMN row_mac BLOB NOT NULL DEFAULT X'';
ALTER TABLE key_instances ADD COLUMN row_mac BLOB NOT NULL DEFAULT X'';

CREATE TABLE system_secrets (
  name         TEXT PRIMARY KEY,
  sealed       BLOB NOT NULL,
  seal_version INTEGER NOT NULL,
  created_at   TEXT NOT NULL
) STRICT;
`;

const V3_SQL = `
-- When the rollover scheduler next rolls the key (ISO 8601 UTC, so text order
-- is time order); NULL unless its policy is auto.
ALTER TABLE keys ADD COLUMN next_rollover_at TEXT;
CREATE INDEX keys_by_next_rollover ON keys (next_rollover_at) WHERE next_rollover_at IS NOT NULL;
`;

const V4_SQL = `
-- A scheduled destruction's due time (ISO 8601 UTC); NULL when none is pending.
ALTER TABLE key_instances ADD COLUMN destroy_at TEXT;
CREATE INDEX key_instances_by_destroy_at ON key_instances (destroy_at) WHERE destroy_at IS NOT NULL;
`;

const V5_SQL = `
CREATE TABLE aliases (
  alias      TEXT PRIMARY KEY,
  key_id     TEXT NOT NULL REFERENCES keys (id),
  updated_at TEXT NOT NULL,
  row_mac    BLOB NOT NULL
) STRICT;
CREATE INDEX aliases_by_key ON aliases (key_id);
`;

const V6_SQL = `
-- SP 800-57 usage periods: per key (durations) and per instance (dates).
ALTER TABLE keys ADD COLUMN protect_period TEXT;
ALTER TABLE keys ADD COLUMN process_period TEXT;
ALTER TABLE key_instances ADD COLUMN protect_stop_at TEXT;
ALTER TABLE key_instances ADD COLUMN process_stop_at TEXT;
CREATE INDEX key_instances_by_process_stop ON key_instances (process_stop_at) WHERE process_stop_at IS NOT NULL AND state = 'Active';
`;

const V7_SQL = `
-- The audit trail: append-only, hash-chained (domain/audit/audit-chain.ts).
CREATE TABLE audit_events (
  seq       INTEGER PRIMARY KEY CHECK (seq >= 1),
  event     TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash      BLOB NOT NULL
) STRICT;
-- Refuse changes through SQLite (someone with the file can still drop these:
-- the hash chain is what detects that).
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
`;

const V8_SQL = `
-- A counter that every keychain write (not audit appends) bumps in its own
-- transaction: the server's caches watch it to see other processes' changes,
-- where PRAGMA data_version also moved on every audit group commit.
CREATE TABLE keychain_changes (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  counter INTEGER NOT NULL
) STRICT;
INSERT INTO keychain_changes (id, counter) VALUES (1, 0);

-- Audit checkpoints: the chain head at seq, signed by the HSM signing key.
-- A trail that ends before the last checkpoint was truncated.
CREATE TABLE audit_checkpoints (
  seq        INTEGER PRIMARY KEY CHECK (seq >= 1),
  hash       BLOB NOT NULL,
  signed_at  TEXT NOT NULL,
  signature  BLOB NOT NULL,
  public_key TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
`;

const UNSEAL_SQL = `
-- How the keychain unseals: absent, with the HSM alone; 'hsm+shares', with
-- the HSM and custodians' Shamir shares (domain/share-binding.ts).
CREATE TABLE unseal_policy (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  binding    TEXT NOT NULL CHECK (binding IN ('hsm+shares')),
  shares     INTEGER NOT NULL CHECK (shares BETWEEN 1 AND 255),
  threshold  INTEGER NOT NULL CHECK (threshold BETWEEN 1 AND shares),
  created_at TEXT NOT NULL
) STRICT;

-- Secrets the HSM alone opens (the server's TLS identity, which a sealed
-- server needs in order to listen): a one-off data key wrapped by a master
-- key version seals each one. Master-key rotation rewraps these with the
-- keychain keys, in one transaction.
CREATE TABLE hsm_sealed_secrets (
  name               TEXT PRIMARY KEY,
  master_key_version INTEGER NOT NULL,
  mechanism          TEXT NOT NULL,
  wrapped_key        BLOB NOT NULL,
  sealed             BLOB NOT NULL,
  created_at         TEXT NOT NULL
) STRICT;
`;

/**
 * What a dual-controlled request on a key resolved to when it was made (its
 * key id, canonical name and instance): a column of its own rather than a
 * reserved field in `args`, because args are exactly what the client sent
 * (validated again by the operation's schema at execution) and the binding is
 * the server's own finding. Nullable: requests stored before it have none.
 */
const APPROVAL_BINDING_SQL = `
ALTER TABLE approval_requests ADD COLUMN binding TEXT CHECK (binding IS NULL OR json_valid(binding));
`;

const APPROVALS_SQL = `
-- Dual control (domain/approvals): requests waiting for officers' approvals,
-- the votes on them (one per officer per request) and the quorum per class.
CREATE TABLE approval_requests (
  id                 TEXT PRIMARY KEY,
  operation          TEXT NOT NULL,
  args               TEXT NOT NULL CHECK (json_valid(args)),
  dual_control_class TEXT NOT NULL,
  requester          TEXT NOT NULL,
  required           INTEGER NOT NULL CHECK (required >= 1),
  digest             TEXT NOT NULL,
  created_at         TEXT NOT NULL,
  expires_at         TEXT NOT NULL,
  state              TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'executing', 'executed', 'failed', 'denied', 'cancelled', 'expired')),
  result             TEXT CHECK (result IS NULL OR json_valid(result)),
  error              TEXT CHECK (error IS NULL OR json_valid(error)),
  finished_at        TEXT,
  finished_by        TEXT,
  reason             TEXT
) STRICT;
CREATE INDEX approval_requests_open ON approval_requests (expires_at) WHERE state IN ('pending', 'approved');
CREATE INDEX approval_requests_by_requester ON approval_requests (requester, state);

CREATE TABLE approval_votes (
  request_id TEXT NOT NULL REFERENCES approval_requests (id),
  officer    TEXT NOT NULL,
  digest     TEXT NOT NULL,
  at         TEXT NOT NULL,
  PRIMARY KEY (request_id, officer)
) STRICT;

CREATE TABLE dual_control_quorums (
  dual_control_class TEXT PRIMARY KEY,
  required           INTEGER NOT NULL CHECK (required >= 1),
  updated_at         TEXT NOT NULL,
  updated_by         TEXT NOT NULL
) STRICT;
`;

/**
 * Per-instance AES-GCM invocation counts (storage/invocation-store.ts): the
 * mark reserved so far, raised in blocks before the invocations are used,
 * so a restart resumes from it and never counts lower. No foreign key: a
 * count outlives nothing it could mislead.
 */
// Each mark carries a row MAC and is journaled like every authenticated row
// (storage/migration-trust.sql.ts): a count lowered in the file would let
// an instance's random IVs run past the limit.
const GCM_INVOCATIONS_SQL = `
CREATE TABLE gcm_invocations (
  instance_id TEXT PRIMARY KEY,
  reserved    INTEGER NOT NULL CHECK (reserved >= 0),
  row_mac     BLOB NOT NULL
) STRICT;
${journalTriggers('gcm_invocations')}
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'keychain meta, wrapped keychain keys, keys and key instances',
    up: (db) => db.exec(V1_SQL),
  },
  {
    version: 2,
    description: 'clients (certificate identities), grants, sealed system secrets and row MACs',
    up: (db) => db.exec(V2_SQL),
  },
  {
    version: 3,
    description: 'scheduled rollover: next_rollover_at per key',
    up: (db) => db.exec(V3_SQL),
  },
  {
    version: 4,
    description: 'scheduled destruction: destroy_at per instance',
    up: (db) => db.exec(V4_SQL),
  },
  {
    version: 5,
    description: 'key aliases',
    up: (db) => db.exec(V5_SQL),
  },
  {
    version: 6,
    description: 'usage periods: protect-stop and process-stop',
    up: (db) => db.exec(V6_SQL),
  },
  {
    version: 7,
    description: 'audit trail (append-only, hash-chained)',
    up: (db) => db.exec(V7_SQL),
  },
  {
    version: 8,
    description: 'keychain change counter and HSM-signed audit checkpoints',
    up: (db) => db.exec(V8_SQL),
  },
  {
    version: 9,
    description: 'unseal policy (custodian shares) and HSM-sealed secrets (the TLS identity of a sealed server)',
    up: (db) => db.exec(UNSEAL_SQL),
  },
  {
    version: 10,
    description: 'dual control: approval requests, votes and quorums',
    up: (db) => db.exec(APPROVALS_SQL),
  },
  {
    version: 11,
    description: 'dual control binds a request to the key and instance it resolved to',
    up: (db) => db.exec(APPROVAL_BINDING_SQL),
  },
  {
    version: 12,
    description: 'row MACs on clients, grants, approvals, votes and quorums; the trust journal and state (freshness)',
    up: (db) => db.exec(TRUST_SQL),
  },
  {
    version: 13,
    description: 'per-instance AES-GCM invocation counts',
    up: (db) => db.exec(GCM_INVOCATIONS_SQL),
  },
  {
    version: 14,
    description: 'activation dates: an index of PreActive instances waiting for theirs (activated_at)',
    // The activation sweep's query (listDueActivations) would otherwise scan every instance at each check.
    up: (db) => db.exec(`CREATE INDEX key_instances_by_activation_date ON key_instances (activated_at) WHERE state = 'PreActive' AND activated_at IS NOT NULL;`),
  },
  {
    version: 15,
    description: 'kept objects (opaque objects, certificates, public and private keys): what was read from their material at Register',
    // NULL for every key before (their row MACs stay valid: the MAC covers facts only when present, domain/row-mac.ts).
    up: (db) => db.exec(`ALTER TABLE keys ADD COLUMN facts TEXT CHECK (facts IS NULL OR json_valid(facts));`),
  },
  {
    version: 16,
    description: 'process-start dates: when an instance may begin to decrypt (given at creation)',
    // Null in existing rows, and the row MAC covers the field only when set (domain/row-mac.ts): no row is re-MACed.
    up: (db) => db.exec(`ALTER TABLE key_instances ADD COLUMN process_start_at TEXT;`),
  },
  {
    version: 17,
    description: 'facts kept per instance: the origin of its material (generated or imported), its revocation reason, compromise date and compromise occurrence date',
    // Every row before it holds the defaults ('generated', null…), which stay out of the row MAC (domain/row-mac.ts): no re-MAC is needed.
    up: (db) =>
      db.exec(`ALTER TABLE key_instances ADD COLUMN origin TEXT NOT NULL DEFAULT 'generated' CHECK (origin IN ('generated', 'imported'));
ALTER TABLE key_instances ADD COLUMN revocation_reason TEXT;
ALTER TABLE key_instances ADD COLUMN compromised_at TEXT;
ALTER TABLE key_instances ADD COLUMN compromise_occurred_at TEXT;`),
  },
  {
    version: 18,
    description: 'usage limits: the budget (bytes of data or operations) a creator set on an instance; its count is kept with the GCM invocation marks',
    // Every row before it has none (NULL), which stays out of the row MAC (domain/row-mac.ts): no re-MAC is needed.
    up: (db) => db.exec(`ALTER TABLE key_instances ADD COLUMN usage_limit TEXT;`),
  },
  {
    version: 19,
    description: 'KMIP Fresh per instance (whether its material was ever served to a client; false for existing rows: not known, so not claimed) and Sensitive per key (never served in the clear; false for existing keys)',
    // Every row before it holds the defaults (0: not fresh, not sensitive), which stay out of the row MACs (domain/row-mac.ts): no re-MAC is needed.
    up: (db) =>
      db.exec(`ALTER TABLE key_instances ADD COLUMN fresh INTEGER NOT NULL DEFAULT 0 CHECK (fresh IN (0, 1));
ALTER TABLE keys ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0 CHECK (sensitive IN (0, 1));`),
  },
  {
    version: 20,
    description: 'audit sink cursors: where each SIEM sink stands in the trail, signed by the HSM, so a restart resumes delivery where it stopped',
    up: (db) => db.exec(SINK_CURSORS_SQL),
  },
  {
    version: 21,
    description: 'due-work indexes in the sweeps\' order (due date, then id), so a batch reads its page without sorting every due row',
    up: (db) => db.exec(DUE_INDEXES_SQL),
  },
  {
    version: 22,
    description: 'the cluster\'s audit checkpoint signers: the public keys whose checkpoints every node accepts, each row MACed and journaled into the trust set-hash',
    up: (db) => db.exec(AUDIT_SIGNERS_SQL),
  },
  {
    version: 23,
    description: 'the scheduler\'s lease: the node whose sweeps act, its epoch and expiry, the row MACed and journaled into the trust set-hash',
    up: (db) => db.exec(SCHEDULER_LEASE_SQL),
  },
  {
    version: 24,
    description: 'idempotency records of retried writes: per (client, key) the operation, its arguments\' digest and its answer, the row MACed and journaled into the trust set-hash',
    up: (db) => db.exec(IDEMPOTENCY_RECORDS_SQL),
  },
];

export function readSchemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** The last version in `migrations`, after checking they are numbered 1..n. */
export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StorageError('INTERNAL_ERROR', 'schema migrations are not numbered consecutively from 1', {
        details: { index: i, version: m.version },
      });
    }
  });
  return migrations.length;
}

function tooNew(found: number, known: number): StorageError {
  return new StorageError('STORAGE_SCHEMA_TOO_NEW', 'the keychain database was written by a newer Strongroom', {
    details: { schemaVersion: found, knownVersion: known },
  });
}

/**
 * Applies every migration above the database's version, each in its own
 * IMMEDIATE transaction (the version is re-read under the write lock, so two
 * processes opening at once don't both apply one). Returns the versions applied.
 */
export function runMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const latest = latestVersion(migrations);
  const applied: number[] = [];
  for (const migration of migrations) {
    const step = db.transaction(() => {
      const current = readSchemaVersion(db);
      if (current > latest) throw tooNew(current, latest);
      if (current >= migration.version) return;
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
      applied.push(migration.version);
    });
    step.immediate();
  }
  const final = readSchemaVersion(db);
  if (final > latest) throw tooNew(final, latest);
  return applied;
}

/** For read-only connections, which cannot migrate: the schema must be exactly current. */
export function assertSchemaCurrent(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = latestVersion(migrations);
  const found = readSchemaVersion(db);
  if (found > latest) throw tooNew(found, latest);
  if (found < latest) {
    throw new StorageError('STORAGE_ERROR', 'the keychain database schema is older than this Strongroom; open it read-write once to migrate', {
      details: { schemaVersion: found, knownVersion: latest },
    });
  }
}
