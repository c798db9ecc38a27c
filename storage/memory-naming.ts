/**
 * The naming capability (storage/naming-store.ts) in memory: aliases (one of
 * a missing key is refused, as SQLite's foreign key does) and namespaces,
 * whose deletion takes keys, instances and aliases in one transaction.
 */
import { StorageError } from '../common/errors';
import { constraint, MemoryTables, nameKey } from './memory-tables';
import { NamingStore } from './naming-store';
import { AliasRecord, KeyRecord, NamespaceSummary } from './records';

export class MemoryNaming implements NamingStore {
  constructor(private readonly tables: MemoryTables) {}

  private get state() {
    return this.tables.current;
  }

  putAlias(alias: AliasRecord): void {
    this.tables.transaction(() => {
      if (!this.state.keys.has(alias.keyId)) throw constraint('alias of a missing key', { alias: alias.alias });
      this.state.aliases.set(alias.alias, { ...alias, rowMac: Buffer.from(alias.rowMac) });
    });
  }

  getAlias(alias: string): AliasRecord | null {
    this.tables.assertOpen();
    const found = this.state.aliases.get(alias);
    return found ? { ...found, rowMac: Buffer.from(found.rowMac) } : null;
  }

  deleteAlias(alias: string): AliasRecord {
    return this.tables.transaction(() => {
      const found = this.getAlias(alias);
      if (!found) throw new StorageError('ALIAS_NOT_FOUND', `no alias "${alias}"`, { details: { alias } });
      this.state.aliases.delete(alias);
      return found;
    });
  }

  listAliases(): AliasRecord[] {
    this.tables.assertOpen();
    return [...this.state.aliases.keys()].sort().map((a) => this.getAlias(a) as AliasRecord);
  }

  listNamespaces(): NamespaceSummary[] {
    this.tables.assertOpen();
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
    return this.tables.transaction(() => {
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
}
