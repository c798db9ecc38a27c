/**
 * The root capability (storage/keychain-root-store.ts) on the keychain's
 * shared connection (SQLite, or PostgreSQL through the
 * statement facade: storage/capability-connection.ts): the meta row, wrapped keychain keys, the unseal policy
 * and HSM-sealed secrets. Single-row rules the schema cannot express (meta
 * and unseal policy written once) are checked inside the write transaction.
 */
import { StorageError } from '../common/errors';
import { KeychainRootStore } from './keychain-root-store';
import { HsmSealedSecretRecord, KeychainMetaRecord, UnsealPolicyRecord, WrappedKeychainKeyRecord } from './records';
import { CapabilityConnection, Statements } from './capability-connection';

export class SqliteKeychainRoot implements KeychainRootStore {
  private readonly stmt: Statements;

  constructor(private readonly conn: CapabilityConnection) {
    this.stmt = conn.stmt;
  }

  getMeta(): KeychainMetaRecord | null {
    return this.conn.read('getMeta', () => (this.stmt.getMeta.get() as KeychainMetaRecord | undefined) ?? null);
  }

  initialize(meta: KeychainMetaRecord, firstKey: WrappedKeychainKeyRecord): void {
    this.conn.write('initialize', () => {
      if (this.stmt.getMeta.get() !== undefined) {
        throw new StorageError('KEYCHAIN_ALREADY_INITIALIZED', 'keychain store: the keychain is already initialized');
      }
      this.stmt.insertMeta.run(meta);
      this.stmt.insertWrapped.run(firstKey);
    });
  }

  listWrappedKeychainKeys(): WrappedKeychainKeyRecord[] {
    return this.conn.read('listWrappedKeychainKeys', () => this.stmt.listWrapped.all() as WrappedKeychainKeyRecord[]);
  }

  putWrappedKeychainKey(record: WrappedKeychainKeyRecord): void {
    this.conn.write('putWrappedKeychainKey', () => this.stmt.insertWrapped.run(record));
  }

  rewrapKeychainKey(version: number, masterKeyVersion: number, wrapped: Buffer): void {
    this.conn.write('rewrapKeychainKey', () => {
      if (this.stmt.rewrapKeychainKey.run(masterKeyVersion, wrapped, version).changes === 0) {
        throw new StorageError('STORAGE_ERROR', 'keychain store: no keychain key of that version', { details: { version } });
      }
    });
  }

  getUnsealPolicy(): UnsealPolicyRecord | null {
    return this.conn.read('getUnsealPolicy', () => (this.stmt.getUnsealPolicy.get() as UnsealPolicyRecord | undefined) ?? null);
  }

  putUnsealPolicy(policy: UnsealPolicyRecord): void {
    this.conn.write('putUnsealPolicy', () => {
      if (this.stmt.getUnsealPolicy.get() !== undefined) {
        throw new StorageError('KEYCHAIN_ALREADY_INITIALIZED', 'keychain store: the unseal policy is already set');
      }
      this.stmt.insertUnsealPolicy.run(policy);
    });
  }

  listHsmSealedSecrets(): HsmSealedSecretRecord[] {
    return this.conn.read('listHsmSealedSecrets', () => this.stmt.listHsmSecrets.all() as HsmSealedSecretRecord[]);
  }

  getHsmSealedSecret(name: string): HsmSealedSecretRecord | null {
    return this.conn.read('getHsmSealedSecret', () => (this.stmt.getHsmSecret.get(name) as HsmSealedSecretRecord | undefined) ?? null);
  }

  putHsmSealedSecret(record: HsmSealedSecretRecord): void {
    this.conn.write('putHsmSealedSecret', () => this.stmt.putHsmSecret.run(record));
  }

  rewrapHsmSealedSecret(name: string, masterKeyVersion: number, wrappedKey: Buffer): void {
    this.conn.write('rewrapHsmSealedSecret', () => {
      if (this.stmt.rewrapHsmSecret.run(masterKeyVersion, wrappedKey, name).changes === 0) {
        throw new StorageError('STORAGE_ERROR', 'keychain store: no HSM-sealed secret of that name', { details: { name } });
      }
    });
  }
}
