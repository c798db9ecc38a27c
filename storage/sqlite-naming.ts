/**
 * The naming capability (storage/naming-store.ts) on the keychain's shared
 * connection (SQLite, or PostgreSQL through the
 * statement facade: storage/capability-connection.ts): aliases (a foreign key refuses one of a missing key) and
 * namespaces. Deleting a namespace drops its keys' sealed material, so the
 * connection scrubs the WAL after that commit.
 */
import { StorageError } from '../common/errors';
import { NamingStore } from './naming-store';
import { AliasRecord, NamespaceSummary } from './records';
import { CapabilityConnection, Statements } from './capability-connection';

export class SqliteNaming implements NamingStore {
  private readonly stmt: Statements;

  constructor(private readonly conn: CapabilityConnection) {
    this.stmt = conn.stmt;
  }

  putAlias(alias: AliasRecord): void {
    this.conn.write('putAlias', () => this.stmt.putAlias.run(alias));
  }

  getAlias(alias: string): AliasRecord | null {
    return this.conn.read('getAlias', () => (this.stmt.getAlias.get(alias) as AliasRecord | undefined) ?? null);
  }

  deleteAlias(alias: string): AliasRecord {
    return this.conn.write('deleteAlias', () => {
      const found = this.stmt.getAlias.get(alias) as AliasRecord | undefined;
      if (!found) throw new StorageError('ALIAS_NOT_FOUND', `no alias "${alias}"`, { details: { alias } });
      this.stmt.deleteAlias.run(alias);
      return found;
    });
  }

  listAliases(): AliasRecord[] {
    return this.conn.read('listAliases', () => this.stmt.listAliases.all() as AliasRecord[]);
  }

  listNamespaces(): NamespaceSummary[] {
    return this.conn.read('listNamespaces', () => this.stmt.listNamespaces.all() as NamespaceSummary[]);
  }

  deleteNamespace(namespace: string): number {
    return this.conn.write('deleteNamespace', () => {
      this.stmt.deleteNamespaceAliases.run(namespace);
      this.stmt.deleteNamespaceInstances.run(namespace);
      const deleted = this.stmt.deleteNamespaceKeys.run(namespace).changes;
      this.conn.scrubAfterCommit(); // metadata of destroyed keys goes: leave no copy in the WAL
      return deleted;
    });
  }
}
