/** Schema version 1 (storage/migrations.ts): keychain meta, wrapped keychain keys, keys and key instances. Applied once; never edited. */
export const V1_SQL = `
CREATE TABLE keychain_meta (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  keychain_id  TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  token_label  TEXT NOT NULL,
  token_serial TEXT NOT NULL
) STRICT;

CREATE TABLE keychain_keys (
  version            INTEGER PRIMARY KEY CHECK (version >= 1),
  master_key_version INTEGER NOT NULL,
  mechanism          TEXT NOT NULL,
  wrapped            BLOB NOT NULL,
  created_at         TEXT NOT NULL
) STRICT;

-- current_instance_id points into key_instances, which points back here: the
-- reference is checked at COMMIT so a key and its first instance can be
-- inserted in one transaction.
CREATE TABLE keys (
  id                  TEXT PRIMARY KEY,
  namespace           TEXT NOT NULL,
  name                TEXT NOT NULL,
  algorithm           TEXT NOT NULL,
  usage_mask          INTEGER NOT NULL,
  description         TEXT NOT NULL,
  owner               TEXT NOT NULL,
  custom_attributes   TEXT NOT NULL CHECK (json_valid(custom_attributes)),
  rollover_policy     TEXT NOT NULL CHECK (rollover_policy IN ('auto', 'manual', 'none')),
  cryptoperiod        TEXT,
  current_instance_id TEXT NOT NULL REFERENCES key_instances (id) DEFERRABLE INITIALLY DEFERRED,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  UNIQUE (namespace, name)
) STRICT;
CREATE INDEX keys_by_algorithm ON keys (algorithm);
CREATE INDEX keys_by_current_instance ON keys (current_instance_id);

CREATE TABLE key_instances (
  id              TEXT PRIMARY KEY,
  key_id          TEXT NOT NULL REFERENCES keys (id),
  name            TEXT NOT NULL UNIQUE,
  version         INTEGER NOT NULL CHECK (version >= 1),
  state           TEXT NOT NULL,
  sealed_material BLOB,
  seal_version    INTEGER NOT NULL,
  created_at      TEXT NOT NULL,
  activated_at    TEXT,
  deactivated_at  TEXT,
  destroyed_at    TEXT,
  UNIQUE (key_id, version)
) STRICT;
-- UNIQUE (key_id, version) also serves listInstances and the FK from keys.
CREATE INDEX key_instances_by_seal_version ON key_instances (seal_version);
`;
