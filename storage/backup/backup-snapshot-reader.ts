/**
 * Reads a backup's snapshot (an SQLite keychain file extracted from the
 * backup by domain/backup/backup-verify.ts): the keychain store over it,
 * read-only, for the audit trail and the wrapped keychain keys; its trust
 * journal and state, read only, for the set-hash check (a read-only keychain
 * store has none: it must never fold changes); its facts
 * (snapshot-facts.ts) to compare with the manifest; and every instance that
 * holds sealed material, with what its seal is bound to, to open each one.
 */
import Database from 'better-sqlite3';
import { KeychainStore } from '../keychain-store';
import { mapSqliteError } from '../sqlite-errors';
import { openSqliteStore } from '../sqlite-store';
import { readSnapshotFacts, SnapshotFacts } from './snapshot-facts';
import { SqliteConnection } from '../sqlite-connection';
import { openSqliteTrustSnapshot, SqliteTrustJournal } from '../sqlite-trust-journal';
import { openUntrustedSqlite } from '../sqlite-untrusted-file';
import { TrustJournalStore } from '../trust-journal-store';

/** One sealed instance and the fields its AES-GCM seal is bound to. */
export interface SealedInstanceRow {
  readonly keyId: string;
  readonly instanceId: string;
  readonly instanceName: string;
  readonly version: number;
  readonly algorithm: string;
  readonly sealVersion: number;
  readonly sealed: Buffer;
}

export interface BackupSnapshotReader {
  readonly store: KeychainStore;
  /** The snapshot's trust journal and state, to check (never to write: the connection is read-only). */
  readonly trust: TrustJournalStore;
  facts(): SnapshotFacts;
  /** Every instance holding sealed material, one at a time (bounded memory for any keychain). */
  sealedInstances(): IterableIterator<SealedInstanceRow>;
  close(): void;
}

export function openBackupSnapshot(path: string): BackupSnapshotReader {
  const store = openSqliteStore(path, { readonly: true });
  let db: Database.Database;
  try {
    db = openUntrustedSqlite(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    store.close();
    throw mapSqliteError(err, 'openBackupSnapshot');
  }
  return {
    store,
    trust: new SqliteTrustJournal(new SqliteConnection(db, true), () => openSqliteTrustSnapshot(path)),
    facts: () => readSnapshotFacts(db),
    sealedInstances: () =>
      db
        .prepare(
          `SELECT i.key_id AS keyId, i.id AS instanceId, i.name AS instanceName, i.version, k.algorithm, i.seal_version AS sealVersion, i.sealed_material AS sealed
           FROM key_instances i JOIN keys k ON k.id = i.key_id WHERE i.sealed_material IS NOT NULL`,
        )
        .iterate() as IterableIterator<SealedInstanceRow>,
    close: () => {
      db.close();
      store.close();
    },
  };
}
