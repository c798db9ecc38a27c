/**
 * The in-memory keychain store: the fast fake of storage/keychain-store.ts
 * for unit tests, held to the same conformance suite as SQLite. It enforces
 * what the SQLite schema enforces (unique ids, names and versions; instances
 * belong to an existing key; a key's current instance exists) with the same
 * error codes. Buffers are copied in and out, so no caller can mutate stored
 * state. transaction() snapshots the maps and restores them on throw; nested
 * calls snapshot too, matching SQLite savepoints.
 */
import { StorageError } from '../common/errors';
import { KeychainStore } from './keychain-store';
import { MemoryDirectory } from './memory-directory';
import { MemoryAudit } from './memory-audit';
import { MemoryApprovals } from './memory-approvals';
import { compareKeys, fullName, globToRegExp, validateKeyFilter } from './key-filter';
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
  applyInstanceChange,
  UnsealPolicyRecord,
  HsmSealedSecretRecord,
} from './records';

interface State {
  meta: KeychainMetaRecord | null;
  wrapped: Map<number, WrappedKeychainKeyRecord>;
  keys: Map<string, KeyRecord>;
  /** `namespace\0name` -> key id. */
  keyIdByName: Map<string, string>;
  instances: Map<string, InstanceRecord>;
  instanceIdByName: Map<string, string>;
  aliases: Map<string, AliasRecord>;
  unsealPolicy: UnsealPolicyRecord | null;
  hsmSecrets: Map<string, HsmSealedSecretRecord>;
}

const nameKey = (namespace: string, name: string): string => `${namespace}\u0000${name}`;

function copyKey(key: KeyRecord): KeyRecord {
  return { ...key, customAttributes: { ...key.customAttributes }, rowMac: Buffer.from(key.rowMac) };
}

function copyInstance(instance: InstanceRecord): InstanceRecord {
  return {
    ...instance,
    sealedMaterial: instance.sealedMaterial === null ? null : Buffer.from(instance.sealedMaterial),
    rowMac: Buffer.from(instance.rowMac),
  };
}

function copyWrapped(record: WrappedKeychainKeyRecord): WrappedKeychainKeyRecord {
  return { ...record, wrapped: Buffer.from(record.wrapped) };
}

function copyHsmSecret(record: HsmSealedSecretRecord): HsmSealedSecretRecord {
  return { ...record, wrappedKey: Buffer.from(record.wrappedKey), sealed: Buffer.from(record.sealed) };
}

function constraint(what: string, details: Record<string, string | number>): StorageError {
  return new StorageError('STORAGE_ERROR', `keychain store: ${what}`, { details });
}

function snapshot(state: State): State {
  return {
    meta: state.meta,
    wrapped: new Map(state.wrapped),
    keys: new Map(state.keys),
    keyIdByName: new Map(state.keyIdByName),
    instances: new Map(state.instances),
    instanceIdByName: new Map(state.instanceIdByName),
    aliases: new Map(state.aliases),
    unsealPolicy: state.unsealPolicy,
    hsmSecrets: new Map(state.hsmSecrets),
  };
}

export class MemoryStore implements KeychainStore {
  private changes = 0;
  // Audit appends are not keychain changes (no cache depends on them).
  readonly audit = new MemoryAudit();
  readonly directory = new MemoryDirectory(() => this.changes++);
  readonly approvals = new MemoryApprovals(() => this.changes++);
  private state: State = {
    meta: null,
    wrapped: new Map(),
    keys: new Map(),
    keyIdByName: new Map(),
    instances: new Map(),
    instanceIdByName: new Map(),
    aliases: new Map(),
    unsealPolicy: null,
    hsmSecrets: new Map(),
  };
  private closed = false;

  getMeta(): KeychainMetaRecord | null {
    this.assertOpen();
    return this.state.meta === null ? null : { ...this.state.meta };
  }

  initialize(meta: KeychainMetaRecord, firstKey: WrappedKeychainKeyRecord): void {
    this.transaction(() => {
      if (this.state.meta !== null) {
        throw new StorageError('KEYCHAIN_ALREADY_INITIALIZED', 'keychain store: the keychain is already initialized');
      }
      this.state.meta = { ...meta };
      this.putWrappedKeychainKey(firstKey);
    });
  }

  listWrappedKeychainKeys(): WrappedKeychainKeyRecord[] {
    this.assertOpen();
    return [...this.state.wrapped.values()].sort((a, b) => a.version - b.version).map(copyWrapped);
  }

  putWrappedKeychainKey(record: WrappedKeychainKeyRecord): void {
    this.assertOpen();
    this.changes++;
    if (!(Number.isSafeInteger(record.version) && record.version >= 1)) {
      throw constraint('keychain key version must be a positive integer', { version: record.version });
    }
    if (this.state.wrapped.has(record.version)) throw constraint('keychain key version exists', { version: record.version });
    this.state.wrapped.set(record.version, copyWrapped(record));
  }

  createKey(key: KeyRecord, firstInstance: InstanceRecord): void {
    this.transaction(() => {
      if (this.state.keyIdByName.has(nameKey(key.namespace, key.name))) {
        throw new StorageError('KEY_EXISTS', `a key named "${key.namespace}/${key.name}" already exists; pick another name or use key rollover`, {
          details: { namespace: key.namespace, name: key.name },
        });
      }
      if (this.state.keys.has(key.id)) throw constraint('key id exists', { keyId: key.id });
      this.state.keys.set(key.id, copyKey(key));
      this.state.keyIdByName.set(nameKey(key.namespace, key.name), key.id);
      this.insertInstance(firstInstance);
      if (!this.state.instances.has(key.currentInstanceId)) {
        throw constraint('current instance does not exist', { keyId: key.id });
      }
    });
  }

  addCurrentInstance(instance: InstanceRecord, keyUpdate: KeyPointerUpdate, previousChange?: InstanceStateChange): void {
    this.transaction(() => {
      this.insertInstance(instance);
      const key = this.state.keys.get(instance.keyId);
      if (key) {
        this.state.keys.set(key.id, {
          ...key,
          currentInstanceId: instance.id,
          updatedAt: keyUpdate.updatedAt,
          rowMac: Buffer.from(keyUpdate.rowMac),
          nextRolloverAt: keyUpdate.nextRolloverAt === undefined ? key.nextRolloverAt : keyUpdate.nextRolloverAt,
        });
      }
      if (previousChange) this.applyChange(previousChange);
    });
  }

  getKeyById(id: string): KeyRecord | null {
    this.assertOpen();
    const key = this.state.keys.get(id);
    return key ? copyKey(key) : null;
  }

  getKeyByName(namespace: string, name: string): KeyRecord | null {
    this.assertOpen();
    const id = this.state.keyIdByName.get(nameKey(namespace, name));
    return id === undefined ? null : this.getKeyById(id);
  }

  listKeys(filter: KeyFilter = {}): KeyRecord[] {
    const { limit, offset } = validateKeyFilter(filter);
    this.assertOpen();
    const pattern = filter.namePattern === undefined ? null : globToRegExp(filter.namePattern);
    const matching = [...this.state.keys.values()]
      .filter(
        (k) =>
          (filter.namespace === undefined || k.namespace === filter.namespace) &&
          (pattern === null || pattern.test(fullName(k))) &&
          (filter.algorithm === undefined || k.algorithm === filter.algorithm),
      )
      .sort(compareKeys);
    return matching.slice(offset, limit === null ? undefined : offset + limit).map(copyKey);
  }

  countKeys(): number {
    this.assertOpen();
    return this.state.keys.size;
  }

  getInstanceById(id: string): InstanceRecord | null {
    this.assertOpen();
    const instance = this.state.instances.get(id);
    return instance ? copyInstance(instance) : null;
  }

  getInstanceByName(name: string): InstanceRecord | null {
    this.assertOpen();
    const id = this.state.instanceIdByName.get(name);
    return id === undefined ? null : this.getInstanceById(id);
  }

  listInstances(keyId: string): InstanceRecord[] {
    this.assertOpen();
    return [...this.state.instances.values()]
      .filter((i) => i.keyId === keyId)
      .sort((a, b) => a.version - b.version)
      .map(copyInstance);
  }

  moveCurrentInstance(keyId: string, instanceId: string, keyUpdate: KeyPointerUpdate, changes: readonly InstanceStateChange[]): void {
    this.transaction(() => {
      const key = this.state.keys.get(keyId);
      if (!key) throw new StorageError('KEY_NOT_FOUND', 'keychain store: no key with that id', { details: { keyId } });
      const target = this.state.instances.get(instanceId);
      if (!target || target.keyId !== keyId) throw constraint('current instance does not belong to the key', { keyId });
      this.state.keys.set(keyId, {
        ...key,
        currentInstanceId: instanceId,
        updatedAt: keyUpdate.updatedAt,
        rowMac: Buffer.from(keyUpdate.rowMac),
        nextRolloverAt: keyUpdate.nextRolloverAt === undefined ? key.nextRolloverAt : keyUpdate.nextRolloverAt,
      });
      for (const change of changes) this.applyChange(change);
    });
  }

  updateKeyPolicy(update: KeyPolicyUpdate): void {
    this.transaction(() => {
      const key = this.state.keys.get(update.keyId);
      if (!key) throw new StorageError('KEY_NOT_FOUND', 'keychain store: no key with that id', { details: { keyId: update.keyId } });
      this.state.keys.set(key.id, {
        ...key,
        rolloverPolicy: update.rolloverPolicy,
        cryptoperiod: update.cryptoperiod,
        nextRolloverAt: update.nextRolloverAt,
        protectPeriod: update.protectPeriod,
        processPeriod: update.processPeriod,
        updatedAt: update.updatedAt,
        rowMac: Buffer.from(update.rowMac),
      });
    });
  }

  putAlias(alias: AliasRecord): void {
    this.transaction(() => {
      if (!this.state.keys.has(alias.keyId)) throw constraint('alias of a missing key', { alias: alias.alias });
      this.state.aliases.set(alias.alias, { ...alias, rowMac: Buffer.from(alias.rowMac) });
    });
  }

  getAlias(alias: string): AliasRecord | null {
    this.assertOpen();
    const found = this.state.aliases.get(alias);
    return found ? { ...found, rowMac: Buffer.from(found.rowMac) } : null;
  }

  deleteAlias(alias: string): AliasRecord {
    return this.transaction(() => {
      const found = this.getAlias(alias);
      if (!found) throw new StorageError('ALIAS_NOT_FOUND', `no alias "${alias}"`, { details: { alias } });
      this.state.aliases.delete(alias);
      return found;
    });
  }

  listAliases(): AliasRecord[] {
    this.assertOpen();
    return [...this.state.aliases.keys()].sort().map((a) => this.getAlias(a) as AliasRecord);
  }

  listNamespaces(): NamespaceSummary[] {
    this.assertOpen();
    const byNs = new Map<string, { keys: number; liveKeys: number }>();
    for (const key of this.state.keys.values()) {
      const entry = byNs.get(key.namespace) ?? { keys: 0, liveKeys: 0 };
      entry.keys++;
      const live = [...this.state.instances.values()].some((i) => i.keyId === key.id && i.state !== 'Destroyed' && i.state !== 'DestroyedCompromised');
      if (live) entry.liveKeys++;
      byNs.set(key.namespace, entry);
    }
    return [...byNs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([namespace, c]) => ({ namespace, ...c }));
  }

  deleteNamespace(namespace: string): number {
    return this.transaction(() => {
      const ids = [...this.state.keys.values()].filter((k) => k.namespace === namespace).map((k) => k.id);
      for (const id of ids) {
        const key = this.state.keys.get(id) as KeyRecord;
        this.state.keys.delete(id);
        this.state.keyIdByName.delete(nameKey(key.namespace, key.name));
        for (const instance of [...this.state.instances.values()].filter((i) => i.keyId === id)) {
          this.state.instances.delete(instance.id);
          this.state.instanceIdByName.delete(instance.name);
        }
        for (const [alias, record] of this.state.aliases) if (record.keyId === id) this.state.aliases.delete(alias);
      }
      return ids.length;
    });
  }

  listRetentionExpired(beforeIso: string, limit: number): string[] {
    this.assertOpen();
    const current = new Set([...this.state.keys.values()].map((k) => k.currentInstanceId));
    return [...this.state.instances.values()]
      .filter((i) => i.state === 'Deactivated' && i.deactivatedAt !== null && i.deactivatedAt <= beforeIso && i.destroyAt === null && i.sealedMaterial !== null && !current.has(i.id))
      .sort((a, b) => ((a.deactivatedAt as string) === (b.deactivatedAt as string) ? (a.id < b.id ? -1 : 1) : (a.deactivatedAt as string) < (b.deactivatedAt as string) ? -1 : 1))
      .slice(0, limit)
      .map((i) => i.id);
  }

  listDueProcessStops(atIso: string, limit: number): DueProcessStop[] {
    this.assertOpen();
    return [...this.state.instances.values()]
      .filter((i) => i.state === 'Active' && i.processStopAt !== null && i.processStopAt <= atIso)
      .sort((a, b) => ((a.processStopAt as string) === (b.processStopAt as string) ? (a.id < b.id ? -1 : 1) : (a.processStopAt as string) < (b.processStopAt as string) ? -1 : 1))
      .slice(0, limit)
      .map((i) => ({ instanceId: i.id, processStopAt: i.processStopAt as string }));
  }

  listDueDestructions(atIso: string, limit: number): DueDestruction[] {
    this.assertOpen();
    return [...this.state.instances.values()]
      .filter((i) => i.destroyAt !== null && i.destroyAt <= atIso)
      .sort((a, b) => ((a.destroyAt as string) === (b.destroyAt as string) ? (a.id < b.id ? -1 : 1) : (a.destroyAt as string) < (b.destroyAt as string) ? -1 : 1))
      .slice(0, limit)
      .map((i) => ({ instanceId: i.id, destroyAt: i.destroyAt as string }));
  }

  listDueKeys(atIso: string, limit: number): DueKey[] {
    this.assertOpen();
    return [...this.state.keys.values()]
      .filter((k) => k.nextRolloverAt !== null && k.nextRolloverAt <= atIso)
      .sort((a, b) => ((a.nextRolloverAt as string) === (b.nextRolloverAt as string) ? (a.id < b.id ? -1 : 1) : (a.nextRolloverAt as string) < (b.nextRolloverAt as string) ? -1 : 1))
      .slice(0, limit)
      .map((k) => ({ keyId: k.id, nextRolloverAt: k.nextRolloverAt as string }));
  }

  updateInstanceState(change: InstanceStateChange): void {
    this.assertOpen();
    this.changes++;
    this.applyChange(change);
  }

  ownCommitCount(): number {
    return this.changes;
  }

  changeStamp(): string {
    return String(this.changes);
  }

  transaction<T>(fn: () => T): T {
    this.assertOpen();
    this.changes++;
    const saved = snapshot(this.state);
    const savedApprovals = this.approvals.snapshot();
    try {
      const result = fn();
      if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
        throw new TypeError('Transaction function cannot return a promise');
      }
      return result;
    } catch (err) {
      this.state = saved;
      this.approvals.restore(savedApprovals);
      throw err;
    }
  }

  close(): void {
    this.closed = true;
  }

  getUnsealPolicy(): UnsealPolicyRecord | null {
    this.assertOpen();
    return this.state.unsealPolicy === null ? null : { ...this.state.unsealPolicy };
  }

  putUnsealPolicy(policy: UnsealPolicyRecord): void {
    this.assertOpen();
    if (this.state.unsealPolicy !== null) throw new StorageError('KEYCHAIN_ALREADY_INITIALIZED', 'keychain store: the unseal policy is already set');
    if (!(Number.isSafeInteger(policy.shares) && Number.isSafeInteger(policy.threshold) && policy.threshold >= 1 && policy.threshold <= policy.shares && policy.shares <= 255)) {
      throw constraint('unseal policy needs 1 <= threshold <= shares <= 255', { shares: policy.shares, threshold: policy.threshold });
    }
    this.changes++;
    this.state.unsealPolicy = { ...policy };
  }

  rewrapKeychainKey(version: number, masterKeyVersion: number, wrapped: Buffer): void {
    this.assertOpen();
    const old = this.state.wrapped.get(version);
    if (!old) throw constraint('no keychain key of that version', { version });
    this.changes++;
    this.state.wrapped.set(version, copyWrapped({ ...old, masterKeyVersion, wrapped }));
  }

  listHsmSealedSecrets(): HsmSealedSecretRecord[] {
    this.assertOpen();
    return [...this.state.hsmSecrets.keys()].sort().map((name) => copyHsmSecret(this.state.hsmSecrets.get(name) as HsmSealedSecretRecord));
  }

  getHsmSealedSecret(name: string): HsmSealedSecretRecord | null {
    this.assertOpen();
    const found = this.state.hsmSecrets.get(name);
    return found ? copyHsmSecret(found) : null;
  }

  putHsmSealedSecret(record: HsmSealedSecretRecord): void {
    this.assertOpen();
    this.changes++;
    this.state.hsmSecrets.set(record.name, copyHsmSecret(record));
  }

  rewrapHsmSealedSecret(name: string, masterKeyVersion: number, wrappedKey: Buffer): void {
    this.assertOpen();
    const old = this.state.hsmSecrets.get(name);
    if (!old) throw constraint('no HSM-sealed secret of that name', { name });
    this.changes++;
    this.state.hsmSecrets.set(name, copyHsmSecret({ ...old, masterKeyVersion, wrappedKey }));
  }

  private insertInstance(instance: InstanceRecord): void {
    const { id, keyId, name, version } = instance;
    if (!this.state.keys.has(keyId)) throw constraint('instance refers to no key', { instanceId: id });
    if (this.state.instances.has(id)) throw constraint('instance id exists', { instanceId: id });
    if (this.state.instanceIdByName.has(name)) throw constraint('instance name exists', { instanceId: id });
    if (!(Number.isSafeInteger(version) && version >= 1)) throw constraint('version must be a positive integer', { version });
    for (const other of this.state.instances.values()) {
      if (other.keyId === keyId && other.version === version) throw constraint('instance version exists', { keyId, version });
    }
    this.state.instances.set(id, copyInstance(instance));
    this.state.instanceIdByName.set(name, id);
  }

  private applyChange(change: InstanceStateChange): void {
    const old = this.state.instances.get(change.instanceId);
    if (!old) {
      throw new StorageError('INSTANCE_NOT_FOUND', 'keychain store: no instance with that id', {
        details: { instanceId: change.instanceId },
      });
    }
    this.state.instances.set(old.id, copyInstance(applyInstanceChange(old, change)));
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('STORAGE_ERROR', 'keychain store: the store is closed');
  }
}
