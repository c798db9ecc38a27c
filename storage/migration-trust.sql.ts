/**
 * Schema 12: authenticated, fresh authorisation state (domain/trust/).
 *
 * Every row the server decides from carries an HMAC (`row_mac`) under a key
 * derived from the keychain key: keys, instances and aliases had one; this
 * adds it to clients, grants, approval requests, votes and quorums.
 *
 * Freshness: triggers copy every change of a `row_mac` (insert, update,
 * delete) into `trust_journal`, inside the writing transaction; before that
 * transaction commits the domain folds the journal into a keyed set-hash of
 * all authenticated rows and bumps a counter, both stored AES-GCM sealed in
 * `trust_state`. A row (or the whole set) written back from an older copy no
 * longer matches that set-hash. Triggers rather than code in each writer:
 * a write path nobody remembered is still journaled. Someone with the file
 * can drop them; the next full check (unseal, checkpoint) then finds the
 * set-hash no longer matches, which is the point: it fails closed.
 */

/** The tables schema 12 journals (fixed: an applied migration never changes). */
const SCHEMA_12_TABLES = ['keys', 'key_instances', 'aliases', 'clients', 'grants', 'approval_requests', 'approval_votes', 'dual_control_quorums'] as const;

/** The authenticated tables of schema 21 (fixed: PostgreSQL's base schema journals exactly these). */
export const SCHEMA_21_AUTHENTICATED_TABLES = [...SCHEMA_12_TABLES, 'gcm_invocations'] as const;

/** The tables whose rows carry a `row_mac` the set-hash covers, by the label the set-hash uses (13 adds gcm_invocations, 22 audit_signers, 23 scheduler_lease, 24 idempotency_records). */
export const AUTHENTICATED_TABLES = [...SCHEMA_21_AUTHENTICATED_TABLES, 'audit_signers', 'scheduler_lease', 'idempotency_records'] as const;
export type AuthenticatedTable = (typeof AUTHENTICATED_TABLES)[number];

const NEW_MAC_COLUMNS = ['clients', 'grants', 'approval_requests', 'approval_votes', 'dual_control_quorums'];

export function journalTriggers(table: string): string {
  return `
CREATE TRIGGER ${table}_trust_insert AFTER INSERT ON ${table} BEGIN
  INSERT INTO trust_journal (tbl, old_mac, new_mac) VALUES ('${table}', NULL, NEW.row_mac);
END;
CREATE TRIGGER ${table}_trust_update AFTER UPDATE ON ${table} WHEN OLD.row_mac IS NOT NEW.row_mac BEGIN
  INSERT INTO trust_journal (tbl, old_mac, new_mac) VALUES ('${table}', OLD.row_mac, NEW.row_mac);
END;
CREATE TRIGGER ${table}_trust_delete AFTER DELETE ON ${table} BEGIN
  INSERT INTO trust_journal (tbl, old_mac, new_mac) VALUES ('${table}', OLD.row_mac, NULL);
END;`;
}

export const TRUST_SQL = `
${NEW_MAC_COLUMNS.map((t) => `ALTER TABLE ${t} ADD COLUMN row_mac BLOB NOT NULL DEFAULT X'';`).join('\n')}

-- Changes of authenticated rows not yet folded into trust_state: empty
-- outside a writing transaction (a row here at any other time was not put
-- there by the appliance).
CREATE TABLE trust_journal (
  seq     INTEGER PRIMARY KEY,
  tbl     TEXT NOT NULL,
  old_mac BLOB,
  new_mac BLOB
) STRICT;

-- The set-hash of every authenticated row and the change counter, sealed
-- under a key derived from the keychain key (the counter is also the AAD).
CREATE TABLE trust_state (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  counter    INTEGER NOT NULL CHECK (counter >= 0),
  sealed     BLOB NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
${SCHEMA_12_TABLES.map(journalTriggers).join('\n')}
`;
