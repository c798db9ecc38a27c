/**
 * The root capability (storage/keychain-root-store.ts) in memory: the meta
 * row, wrapped keychain keys, the unseal policy and HSM-sealed secrets, with
 * the CHECK constraints of the SQLite schema (positive versions, a sane
 * share threshold) and the same codes. Buffers are copied in and out.
 */
import { StorageError } from '../common/errors';
import { KeychainRootStore } from './keychain-root-store';
import { constraint, copyHsmSecret, copyWrapped, MemoryTables } from './memory-tables';
import { HsmSealedSecretRecord, KeychainMetaRecord, UnsealPolicyRecord, WrappedKeychainKeyRecord } from './records';

export class MemoryKeychainRoot implements KeychainRootStore {
  constructor(private readonly tables: MemoryTables) {}

  private get state() {
    return this.tables.current;
  }

  getMeta(): KeychainMetaRecord | null {
    this.tables.assertOpen();
    return this.state.meta === null ? null : { ...this.state.meta };
  }

  initialize(meta: KeychainMetaRecord, firstKey: WrappedKeychainKeyRecord): void {
    this.tables.transaction(() => {
      if (this.state.meta !== null) {
        throw new StorageError('KEYCHAIN_ALREADY_INITIALIZED', 'keychain store: the keychain is already initialized');
      }
      this.state.meta = { ...meta };
      this.putWrappedKeychainKey(firstKey);
    });
  }

  listWrappedKeychainKeys(): WrappedKeychainKeyRecord[] {
    this.tables.assertOpen();
    return [...this.state.wrapped.values()].sort((a, b) => a.version - b.version).map(copyWrapped);
  }

  putWrappedKeychainKey(record: WrappedKeychainKeyRecord): void {
    this.tables.assertOpen();
    this.tables.changed();
    if (!(Number.isSafeInteger(record.version) && record.version >= 1)) {
      throw constraint('keychain key version must be a positive integer', { version: record.version });
    }
    if (this.state.wrapped.has(record.version)) throw constraint('keychain key version exists', { version: record.version });
    this.state.wrapped.set(record.version, copyWrapped(record));
  }

  rewrapKeychainKey(version: number, masterKeyVersion: number, wrapped: Buffer): void {
    this.tables.assertOpen();
    const old = this.state.wrapped.get(version);
    if (!old) throw constraint('no keychain key of that version', { version });
    this.tables.changed();
    this.state.wrapped.set(version, copyWrapped({ ...old, masterKeyVersion, wrapped }));
  }

  getUnsealPolicy(): UnsealPolicyRecord | null {
    this.tables.assertOpen();
    return this.state.unsealPolicy === null ? null : { ...this.state.unsealPolicy };
  }

  putUnsealPolicy(policy: UnsealPolicyRecord): void {
    this.tables.assertOpen();
    if (this.state.unsealPolicy !== null) throw new StorageError('KEYCHAIN_ALREADY_INITIALIZED', 'keychain store: the unseal policy is already set');
    if (!(Number.isSafeInteger(policy.shares) && Number.isSafeInteger(policy.threshold) && policy.threshold >= 1 && policy.threshold <= policy.shares && policy.shares <= 255)) {
      throw constraint('unseal policy needs 1 <= threshold <= shares <= 255', { shares: policy.shares, threshold: policy.threshold });
    }
    this.tables.changed();
    this.state.unsealPolicy = { ...policy };
  }

  listHsmSealedSecrets(): HsmSealedSecretRecord[] {
    this.tables.assertOpen();
    return [...this.state.hsmSecrets.keys()].sort().map((name) => copyHsmSecret(this.state.hsmSecrets.get(name) as HsmSealedSecretRecord));
  }

  getHsmSealedSecret(name: string): HsmSealedSecretRecord | null {
    this.tables.assertOpen();
    const found = this.state.hsmSecrets.get(name);
    return found ? copyHsmSecret(found) : null;
  }

  putHsmSealedSecret(record: HsmSealedSecretRecord): void {
    this.tables.assertOpen();
    this.tables.changed();
    this.state.hsmSecrets.set(record.name, copyHsmSecret(record));
  }

  rewrapHsmSealedSecret(name: string, masterKeyVersion: number, wrappedKey: Buffer): void {
    this.tables.assertOpen();
    const old = this.state.hsmSecrets.get(name);
    if (!old) throw constraint('no HSM-sealed secret of that name', { name });
    this.tables.changed();
    this.state.hsmSecrets.set(name, copyHsmSecret({ ...old, masterKeyVersion, wrappedKey }));
  }
}
