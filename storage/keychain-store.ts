/**
 * The keychain store port: persistence of keys, instances and the wrapped
 * keychain key. Two implementations share one conformance suite
 * (test/storage/store-conformance.ts): SQLite on better-sqlite3
 * (storage/sqlite-store.ts) and an in-memory one (storage/memory-store.ts).
 *
 * Every method that changes more than one row does it in one transaction: it
 * either all happens or none of it does. Methods are synchronous: better-sqlite3
 * is synchronous and each call is a few microseconds on the hot path.
 *
 * Errors are StorageError with codes STORAGE_ERROR, STORAGE_FULL,
 * STORAGE_BUSY, STORAGE_CORRUPT, STORAGE_SCHEMA_TOO_NEW; a unique-name clash
 * is KEY_EXISTS. Lookups of absent rows return null: deciding that absence is
 * an error is the domain's job.
 */
import {
  InstanceRecord,
  InstanceStateChange,
  KeyFilter,
  KeychainMetaRecord,
  KeyRecord,
  WrappedKeychainKeyRecord,
} from './records';

export interface KeychainStore {
  /** Null until initialize() ran. */
  getMeta(): KeychainMetaRecord | null;

  /** Writes the meta row and the first wrapped keychain key together; KEYCHAIN_ALREADY_INITIALIZED if meta exists. */
  initialize(meta: KeychainMetaRecord, firstKey: WrappedKeychainKeyRecord): void;

  /** All versions of the wrapped keychain key, ascending by version. */
  listWrappedKeychainKeys(): WrappedKeychainKeyRecord[];

  /** Adds a new wrapped keychain key version (master-key rotation rewraps). */
  putWrappedKeychainKey(record: WrappedKeychainKeyRecord): void;

  /** Inserts a key and its first instance atomically; KEY_EXISTS on a (namespace, name) clash. */
  createKey(key: KeyRecord, firstInstance: InstanceRecord): void;

  /**
   * Inserts `instance` and makes it the key's current instance atomically,
   * applying `previousChange` (e.g. deactivating the old current one) in the
   * same transaction. Fails with STORAGE_ERROR if `instance.version` is taken.
   */
  addCurrentInstance(instance: InstanceRecord, updatedAt: string, previousChange?: InstanceStateChange): void;

  getKeyById(id: string): KeyRecord | null;
  getKeyByName(namespace: string, name: string): KeyRecord | null;
  /** Keys ordered by namespace then name. */
  listKeys(filter?: KeyFilter): KeyRecord[];
  countKeys(): number;

  getInstanceById(id: string): InstanceRecord | null;
  getInstanceByName(name: string): InstanceRecord | null;
  /** A key's instances, ascending by version. */
  listInstances(keyId: string): InstanceRecord[];

  updateInstanceState(change: InstanceStateChange): void;

  /** Runs fn in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;

  /** Closes the connection (a WAL checkpoint happens on close). Idempotent. */
  close(): void;
}
