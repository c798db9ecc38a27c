/**
 * The keys-and-instances capability (storage/key-store.ts) in memory: the
 * fast fake for unit tests. It enforces what the SQLite schema enforces
 * (unique ids, names and versions; instances belong to an existing key; a
 * key's current instance exists) with the same error codes, and copies
 * records in and out.
 */
import { StorageError } from '../common/errors';
import { attributesMatch, compareKeys, fullName, globToRegExp, validateKeyFilter } from './key-filter';
import { KeyStore, StateCounts } from './key-store';
import { constraint, copyInstance, copyKey, MemoryTables, nameKey } from './memory-tables';
import { applyInstanceChange, InstanceRecord, InstanceStateChange, KeyFilter, KeyAttributesUpdate, KeyPointerUpdate, KeyPolicyUpdate, KeyRecord } from './records';

export class MemoryKeys implements KeyStore {
  constructor(private readonly tables: MemoryTables) {}

  private get state() {
    return this.tables.current;
  }

  createKey(key: KeyRecord, firstInstance: InstanceRecord): void {
    this.tables.transaction(() => {
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
    this.tables.transaction(() => {
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

  addPendingInstance(instance: InstanceRecord): void {
    this.tables.transaction(() => this.insertInstance(instance));
  }

  getKeyById(id: string): KeyRecord | null {
    this.tables.assertOpen();
    const key = this.state.keys.get(id);
    return key ? copyKey(key) : null;
  }

  getKeyByName(namespace: string, name: string): KeyRecord | null {
    this.tables.assertOpen();
    const id = this.state.keyIdByName.get(nameKey(namespace, name));
    return id === undefined ? null : this.getKeyById(id);
  }

  listKeys(filter: KeyFilter = {}): KeyRecord[] {
    const { limit, offset } = validateKeyFilter(filter);
    this.tables.assertOpen();
    const pattern = filter.namePattern === undefined ? null : globToRegExp(filter.namePattern);
    const matching = [...this.state.keys.values()]
      .filter(
        (k) =>
          (filter.namespace === undefined || k.namespace === filter.namespace) &&
          (pattern === null || pattern.test(fullName(k))) &&
          (filter.algorithm === undefined || k.algorithm === filter.algorithm) &&
          attributesMatch(k.customAttributes, filter.attributes),
      )
      .sort(compareKeys);
    return matching.slice(offset, limit === null ? undefined : offset + limit).map(copyKey);
  }

  countKeys(): number {
    this.tables.assertOpen();
    return this.state.keys.size;
  }

  countByState(): StateCounts {
    this.tables.assertOpen();
    const keys: Record<string, number> = {};
    const instances: Record<string, number> = {};
    for (const instance of this.state.instances.values()) instances[instance.state] = (instances[instance.state] ?? 0) + 1;
    for (const key of this.state.keys.values()) {
      const state = this.state.instances.get(key.currentInstanceId)?.state;
      if (state !== undefined) keys[state] = (keys[state] ?? 0) + 1;
    }
    return { keys, instances };
  }

  getInstanceById(id: string): InstanceRecord | null {
    this.tables.assertOpen();
    const instance = this.state.instances.get(id);
    return instance ? copyInstance(instance) : null;
  }

  getInstanceByName(name: string): InstanceRecord | null {
    this.tables.assertOpen();
    const id = this.state.instanceIdByName.get(name);
    return id === undefined ? null : this.getInstanceById(id);
  }

  listInstances(keyId: string): InstanceRecord[] {
    this.tables.assertOpen();
    return [...this.state.instances.values()]
      .filter((i) => i.keyId === keyId)
      .sort((a, b) => a.version - b.version)
      .map(copyInstance);
  }

  updateInstanceState(change: InstanceStateChange): void {
    this.tables.assertOpen();
    this.tables.changed();
    this.applyChange(change);
  }

  moveCurrentInstance(keyId: string, instanceId: string, keyUpdate: KeyPointerUpdate, changes: readonly InstanceStateChange[]): void {
    this.tables.transaction(() => {
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
    this.tables.transaction(() => {
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

  updateKeyAttributes(update: KeyAttributesUpdate): void {
    this.tables.transaction(() => {
      const key = this.state.keys.get(update.keyId);
      if (!key) throw new StorageError('KEY_NOT_FOUND', 'keychain store: no key with that id', { details: { keyId: update.keyId } });
      this.state.keys.set(key.id, { ...key, customAttributes: { ...update.customAttributes }, description: update.description, updatedAt: update.updatedAt, rowMac: Buffer.from(update.rowMac) });
    });
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
}
