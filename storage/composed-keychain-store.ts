/**
 * One KeychainStore assembled from a backend's capability parts: every
 * method forwards to the part that owns it. Both backends use it
 * (storage/sqlite-store.ts, storage/memory-store.ts), so a backend writes
 * each capability once, in its own file, and the forwarding exists once.
 * Written out rather than copied onto the object at run time, so the
 * compiler checks that every method of the port has an owner.
 */
import { OwnChangeFeed } from './own-changes';
import { ApprovalStore } from './approval-store';
import { AuditStore } from './audit-store';
import { DirectoryStore } from './directory-store';
import { InvocationStore } from './invocation-store';
import { KeychainStore } from './keychain-store';
import { KeyScheduleStore } from './key-schedule-store';
import { KeyStore, StateCounts } from './key-store';
import { KeychainRootStore } from './keychain-root-store';
import { NamingStore } from './naming-store';
import { TransactionalStore, TransactionOptions } from './transactional-store';
import { TrustJournalStore } from './trust-journal-store';
import { SchedulerLeaseStore } from './scheduler-lease-store';
import { IdempotencyStore } from './idempotency-store';
import {
  AliasRecord,
  DueDestruction,
  DueKey,
  DueActivation,
  DueProcessStop,
  HsmSealedSecretRecord,
  InstanceRecord,
  InstanceStateChange,
  KeyFilter,
  KeychainMetaRecord,
  KeyPointerUpdate,
  KeyPolicyUpdate,
  KeyAttributesUpdate,
  KeyRecord,
  NamespaceSummary,
  UnsealPolicyRecord,
  WrappedKeychainKeyRecord,
} from './records';

/** The connection the parts share: transactions span every part; close() ends them all. */
export interface StoreConnection extends TransactionalStore {
  close(): void;
}

export interface KeychainStoreParts {
  readonly connection: StoreConnection;
  readonly keys: KeyStore;
  readonly schedule: KeyScheduleStore;
  readonly naming: NamingStore;
  readonly root: KeychainRootStore;
  readonly directory: DirectoryStore;
  readonly audit: AuditStore;
  readonly approvals: ApprovalStore;
  readonly trust?: TrustJournalStore | null;
  readonly invocations: InvocationStore;
  readonly schedulerLease: SchedulerLeaseStore;
  readonly idempotency: IdempotencyStore;
}

export class ComposedKeychainStore implements KeychainStore {
  readonly directory: DirectoryStore;
  readonly audit: AuditStore;
  readonly approvals: ApprovalStore;
  readonly trust: TrustJournalStore | null;
  readonly invocations: InvocationStore;
  readonly schedulerLease: SchedulerLeaseStore;
  readonly idempotency: IdempotencyStore;
  private readonly connection: StoreConnection;
  private readonly keys: KeyStore;
  private readonly schedule: KeyScheduleStore;
  private readonly naming: NamingStore;
  private readonly root: KeychainRootStore;

  constructor(parts: KeychainStoreParts) {
    this.connection = parts.connection;
    this.keys = parts.keys;
    this.schedule = parts.schedule;
    this.naming = parts.naming;
    this.root = parts.root;
    this.directory = parts.directory;
    this.audit = parts.audit;
    this.approvals = parts.approvals;
    this.trust = parts.trust ?? null;
    this.invocations = parts.invocations;
    this.schedulerLease = parts.schedulerLease;
    this.idempotency = parts.idempotency;
  }

  // TransactionalStore and the connection
  transaction<T>(fn: () => T, options?: TransactionOptions): T {
    return this.connection.transaction(fn, options);
  }

  changeStamp(): string {
    return this.connection.changeStamp();
  }

  holdUnusedSpaceZeroing(): () => void {
    return this.connection.holdUnusedSpaceZeroing?.() ?? (() => undefined);
  }

  commitsDurable(): Promise<void> {
    return this.connection.commitsDurable?.() ?? Promise.resolve();
  }

  ownCommitCount(): number {
    return this.connection.ownCommitCount();
  }

  get ownChanges(): OwnChangeFeed | null {
    return this.connection.ownChanges ?? null;
  }

  close(): void {
    this.connection.close();
  }

  // KeyStore
  createKey(key: KeyRecord, firstInstance: InstanceRecord): void {
    this.keys.createKey(key, firstInstance);
  }

  addPendingInstance(instance: InstanceRecord): void {
    this.keys.addPendingInstance(instance);
  }

  addCurrentInstance(instance: InstanceRecord, keyUpdate: KeyPointerUpdate, previousChange?: InstanceStateChange): void {
    this.keys.addCurrentInstance(instance, keyUpdate, previousChange);
  }

  getKeyById(id: string): KeyRecord | null {
    return this.keys.getKeyById(id);
  }

  getKeyByName(namespace: string, name: string): KeyRecord | null {
    return this.keys.getKeyByName(namespace, name);
  }

  listKeys(filter?: KeyFilter): KeyRecord[] {
    return this.keys.listKeys(filter);
  }

  countKeys(): number {
    return this.keys.countKeys();
  }

  countByState(): StateCounts {
    return this.keys.countByState();
  }

  getInstanceById(id: string): InstanceRecord | null {
    return this.keys.getInstanceById(id);
  }

  getInstanceByName(name: string): InstanceRecord | null {
    return this.keys.getInstanceByName(name);
  }

  listInstances(keyId: string): InstanceRecord[] {
    return this.keys.listInstances(keyId);
  }

  updateInstanceState(change: InstanceStateChange): void {
    this.keys.updateInstanceState(change);
  }

  moveCurrentInstance(keyId: string, instanceId: string, keyUpdate: KeyPointerUpdate, changes: readonly InstanceStateChange[]): void {
    this.keys.moveCurrentInstance(keyId, instanceId, keyUpdate, changes);
  }

  updateKeyPolicy(update: KeyPolicyUpdate): void {
    this.keys.updateKeyPolicy(update);
  }

  updateKeyAttributes(update: KeyAttributesUpdate): void {
    this.keys.updateKeyAttributes(update);
  }

  // KeyScheduleStore
  listRetentionExpired(beforeIso: string, limit: number): string[] {
    return this.schedule.listRetentionExpired(beforeIso, limit);
  }

  listDueProcessStops(atIso: string, limit: number): DueProcessStop[] {
    return this.schedule.listDueProcessStops(atIso, limit);
  }

  listDueActivations(atIso: string, limit: number): DueActivation[] {
    return this.schedule.listDueActivations(atIso, limit);
  }

  listDueDestructions(atIso: string, limit: number): DueDestruction[] {
    return this.schedule.listDueDestructions(atIso, limit);
  }

  listDueKeys(atIso: string, limit: number): DueKey[] {
    return this.schedule.listDueKeys(atIso, limit);
  }

  // NamingStore
  putAlias(alias: AliasRecord): void {
    this.naming.putAlias(alias);
  }

  getAlias(alias: string): AliasRecord | null {
    return this.naming.getAlias(alias);
  }

  deleteAlias(alias: string): AliasRecord {
    return this.naming.deleteAlias(alias);
  }

  listAliases(): AliasRecord[] {
    return this.naming.listAliases();
  }

  listNamespaces(): NamespaceSummary[] {
    return this.naming.listNamespaces();
  }

  deleteNamespace(namespace: string): number {
    return this.naming.deleteNamespace(namespace);
  }

  // KeychainRootStore
  getMeta(): KeychainMetaRecord | null {
    return this.root.getMeta();
  }

  initialize(meta: KeychainMetaRecord, firstKey: WrappedKeychainKeyRecord): void {
    this.root.initialize(meta, firstKey);
  }

  listWrappedKeychainKeys(): WrappedKeychainKeyRecord[] {
    return this.root.listWrappedKeychainKeys();
  }

  putWrappedKeychainKey(record: WrappedKeychainKeyRecord): void {
    this.root.putWrappedKeychainKey(record);
  }

  rewrapKeychainKey(version: number, masterKeyVersion: number, wrapped: Buffer): void {
    this.root.rewrapKeychainKey(version, masterKeyVersion, wrapped);
  }

  getUnsealPolicy(): UnsealPolicyRecord | null {
    return this.root.getUnsealPolicy();
  }

  putUnsealPolicy(policy: UnsealPolicyRecord): void {
    this.root.putUnsealPolicy(policy);
  }

  listHsmSealedSecrets(): HsmSealedSecretRecord[] {
    return this.root.listHsmSealedSecrets();
  }

  getHsmSealedSecret(name: string): HsmSealedSecretRecord | null {
    return this.root.getHsmSealedSecret(name);
  }

  putHsmSealedSecret(record: HsmSealedSecretRecord): void {
    this.root.putHsmSealedSecret(record);
  }

  rewrapHsmSealedSecret(name: string, masterKeyVersion: number, wrappedKey: Buffer): void {
    this.root.rewrapHsmSealedSecret(name, masterKeyVersion, wrappedKey);
  }
}
