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
 * is KEY_EXISTS. Any other broken constraint (a duplicate id, instance name or
 * version, an instance of a missing key, a current instance that does not
 * exist) is STORAGE_ERROR and changes nothing. Lookups of absent rows return
 * null: deciding that absence is an error is the domain's job; but a state
 * change naming an absent instance is INSTANCE_NOT_FOUND (never a silent no-op).
 * Returned records are the caller's own: mutating a returned Buffer or
 * attribute map never changes stored state, nor does mutating a passed one
 * after the call. Any call after close() is STORAGE_ERROR.
 */
import { AuditStore } from './audit-store';
import { ApprovalStore } from './approval-store';
import { DirectoryStore } from './directory-store';
import {
  InstanceRecord,
  InstanceStateChange,
  KeyFilter,
  KeychainMetaRecord,
  KeyPointerUpdate,
  KeyPolicyUpdate,
  DueKey,
  NamespaceSummary,
  DueProcessStop,
  AliasRecord,
  DueDestruction,
  KeyRecord,
  WrappedKeychainKeyRecord,
  UnsealPolicyRecord,
  HsmSealedSecretRecord,
} from './records';

export interface KeychainStore {
  /** Clients, grants and sealed system secrets, in the same database and transactions. */
  readonly directory: DirectoryStore;
  /** The hash-chained audit trail, in the same database. */
  readonly audit: AuditStore;
  /** Dual-control approval requests, votes and quorums, in the same database and transactions. */
  readonly approvals: ApprovalStore;

  /**
   * Changes whenever anything in the keychain changed, by this connection or
   * another process's (a counter every keychain write bumps, for SQLite);
   * audit appends do not move it (no cache depends on them). Caches compare it to
   * know when to drop what they hold. Cheap: one call per request is fine.
   */
  changeStamp(): string;

  /** Commits made through this store object: no I/O, for callers that learn of other processes' changes some other way. */
  ownCommitCount(): number;

  /** Null until initialize() ran. */
  getMeta(): KeychainMetaRecord | null;

  /** Writes the meta row and the first wrapped keychain key together; KEYCHAIN_ALREADY_INITIALIZED (a StorageError) if meta exists. */
  initialize(meta: KeychainMetaRecord, firstKey: WrappedKeychainKeyRecord): void;

  /** All versions of the wrapped keychain key, ascending by version. */
  listWrappedKeychainKeys(): WrappedKeychainKeyRecord[];

  /** Adds a new wrapped keychain key version (master-key rotation rewraps); STORAGE_ERROR if the version exists. */
  putWrappedKeychainKey(record: WrappedKeychainKeyRecord): void;

  /** Inserts a key and its first instance atomically; KEY_EXISTS on a (namespace, name) clash. */
  createKey(key: KeyRecord, firstInstance: InstanceRecord): void;

  /**
   * Inserts `instance` and makes it the key's current instance atomically,
   * applying `previousChange` (e.g. deactivating the old current one) in the
   * same transaction. Fails with STORAGE_ERROR if `instance.version` is taken,
   * INSTANCE_NOT_FOUND if `previousChange` names no instance; either way nothing changes.
   */
  addCurrentInstance(instance: InstanceRecord, keyUpdate: KeyPointerUpdate, previousChange?: InstanceStateChange): void;

  getKeyById(id: string): KeyRecord | null;
  getKeyByName(namespace: string, name: string): KeyRecord | null;
  /** Keys ordered by namespace then name (UTF-8 byte order); INVALID_ARGUMENT for a negative or fractional limit/offset. */
  listKeys(filter?: KeyFilter): KeyRecord[];
  countKeys(): number;

  getInstanceById(id: string): InstanceRecord | null;
  getInstanceByName(name: string): InstanceRecord | null;
  /** A key's instances, ascending by version. */
  listInstances(keyId: string): InstanceRecord[];

  /** Fields absent from `change` keep their value; INSTANCE_NOT_FOUND if no such instance. */
  updateInstanceState(change: InstanceStateChange): void;

  /**
   * Points a key's current instance at an existing instance of it (undo of
   * a renewal), applying `changes` to instances in the same transaction.
   */
  moveCurrentInstance(keyId: string, instanceId: string, keyUpdate: KeyPointerUpdate, changes: readonly InstanceStateChange[]): void;

  /** Every namespace with its key count and how many keys still have an instance that is not destroyed. */
  listNamespaces(): NamespaceSummary[];
  /** Deletes a namespace's keys, their instances and the aliases pointing at them, in one transaction. */
  deleteNamespace(namespace: string): number;

  /** Creates or moves an alias; STORAGE_ERROR when its key does not exist. */
  putAlias(alias: AliasRecord): void;
  getAlias(alias: string): AliasRecord | null;
  /** ALIAS_NOT_FOUND when absent; returns what was removed. */
  deleteAlias(alias: string): AliasRecord;
  /** Ordered by alias. */
  listAliases(): AliasRecord[];

  /** Changes a key's rollover policy; KEY_NOT_FOUND when absent. */
  updateKeyPolicy(update: KeyPolicyUpdate): void;

  /** Ids of Deactivated instances with material, not current, no destruction pending, deactivated at or before `beforeIso`. */
  listRetentionExpired(beforeIso: string, limit: number): string[];

  /** Active instances whose process-stop date is at or before `atIso`, soonest first, at most `limit`. */
  listDueProcessStops(atIso: string, limit: number): DueProcessStop[];

  /** Instances whose scheduled destruction is at or before `atIso`, soonest first, at most `limit`. */
  listDueDestructions(atIso: string, limit: number): DueDestruction[];

  /** Keys whose next rollover is at or before `atIso`, soonest first, at most `limit`. */
  listDueKeys(atIso: string, limit: number): DueKey[];

  /**
   * Runs fn in one transaction and returns its result; if fn throws, all of
   * it is undone and the error rethrown as is. A nested call is a savepoint:
   * if it throws and the outer fn catches that, only the inner part is undone.
   * fn must be synchronous (returning a promise is a TypeError).
   */
  transaction<T>(fn: () => T): T;

  /** Closes the connection (a WAL checkpoint happens on close). Idempotent. */
  close(): void;

  /** How the keychain unseals; null: with the HSM alone (every keychain made before shares existed). */
  getUnsealPolicy(): UnsealPolicyRecord | null;

  /** Writes the unseal policy once (init); KEYCHAIN_ALREADY_INITIALIZED if one exists. */
  putUnsealPolicy(policy: UnsealPolicyRecord): void;

  /**
   * Replaces the HSM wrapping of keychain key `version` (master-key
   * rotation); STORAGE_ERROR if that version does not exist.
   */
  rewrapKeychainKey(version: number, masterKeyVersion: number, wrapped: Buffer): void;

  /** Secrets the HSM alone opens, ordered by name. */
  listHsmSealedSecrets(): HsmSealedSecretRecord[];
  getHsmSealedSecret(name: string): HsmSealedSecretRecord | null;
  /** Creates or replaces the secret of that name. */
  putHsmSealedSecret(record: HsmSealedSecretRecord): void;
  /** Replaces the HSM wrapping of a secret's data key (master-key rotation); STORAGE_ERROR if absent. */
  rewrapHsmSealedSecret(name: string, masterKeyVersion: number, wrappedKey: Buffer): void;
}
