/**
 * The keychain store on SQLite (better-sqlite3): the production
 * implementation of storage/keychain-store.ts.
 *
 * One connection per store, every statement prepared once at open. Writes run
 * in BEGIN IMMEDIATE transactions (a nested call becomes a savepoint), so
 * every multi-row change is atomic and a second writer waits busy_timeout,
 * then fails STORAGE_BUSY, instead of deadlocking on a lock upgrade. WAL +
 * synchronous=FULL: an acknowledged change survives power loss. secure_delete
 * zeroes dropped sealed material in the file; because WAL frames holding the
 * old page outlive a passive checkpoint, a transaction that drops material is
 * followed by a TRUNCATE checkpoint. A read-only store (`strongroom status`
 * next to a running server) never migrates and never writes.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { StorageError, ValidationError } from '../common/errors';
import { DirectoryStore } from './directory-store';
import { KeychainStore } from './keychain-store';
import { SqliteDirectory } from './sqlite-directory';
import { SqliteAudit } from './sqlite-audit';
import { AuditStore } from './audit-store';
import { ApprovalStore } from './approval-store';
import { SqliteApprovals } from './sqlite-approvals';
import { globToSqlite, validateKeyFilter } from './key-filter';
import { assertSchemaCurrent, runMigrations } from './migrations';
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
import { mapSqliteError } from './sqlite-errors';
import { applyPragmas } from './sqlite-pragmas';
import { changeParams, KeyRow, keyFromRow, keyParams, SQL } from './sqlite-rows';

export { BUSY_TIMEOUT_MS } from './sqlite-pragmas';

/**
 * Mode of a newly created database file: owner read/write only. The file holds
 * sealed material and key metadata that no other local user may read or copy
 * for offline attack. SQLite creates -wal and -shm with the same mode.
 */
export const DB_FILE_MODE = 0o600;

export interface SqliteStoreOptions {
  /** Open an existing, current database read-only: no migration, no writes. */
  readonly readonly?: boolean;
  /**
   * Caps the database at this many pages (PRAGMA max_page_count): a write that
   * would grow it further fails STORAGE_FULL with nothing written, exactly as
   * a full disk does. A quota for operators; tests use it to simulate a full disk.
   */
  readonly maxPageCount?: number;
}

/** Opens (creating and migrating if needed) the keychain database at `path`, a file path. */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): KeychainStore {
  return SqliteStore.open(path, options);
}

function createPrivateFile(path: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, 'wx', DB_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new StorageError('STORAGE_ERROR', 'keychain store: cannot create the database file', { cause: err });
  }
  try {
    fs.fchmodSync(fd, DB_FILE_MODE); // the umask may have removed bits; never added any
  } finally {
    fs.closeSync(fd);
  }
}

function prepareAll(db: Database.Database) {
  const out = {} as { -readonly [K in keyof typeof SQL]: Database.Statement };
  for (const name of Object.keys(SQL) as Array<keyof typeof SQL>) out[name] = db.prepare(SQL[name]);
  return out;
}

type Statements = Readonly<ReturnType<typeof prepareAll>>;

class SqliteStore implements KeychainStore {
  readonly directory: DirectoryStore;
  readonly audit: AuditStore;
  readonly approvals: ApprovalStore;
  /** Set when a write dropped sealed material; cleared by the checkpoint after the outermost commit. */
  private scrubPending = false;
  /** Commits made through this connection (PRAGMA data_version only counts other connections'). */
  private ownCommits = 0;
  /** The keychain change counter (migration 8): bumped by every keychain write, read for the change stamp. */
  private readonly changeCounter: Database.Statement;
  private readonly bumpChangeCounter: Database.Statement;
  private readonly runInTx: Database.Transaction<(fn: () => unknown) => unknown>;

  private constructor(
    private readonly db: Database.Database,
    private readonly stmt: Statements,
    private readonly readonly: boolean,
  ) {
    this.runInTx = db.transaction((fn: () => unknown) => fn());
    this.changeCounter = db.prepare('SELECT counter FROM keychain_changes WHERE id = 1').pluck();
    this.bumpChangeCounter = db.prepare('UPDATE keychain_changes SET counter = counter + 1 WHERE id = 1');
    this.directory = new SqliteDirectory(db, (op, fn) => this.write(op, fn), (op, fn) => this.read(op, fn));
    // Audit appends are not keychain changes: counting them moved the change
    // stamp on every group commit and emptied the hot path's caches each time.
    this.audit = new SqliteAudit(db, (op, fn) => this.write(op, fn, false), (op, fn) => this.read(op, fn));
    this.approvals = new SqliteApprovals(db, (op, fn) => this.write(op, fn), (op, fn) => this.read(op, fn));
  }

  ownCommitCount(): number {
    return this.ownCommits;
  }

  changeStamp(): string {
    // The counter, not PRAGMA data_version: that one also moves on every audit
    // group commit of another connection, which would empty the caches each time.
    return this.read('changeStamp', () => `${this.changeCounter.get() as number}:${this.ownCommits}`);
  }

  static open(path: string, options: SqliteStoreOptions): SqliteStore {
    const readonly = options.readonly === true;
    let db: Database.Database | undefined;
    try {
      if (!readonly) createPrivateFile(path);
      db = new Database(path, { readonly, fileMustExist: true });
      applyPragmas(db, readonly);
      if (readonly) assertSchemaCurrent(db);
      else runMigrations(db);
      if (options.maxPageCount !== undefined) {
        if (!(Number.isSafeInteger(options.maxPageCount) && options.maxPageCount > 0)) {
          throw new ValidationError('maxPageCount must be a positive integer', { details: { field: 'maxPageCount' } });
        }
        db.pragma(`max_page_count = ${options.maxPageCount}`);
      }
      return new SqliteStore(db, prepareAll(db), readonly);
    } catch (err) {
      if (db?.open) db.close();
      throw mapSqliteError(err, 'open');
    }
  }

  getMeta(): KeychainMetaRecord | null {
    return this.read('getMeta', () => (this.stmt.getMeta.get() as KeychainMetaRecord | undefined) ?? null);
  }

  initialize(meta: KeychainMetaRecord, firstKey: WrappedKeychainKeyRecord): void {
    this.write('initialize', () => {
      if (this.stmt.getMeta.get() !== undefined) {
        throw new StorageError('KEYCHAIN_ALREADY_INITIALIZED', 'keychain store: the keychain is already initialized');
      }
      this.stmt.insertMeta.run(meta);
      this.stmt.insertWrapped.run(firstKey);
    });
  }

  listWrappedKeychainKeys(): WrappedKeychainKeyRecord[] {
    return this.read('listWrappedKeychainKeys', () => this.stmt.listWrapped.all() as WrappedKeychainKeyRecord[]);
  }

  putWrappedKeychainKey(record: WrappedKeychainKeyRecord): void {
    this.write('putWrappedKeychainKey', () => this.stmt.insertWrapped.run(record));
  }

  createKey(key: KeyRecord, firstInstance: InstanceRecord): void {
    this.write('createKey', () => {
      // Checked here rather than read from the UNIQUE violation's message text.
      if (this.stmt.getKeyByName.get(key.namespace, key.name) !== undefined) {
        throw new StorageError('KEY_EXISTS', `a key named "${key.namespace}/${key.name}" already exists; pick another name or use key rollover`, {
          details: { namespace: key.namespace, name: key.name },
        });
      }
      this.stmt.insertKey.run(keyParams(key));
      this.stmt.insertInstance.run(firstInstance);
    });
  }

  addCurrentInstance(instance: InstanceRecord, keyUpdate: KeyPointerUpdate, previousChange?: InstanceStateChange): void {
    this.write('addCurrentInstance', () => {
      this.stmt.insertInstance.run(instance);
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

  getKeyById(id: string): KeyRecord | null {
    return this.read('getKeyById', () => this.keyOrNull(this.stmt.getKeyById.get(id)));
  }

  getKeyByName(namespace: string, name: string): KeyRecord | null {
    return this.read('getKeyByName', () => this.keyOrNull(this.stmt.getKeyByName.get(namespace, name)));
  }

  listKeys(filter: KeyFilter = {}): KeyRecord[] {
    const paging = validateKeyFilter(filter);
    const rows = this.read('listKeys', () =>
      this.stmt.listKeys.all({
        namespace: filter.namespace ?? null,
        glob: filter.namePattern === undefined ? null : globToSqlite(filter.namePattern),
        algorithm: filter.algorithm ?? null,
        limit: paging.limit ?? -1,
        offset: paging.offset,
      }) as KeyRow[],
    );
    // ORDER BY uses the BINARY collation: UTF-8 byte order, as compareKeys in key-filter.ts.
    return rows.map(keyFromRow);
  }

  countKeys(): number {
    return this.read('countKeys', () => (this.stmt.countKeys.get() as { n: number }).n);
  }

  getInstanceById(id: string): InstanceRecord | null {
    return this.read('getInstanceById', () => (this.stmt.getInstanceById.get(id) as InstanceRecord | undefined) ?? null);
  }

  getInstanceByName(name: string): InstanceRecord | null {
    return this.read('getInstanceByName', () => (this.stmt.getInstanceByName.get(name) as InstanceRecord | undefined) ?? null);
  }

  listInstances(keyId: string): InstanceRecord[] {
    return this.read('listInstances', () => this.stmt.listInstances.all(keyId) as InstanceRecord[]);
  }

  moveCurrentInstance(keyId: string, instanceId: string, keyUpdate: KeyPointerUpdate, changes: readonly InstanceStateChange[]): void {
    this.write('moveCurrentInstance', () => {
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
    this.write('updateKeyPolicy', () => {
      if (this.stmt.updatePolicy.run(update).changes === 0) {
        throw new StorageError('KEY_NOT_FOUND', 'keychain store: no key with that id', { details: { keyId: update.keyId } });
      }
    });
  }

  putAlias(alias: AliasRecord): void {
    this.write('putAlias', () => this.stmt.putAlias.run(alias));
  }

  getAlias(alias: string): AliasRecord | null {
    return this.read('getAlias', () => (this.stmt.getAlias.get(alias) as AliasRecord | undefined) ?? null);
  }

  deleteAlias(alias: string): AliasRecord {
    return this.write('deleteAlias', () => {
      const found = this.stmt.getAlias.get(alias) as AliasRecord | undefined;
      if (!found) throw new StorageError('ALIAS_NOT_FOUND', `no alias "${alias}"`, { details: { alias } });
      this.stmt.deleteAlias.run(alias);
      return found;
    });
  }

  listAliases(): AliasRecord[] {
    return this.read('listAliases', () => this.stmt.listAliases.all() as AliasRecord[]);
  }

  listNamespaces(): NamespaceSummary[] {
    return this.read('listNamespaces', () => this.stmt.listNamespaces.all() as NamespaceSummary[]);
  }

  deleteNamespace(namespace: string): number {
    return this.write('deleteNamespace', () => {
      this.stmt.deleteNamespaceAliases.run(namespace);
      this.stmt.deleteNamespaceInstances.run(namespace);
      const deleted = this.stmt.deleteNamespaceKeys.run(namespace).changes;
      this.scrubPending = true; // metadata of destroyed keys goes: leave no copy in the WAL
      return deleted;
    });
  }

  listRetentionExpired(beforeIso: string, limit: number): string[] {
    return this.read('listRetentionExpired', () => (this.stmt.listRetentionExpired.all(beforeIso, limit) as Array<{ id: string }>).map((r) => r.id));
  }

  listDueProcessStops(atIso: string, limit: number): DueProcessStop[] {
    return this.read('listDueProcessStops', () => this.stmt.listDueProcessStops.all(atIso, limit) as DueProcessStop[]);
  }

  listDueDestructions(atIso: string, limit: number): DueDestruction[] {
    return this.read('listDueDestructions', () => this.stmt.listDueDestructions.all(atIso, limit) as DueDestruction[]);
  }

  listDueKeys(atIso: string, limit: number): DueKey[] {
    return this.read('listDueKeys', () => this.stmt.listDue.all(atIso, limit) as DueKey[]);
  }

  updateInstanceState(change: InstanceStateChange): void {
    this.write('updateInstanceState', () => this.applyChange(change));
  }

  transaction<T>(fn: () => T): T {
    this.assertOpen();
    return this.inTransaction('transaction', () => (this.readonly ? this.runInTx.deferred(fn) : this.runInTx.immediate(fn)) as T);
  }

  close(): void {
    if (!this.db.open) return;
    this.db.close();
  }

  getUnsealPolicy(): UnsealPolicyRecord | null {
    return this.read('getUnsealPolicy', () => (this.stmt.getUnsealPolicy.get() as UnsealPolicyRecord | undefined) ?? null);
  }

  putUnsealPolicy(policy: UnsealPolicyRecord): void {
    this.write('putUnsealPolicy', () => {
      if (this.stmt.getUnsealPolicy.get() !== undefined) {
        throw new StorageError('KEYCHAIN_ALREADY_INITIALIZED', 'keychain store: the unseal policy is already set');
      }
      this.stmt.insertUnsealPolicy.run(policy);
    });
  }

  rewrapKeychainKey(version: number, masterKeyVersion: number, wrapped: Buffer): void {
    this.write('rewrapKeychainKey', () => {
      if (this.stmt.rewrapKeychainKey.run(masterKeyVersion, wrapped, version).changes === 0) {
        throw new StorageError('STORAGE_ERROR', 'keychain store: no keychain key of that version', { details: { version } });
      }
    });
  }

  listHsmSealedSecrets(): HsmSealedSecretRecord[] {
    return this.read('listHsmSealedSecrets', () => this.stmt.listHsmSecrets.all() as HsmSealedSecretRecord[]);
  }

  getHsmSealedSecret(name: string): HsmSealedSecretRecord | null {
    return this.read('getHsmSealedSecret', () => (this.stmt.getHsmSecret.get(name) as HsmSealedSecretRecord | undefined) ?? null);
  }

  putHsmSealedSecret(record: HsmSealedSecretRecord): void {
    this.write('putHsmSealedSecret', () => this.stmt.putHsmSecret.run(record));
  }

  rewrapHsmSealedSecret(name: string, masterKeyVersion: number, wrappedKey: Buffer): void {
    this.write('rewrapHsmSealedSecret', () => {
      if (this.stmt.rewrapHsmSecret.run(masterKeyVersion, wrappedKey, name).changes === 0) {
        throw new StorageError('STORAGE_ERROR', 'keychain store: no HSM-sealed secret of that name', { details: { name } });
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
    if (change.dropMaterial === true) this.scrubPending = true;
  }

  private keyOrNull(row: unknown): KeyRecord | null {
    return row === undefined ? null : keyFromRow(row as KeyRow);
  }

  private assertOpen(): void {
    if (!this.db.open) throw new StorageError('STORAGE_ERROR', 'keychain store: the store is closed');
  }

  private read<T>(operation: string, fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (err) {
      throw mapSqliteError(err, operation);
    }
  }

  /** `isKeychainChange` false: a write that no cache depends on (the audit trail's appends). */
  private write<T>(operation: string, fn: () => T, isKeychainChange = true): T {
    this.assertOpen();
    const counted = isKeychainChange
      ? () => {
          const result = fn();
          this.bumpChangeCounter.run();
          return result;
        }
      : fn;
    return this.inTransaction(operation, () => this.runInTx.immediate(counted) as T, isKeychainChange);
  }

  /** Runs a (possibly nested) transaction; after the outermost commit, scrubs if needed. */
  private inTransaction<T>(operation: string, run: () => T, isKeychainChange = true): T {
    const outermost = !this.db.inTransaction;
    let result: T;
    try {
      result = run();
    } catch (err) {
      // A pending scrub stays pending: at worst one needless checkpoint later.
      throw mapSqliteError(err, operation);
    }
    if (outermost) {
      if (isKeychainChange) this.ownCommits++;
      this.afterCommit();
    }
    return result;
  }

  /**
   * After the outermost commit of a transaction that dropped material: a
   * TRUNCATE checkpoint copies the zeroed pages into the database file and
   * empties the WAL, whose older frames still hold the dropped bytes (a
   * PASSIVE checkpoint copies pages but leaves the frames in the file). The
   * change is already committed, so a checkpoint that a reader blocks (busy)
   * or that fails is not reported to the caller: it is retried after the next
   * write transaction instead.
   */
  private afterCommit(): void {
    if (!this.scrubPending) return;
    try {
      const [row] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      this.scrubPending = row?.busy !== 0;
    } catch {
      this.scrubPending = true;
    }
  }
}
