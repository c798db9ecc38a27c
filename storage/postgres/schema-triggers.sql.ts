/**
 * The functions and triggers of the PostgreSQL keychain schema
 * (schema.sql.ts), each the counterpart of something SQLite does:
 *
 * - json_valid(text): the CHECKs' test, false (not an error) for text that is
 *   not JSON, so a bad value fails as a CHECK violation (23514) the way
 *   SQLite's CHECK (json_valid(x)) fails;
 * - the trust journal (storage/migration-trust.sql.ts): one row-level AFTER
 *   trigger function, attached to every authenticated table under SQLite's
 *   trigger names, writes the same journal rows SQLite's triggers write
 *   (table label, old MAC, new MAC; an update only when the MAC changed);
 * - the append-only audit trail and checkpoints: BEFORE UPDATE / DELETE
 *   triggers that refuse, as SQLite's RAISE(ABORT);
 * - TRUNCATE, which SQLite lacks and which fires no row trigger, is refused
 *   on every journaled and append-only table: it would empty a table
 *   without a journal entry (the next full check would find it, but the
 *   appliance never truncates, so refusing costs nothing);
 * - the keychain change counter (keychain_changes): SQLite's connection code
 *   bumps it in every keychain write (storage/sqlite-connection.ts write());
 *   here a statement-level trigger on every keychain table bumps it once per
 *   transaction, so that a write from any node, or by a path nobody
 *   remembered, moves it. Audit appends, checkpoints, sink cursors,
 *   invocation marks and the trust journal/state do not (as in SQLite,
 *   where those writes pass isKeychainChange = false or run inside a
 *   keychain write that counts already).
 *
 * Trigger functions pin their search_path at creation, so the tables they
 * write are the schema's own whatever the session's search_path.
 */
import { SCHEMA_21_AUTHENTICATED_TABLES } from '../migration-trust.sql';

/** Tables whose every write is a keychain change (SQLite: written through SqliteConnection.write with isKeychainChange). */
export const KEYCHAIN_CHANGE_TABLES = [
  'keychain_meta',
  'keychain_keys',
  'keys',
  'key_instances',
  'aliases',
  'clients',
  'grants',
  'system_secrets',
  'unseal_policy',
  'hsm_sealed_secrets',
  'approval_requests',
  'approval_votes',
  'dual_control_quorums',
] as const;

/** Append-only tables and the message their refusals carry (SQLite's RAISE(ABORT) texts). */
export const APPEND_ONLY_TABLES: ReadonlyArray<readonly [table: string, message: string]> = [
  ['audit_events', 'the audit trail is append-only'],
  ['audit_checkpoints', 'audit checkpoints are append-only'],
];

/** Created before the tables: their CHECKs call json_valid. */
export const FUNCTIONS_SQL = `
CREATE FUNCTION json_valid(doc text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
  PERFORM doc::json;
  RETURN true;
EXCEPTION WHEN invalid_text_representation OR invalid_parameter_value THEN
  RETURN false;
END $$;

-- One journal row per change of an authenticated row; TG_ARGV[0] is the
-- table's label in the set-hash (its name, as SQLite's triggers write it).
CREATE FUNCTION trust_journal_row() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO trust_journal (tbl, old_mac, new_mac) VALUES (TG_ARGV[0], NULL, NEW.row_mac);
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO trust_journal (tbl, old_mac, new_mac) VALUES (TG_ARGV[0], OLD.row_mac, NEW.row_mac);
  ELSE
    INSERT INTO trust_journal (tbl, old_mac, new_mac) VALUES (TG_ARGV[0], OLD.row_mac, NULL);
  END IF;
  RETURN NULL;
END $$;

-- Refuses the statement with TG_ARGV[0] as the reason (integrity class 23,
-- which the bridge maps to STORAGE_ERROR as SQLite's constraint errors).
CREATE FUNCTION refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = TG_ARGV[0];
END $$;

-- Once per transaction (the mark is a transaction-local setting, undone with
-- a rolled-back savepoint like the update itself): the counter only has to
-- differ after a change, and updating one row once per statement would
-- grow a chain of row versions a bulk transaction then walks on every bump.
CREATE FUNCTION keychain_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF current_setting('strongroom.keychain_changed_in', true) IS DISTINCT FROM pg_current_xact_id()::text THEN
    UPDATE keychain_changes SET counter = counter + 1 WHERE id = 1;
    PERFORM set_config('strongroom.keychain_changed_in', pg_current_xact_id()::text, true);
  END IF;
  RETURN NULL;
END $$;
`;

/** The trust journal's triggers on one authenticated table (used again by later upgrades: pg-upgrades.ts). */
export function journalTriggers(table: string): string {
  return `
CREATE TRIGGER ${table}_trust_insert AFTER INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION trust_journal_row('${table}');
CREATE TRIGGER ${table}_trust_update AFTER UPDATE ON ${table} FOR EACH ROW WHEN (OLD.row_mac IS DISTINCT FROM NEW.row_mac) EXECUTE FUNCTION trust_journal_row('${table}');
CREATE TRIGGER ${table}_trust_delete AFTER DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION trust_journal_row('${table}');
CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('TRUNCATE would bypass the trust journal: delete the rows instead');`;
}

function appendOnlyTriggers([table, message]: readonly [string, string]): string {
  return `
CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_change('${message}');
CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_change('${message}');
CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('${message}');`;
}

/** The change counter's trigger on one keychain table (used again by later upgrades). */
export function changeCounterTrigger(table: string): string {
  return `
CREATE TRIGGER ${table}_keychain_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION keychain_changed();`;
}

/** Created after the tables. */
export const TRIGGERS_SQL = [
  ...SCHEMA_21_AUTHENTICATED_TABLES.map(journalTriggers),
  ...APPEND_ONLY_TABLES.map(appendOnlyTriggers),
  ...KEYCHAIN_CHANGE_TABLES.map(changeCounterTrigger),
].join('\n');
