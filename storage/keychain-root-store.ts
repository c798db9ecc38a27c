/**
 * The root capability of the keychain store: the rows everything else hangs
 * from. The keychain's meta row (its id and the HSM token it belongs to),
 * every version of the keychain key as wrapped by the HSM master key, the
 * unseal policy (HSM alone, or HSM plus custodian shares), and the secrets
 * the HSM alone opens (share commitments, the TLS keys a sealed server
 * needs).
 *
 * Why it is its own capability: these are the rows that unsealing,
 * initialisation and master-key rotation read and write, and nothing else
 * does; each of those consumers (domain/keychain-key.ts,
 * domain/unseal/, domain/master-key-rotation.ts) takes this port alone (with
 * TransactionalStore when it writes several rows at once) and so never sees
 * a key row. Rotation rewraps keychain keys and secrets in one transaction:
 * all or nothing. The general contract is in keychain-store.ts.
 */
import { HsmSealedSecretRecord, KeychainMetaRecord, UnsealPolicyRecord, WrappedKeychainKeyRecord } from './records';

export interface KeychainRootStore {
  /** Null until initialize() ran. */
  getMeta(): KeychainMetaRecord | null;

  /** Writes the meta row and the first wrapped keychain key together; KEYCHAIN_ALREADY_INITIALIZED (a StorageError) if meta exists. */
  initialize(meta: KeychainMetaRecord, firstKey: WrappedKeychainKeyRecord): void;

  /** All versions of the wrapped keychain key, ascending by version. */
  listWrappedKeychainKeys(): WrappedKeychainKeyRecord[];

  /** Adds a new wrapped keychain key version (master-key rotation rewraps); STORAGE_ERROR if the version exists. */
  putWrappedKeychainKey(record: WrappedKeychainKeyRecord): void;

  /**
   * Replaces the HSM wrapping of keychain key `version` (master-key
   * rotation); STORAGE_ERROR if that version does not exist.
   */
  rewrapKeychainKey(version: number, masterKeyVersion: number, wrapped: Buffer): void;

  /** How the keychain unseals; null: with the HSM alone (every keychain made before shares existed). */
  getUnsealPolicy(): UnsealPolicyRecord | null;

  /** Writes the unseal policy once (init); KEYCHAIN_ALREADY_INITIALIZED if one exists. */
  putUnsealPolicy(policy: UnsealPolicyRecord): void;

  /** Secrets the HSM alone opens, ordered by name. */
  listHsmSealedSecrets(): HsmSealedSecretRecord[];
  getHsmSealedSecret(name: string): HsmSealedSecretRecord | null;
  /** Creates or replaces the secret of that name. */
  putHsmSealedSecret(record: HsmSealedSecretRecord): void;
  /** Replaces the HSM wrapping of a secret's data key (master-key rotation); STORAGE_ERROR if absent. */
  rewrapHsmSealedSecret(name: string, masterKeyVersion: number, wrappedKey: Buffer): void;
}
