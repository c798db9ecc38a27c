/**
 * The keys-and-instances capability (storage/key-store.ts) on the keychain's
 * shared connection (SQLite, or PostgreSQL through the
 * statement facade: storage/capability-connection.ts). The schema keeps the invariants (foreign keys, the
 * deferred current-instance reference, unique names and versions); a state
 * change that drops sealed material asks the connection to scrub the WAL
 * after the commit.
 */
import { StorageError } from '../common/errors';
import { attributesToSqlite, globToSqlite, validateKeyFilter } from './key-filter';
import { KeyStore, StateCounts } from './key-store';
import { InstanceRecord, InstanceStateChange, KeyFilter, KeyAttributesUpdate, KeyPointerUpdate, KeyPolicyUpdate, KeyRecord } from './records';
import { CapabilityConnection, runWithoutAnswer, Statements } from './capability-connection';
import { changeParams, instanceFromRow, instanceParams, InstanceRow, KeyRow, keyFromRow, keyParams } from './sqlite-rows';

export class SqliteKeys implements KeyStore {
  private readonly stmt: Statements;

  constructor(private readonly conn: CapabilityConnection) {
    this.stmt = conn.stmt;
  }

  createKey(key: KeyRecord, firstInstance: InstanceRecord): void {
    this.conn.write('createKey', () => {
      // Checked here rather than read from the UNIQUE violation's message text.
      if (this.stmt.getKeyByName.get(key.namespace, key.name) !== undefined) {
        throw new StorageError('KEY_EXISTS', `a key named "${key.namespace}/${key.name}" already exists; pick another name or use key rollover`, {
          details: { namespace: key.namespace, name: key.name },
        });
      }
      // Nothing reads the inserts' answers: on PostgreSQL they ride with the trust fold's exchange.
      runWithoutAnswer(this.stmt.insertKey, keyParams(key));
      runWithoutAnswer(this.stmt.insertInstance, instanceParams(firstInstance));
    });
  }

  addCurrentInstance(instance: InstanceRecord, keyUpdate: KeyPointerUpdate, previousChange?: InstanceStateChange): void {
    this.conn.write('addCurrentInstance', () => {
      this.stmt.insertInstance.run(instanceParams(instance));
      this.stmt.setCurrent.run({
        instanceId: instance.id,
        updatedAt: keyUpdate.updatedAt,
        rowMac: keyUpdate.rowMac,
        keyId: instance.keyId,
        setNext: keyUpdate.nextRolloverAt === undefined ? 0 : 1,
        nextRolloverAt: keyUpdate.nextRolloverAt ?? null,
      });
      if (previousChange) this.applyChange(previousChange);
    });
  }

  addPendingInstance(instance: InstanceRecord): void {
    this.conn.write('addPendingInstance', () => {
      this.stmt.insertInstance.run(instanceParams(instance));
    });
  }

  getKeyById(id: string): KeyRecord | null {
    return this.conn.read('getKeyById', () => this.keyOrNull(this.stmt.getKeyById.get(id)));
  }

  getKeyByName(namespace: string, name: string): KeyRecord | null {
    return this.conn.read('getKeyByName', () => this.keyOrNull(this.stmt.getKeyByName.get(namespace, name)));
  }

  listKeys(filter: KeyFilter = {}): KeyRecord[] {
    const paging = validateKeyFilter(filter);
    const rows = this.conn.read('listKeys', () =>
      this.stmt.listKeys.all({
        namespace: filter.namespace ?? null,
        glob: filter.namePattern === undefined ? null : globToSqlite(filter.namePattern),
        algorithm: filter.algorithm ?? null,
        attributes: attributesToSqlite(filter.attributes),
        limit: paging.limit ?? -1,
        offset: paging.offset,
      }) as KeyRow[],
    );
    // ORDER BY uses the BINARY collation: UTF-8 byte order, as compareKeys in key-filter.ts.
    return rows.map(keyFromRow);
  }

  countKeys(): number {
    return this.conn.read('countKeys', () => (this.stmt.countKeys.get() as { n: number }).n);
  }

  countByState(): StateCounts {
    const tally = (rows: unknown[]): Record<string, number> => Object.fromEntries((rows as Array<{ state: string; n: number }>).map((row) => [row.state, row.n]));
    return this.conn.read('countByState', () => ({ keys: tally(this.stmt.countKeysByState.all()), instances: tally(this.stmt.countInstancesByState.all()) }));
  }

  getInstanceById(id: string): InstanceRecord | null {
    return this.conn.read('getInstanceById', () => this.instanceOrNull(this.stmt.getInstanceById.get(id)));
  }

  getInstanceByName(name: string): InstanceRecord | null {
    return this.conn.read('getInstanceByName', () => this.instanceOrNull(this.stmt.getInstanceByName.get(name)));
  }

  listInstances(keyId: string): InstanceRecord[] {
    return this.conn.read('listInstances', () => (this.stmt.listInstances.all(keyId) as InstanceRow[]).map(instanceFromRow));
  }

  updateInstanceState(change: InstanceStateChange): void {
    this.conn.write('updateInstanceState', () => this.applyChange(change));
  }

  moveCurrentInstance(keyId: string, instanceId: string, keyUpdate: KeyPointerUpdate, changes: readonly InstanceStateChange[]): void {
    this.conn.write('moveCurrentInstance', () => {
      const moved = this.stmt.setCurrent.run({
        instanceId,
        updatedAt: keyUpdate.updatedAt,
        rowMac: keyUpdate.rowMac,
        keyId,
        setNext: keyUpdate.nextRolloverAt === undefined ? 0 : 1,
        nextRolloverAt: keyUpdate.nextRolloverAt ?? null,
      });
      if (moved.changes === 0) throw new StorageError('KEY_NOT_FOUND', 'keychain store: no key with that id', { details: { keyId } });
      for (const change of changes) this.applyChange(change);
    });
  }

  updateKeyPolicy(update: KeyPolicyUpdate): void {
    this.conn.write('updateKeyPolicy', () => {
      if (this.stmt.updatePolicy.run(update).changes === 0) {
        throw new StorageError('KEY_NOT_FOUND', 'keychain store: no key with that id', { details: { keyId: update.keyId } });
      }
    });
  }

  updateKeyAttributes(update: KeyAttributesUpdate): void {
    this.conn.write('updateKeyAttributes', () => {
      const params = { ...update, customAttributes: JSON.stringify(update.customAttributes) };
      if (this.stmt.updateAttributes.run(params).changes === 0) {
        throw new StorageError('KEY_NOT_FOUND', 'keychain store: no key with that id', { details: { keyId: update.keyId } });
      }
    });
  }

  private applyChange(change: InstanceStateChange): void {
    const result = this.stmt.updateInstance.run(changeParams(change));
    if (result.changes === 0) {
      throw new StorageError('INSTANCE_NOT_FOUND', 'keychain store: no instance with that id', {
        details: { instanceId: change.instanceId },
      });
    }
    if (change.dropMaterial === true) this.conn.scrubAfterCommit();
  }

  private instanceOrNull(row: unknown): InstanceRecord | null {
    return row === undefined ? null : instanceFromRow(row as InstanceRow);
  }

  private keyOrNull(row: unknown): KeyRecord | null {
    return row === undefined ? null : keyFromRow(row as KeyRow);
  }
}
