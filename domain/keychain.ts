/**
 * The keychain service: named keys with versioned instances, sealed under the
 * keychain key. Create, register, get (current instance or a named one),
 * describe, list and manual rollover. All of it works on the in-memory
 * keychain key: the HSM is used by unseal() only.
 *
 * A sealed keychain refuses every key operation with SEALED.
 *
 * This class is a facade: each concept lives in its own part under keys/
 * (sealing state, key catalogue, rollover, instance lifecycle, and the row
 * machinery they share), and every method here hands over to one of them.
 */
import { IdempotencyRecords } from './idempotency-records';
import type { UnsealedKeychainKey } from './keychain-key';
import { Clock, isoNow } from '../common/clock';
import { HsmPort } from '../hsm/hsm-port';
import { KeychainError } from '../common/errors';
import { KeychainStore } from '../storage/keychain-store';
import { TransactionOptions } from '../storage/transactional-store';
import { KeyFilter, NamespaceSummary } from '../storage/records';
import { ZoneCalendar } from './calendar';
import { IdSource, timeOrderedIds } from './ids';
import { KeychainChanges } from './keychain-changes';
import { InstanceState } from './instance-states';
import { RolloverPolicy } from './rollover-policy';
import { UsagePeriods } from './usage-periods';
import { InstanceView, KeyView, RetrievedKey } from './views';
import { InstanceLifecycle, MaterialIds, TransitionDates } from './keys/instance-lifecycle';
import { NextTurn } from './keys/fresh-flag-group';
import { KeyCatalogue, KeyDescription } from './keys/key-catalogue';
import { KeyRollover, ScheduledRollover } from './keys/key-rollover';
import { InstanceActivation } from './keys/instance-activation';
import { ActivationRecord, ActivationUndo } from './keys/activation-undo';
export type { ActivationRecord } from './keys/activation-undo';
import { KeyRef, KeyRows } from './keys/key-rows';
import { KeySpec } from './keys/key-spec';
import { KeychainSeal } from './keys/keychain-seal';
import { MaterialDigest, MaterialFacts } from './keys/material-facts';
import { ApprovalStore } from '../storage/approval-store';
import { DirectoryStore } from '../storage/directory-store';
import { ImportBinding, openImportMaterial, SealedImport, sealImportMaterial } from './keys/import-seal';
import { AuthenticatedApprovals } from './trust/authenticated-approvals';
import { AuthenticatedDirectory } from './trust/authenticated-directory';
import { AuthenticatedInvocations } from './trust/authenticated-invocations';
import { TrustCheck, TrustLedger } from './trust/trust-ledger';
import { TrustJournalStore } from '../storage/trust-journal-store';
import { NoticedRollover, rolloverNoticeMac } from './trust/rollover-notice-mac';
import { advanceFreshnessAnchor, assertNotRolledBack, readFreshnessAnchor } from './trust/freshness-anchor';
import { authenticatedSigners, ClusterSigner, enrolAuditSigner, EnrolmentResult, SignerEnrolment } from './audit/cluster-signers';
import { EventStamper } from './audit/audit-event';
import { authenticatedLease, SchedulerLease, SchedulerLeaseView } from './scheduler-lease';

export { MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE, MAX_CUSTOM_ATTRIBUTES, MAX_DESCRIPTION } from './keys/key-spec';
export type { KeyDescription, KeyRef, KeySpec, MaterialIds, TransitionDates };

export interface KeychainContext {
  readonly store: KeychainStore;
  readonly clock: Clock;
  readonly ids?: IdSource;
  /** IANA zone in which cryptoperiods end at midnight (config `timezone`). Default UTC. */
  readonly timeZone?: string;
  /** The rollover policy a key gets when created without one, by namespace (config `namespace_rollover`). */
  readonly namespaceDefaults?: ReadonlyMap<string, RolloverPolicy>;
  /** When a group of first servings commits its Fresh flags (keys/fresh-flag-group.ts). Default: the next turn (setImmediate). */
  readonly freshFlagTurn?: NextTurn;
}

export class Keychain {
  /** The injected clock (the sweeps time-box their batches with it). */
  readonly clock: Clock;
  private readonly store: KeychainStore;
  private readonly sealState: KeychainSeal;
  private readonly rows: KeyRows;
  private readonly catalogue: KeyCatalogue;
  private readonly rollovers: KeyRollover;
  private readonly activation: InstanceActivation;
  private readonly activationUndo: ActivationUndo;
  private readonly lifecycle: InstanceLifecycle;
  private readonly ledger: TrustLedger | null;
  /** What the last unseal's check found (null before one, or without a trust journal). */
  private trustAtUnseal: ({ readonly established: boolean } & TrustCheck) | null = null;
  /** Clients and grants, MAC'd and verified (domain/trust/): what every consumer reads them through. */
  readonly directory: DirectoryStore;
  /** Dual-control requests, votes and quorums, MAC'd and verified. */
  readonly approvals: ApprovalStore;
  /** Per-instance AES-GCM invocation marks, MAC'd and verified. */
  readonly invocations: AuthenticatedInvocations;
  /** Idempotency records of retried writes, authenticated (idempotency-records.ts). */
  readonly idempotency: IdempotencyRecords;
  /**
   * What tells the caches what changed (domain/keychain-changes.ts): this
   * process's own commits at once, by the rows they touched; others' by the
   * store's change counter, read at each lookup until pollOnly() (a server
   * polls it on a timer instead).
   */
  readonly changes: KeychainChanges;

  constructor(context: KeychainContext) {
    const { store, clock } = context;
    this.store = store;
    this.clock = clock;
    const trustKeys = () => this.sealState.trustKeys();
    this.ledger = (store.trust ?? null) === null ? null : new TrustLedger(store.trust as NonNullable<KeychainStore["trust"]>, trustKeys, clock);
    this.ledger?.attach();
    this.sealState = new KeychainSeal(store, clock, async (keys, hsm) => {
      if (this.ledger === null) return;
      // The token's counter first: a file older than what the token saw is refused before its rows are trusted.
      const anchored = await readFreshnessAnchor(hsm, keys.keychainId);
      assertNotRolledBack(anchored, this.ledger.storedCounter());
      const opened = this.ledger.openAtUnseal(keys);
      await advanceFreshnessAnchor(hsm, keys.keychainId, opened.counter, anchored);
      this.trustAtUnseal = opened;
    });
    this.directory = new AuthenticatedDirectory(store.directory, trustKeys);
    this.approvals = new AuthenticatedApprovals(store.approvals, trustKeys);
    this.invocations = new AuthenticatedInvocations(store.invocations, trustKeys);
    this.idempotency = new IdempotencyRecords(store.idempotency, trustKeys, clock);
    const shared = { store, clock, ids: context.ids ?? timeOrderedIds(clock), timeZone: new ZoneCalendar(context.timeZone ?? 'UTC'), seal: this.sealState };
    this.changes = new KeychainChanges(store);
    this.rows = new KeyRows(shared, this.changes);
    const parts = { ...shared, rows: this.rows };
    this.catalogue = new KeyCatalogue(parts, context.namespaceDefaults ?? new Map());
    this.rollovers = new KeyRollover(parts, this.catalogue);
    this.activation = new InstanceActivation(parts);
    this.activationUndo = new ActivationUndo(parts);
    this.lifecycle = new InstanceLifecycle(parts, context.freshFlagTurn);
  }

  /** Runs `fn` in one store transaction (operations inside it nest as savepoints); `batch` for many writes in one commit. */
  transaction<T>(fn: () => T, options?: TransactionOptions): T {
    return this.store.transaction(fn, options);
  }

  /** For a sweep that destroys in many batches: the store's walk that zeroes freed space runs once, at the release (storage/transactional-store.ts). */
  holdUnusedSpaceZeroing(): () => void {
    return this.store.holdUnusedSpaceZeroing?.() ?? (() => undefined);
  }

  // Sealing state (keys/keychain-seal.ts).
  get isSealed(): boolean {
    return this.sealState.isSealed;
  }
  /** Bumped by every seal, whatever sealed it (a Seal, an integrity failure): state held since an earlier one is dropped. */
  get sealGeneration(): number {
    return this.sealState.sealGeneration;
  }
  unseal(hsm: HsmPort, unsealSecret?: Uint8Array): Promise<void> {
    if (this.heldSealed !== null) return Promise.reject(new KeychainError('SEALED', this.heldSealed));
    return this.sealState.unseal(hsm, unsealSecret);
  }
  /**
   * Seals and keeps it sealed until the process opens the keychain again (a
   * restore staged to replace this file at the next start: nothing more may
   * change in the file it replaces). `reason` is what an unseal is told.
   */
  sealUntilRestart(reason: string): void {
    this.heldSealed = reason;
    this.seal();
  }
  /** Lifts sealUntilRestart (a restore that failed before its intent was recorded). */
  releaseSealHold(): void {
    this.heldSealed = null;
  }
  private heldSealed: string | null = null;
  /** Zeroes every keychain key version and the row MAC key, and forgets the rows they authenticated. Idempotent. */
  seal(): void {
    this.sealState.seal();
    this.rows.forgetResolved();
    this.changes.dropEverything();
    for (const listener of this.sealListeners) listener();
  }
  private readonly sealListeners: Array<() => void> = [];
  /** `listener` runs at every seal, after the keys are zeroed: what else holds secrets (drawn-ahead key bytes) zeroes them too. */
  onSeal(listener: () => void): void {
    this.sealListeners.push(listener);
  }
  /**
   * Copies of every keychain key version held now (SEALED when sealed); the
   * caller wipes them. For a restore of a share-bound keychain's backup
   * (domain/backup/share-bound-keys.ts): the custodians opened these keys
   * at the last unseal, and the backup's keychain key is one of them.
   */
  copyKeychainKeys(): UnsealedKeychainKey {
    const unsealed = this.sealState.requireUnsealed();
    const keys = new Map<number, Buffer>();
    for (const [version, key] of unsealed.keys) keys.set(version, Buffer.from(key));
    return { keychainId: unsealed.keychainId, keys, currentVersion: unsealed.currentVersion };
  }
  /** What the last unseal found of the rows' freshness: whether it established the trust state, its counter. */
  trustOpened(): ({ readonly established: boolean } & TrustCheck) | null {
    return this.trustAtUnseal;
  }
  /** The full freshness check of the authenticated rows (INTEGRITY_FAILURE on a mismatch); null without a trust journal. */
  checkTrust(): TrustCheck | null {
    return this.ledger?.check() ?? null;
  }
  /**
   * At each audit checkpoint: the full check, walked in steps that give the
   * event loop back (`pause`), then the HSM token's freshness anchor raised
   * to the checked counter. Null without a trust journal, or when sealed meanwhile.
   */
  async checkAndAnchorTrust(hsm: HsmPort, pause: () => Promise<void>): Promise<TrustCheck | null> {
    const checked = (await this.ledger?.checkInSteps(pause)) ?? null;
    const keychainId = this.sealState.trustKeys()?.keychainId;
    if (checked !== null && keychainId !== undefined) await advanceFreshnessAnchor(hsm, keychainId, checked.counter);
    return checked;
  }
  /**
   * The full freshness check of a copy of this keychain's rows (a backup's
   * snapshot) under this keychain's trust keys, in steps: INTEGRITY_FAILURE
   * when its rows are not the ones its own trust state counts; null while
   * sealed (no verdict). The copy is only read.
   */
  checkTrustOfCopy(copy: TrustJournalStore, pause: () => Promise<void>): Promise<TrustCheck | null> {
    return new TrustLedger(copy, () => this.sealState.trustKeys(), this.clock).checkInSteps(pause);
  }
  /** The cluster's audit checkpoint signers, every row authenticated (audit/cluster-signers.ts): SEALED while sealed, INTEGRITY_FAILURE for a row it did not write. */
  auditSigners(): ClusterSigner[] {
    return authenticatedSigners(this.store.audit, this.sealState.trustKeys());
  }

  /** Adds a signer and its audit event in one transaction (audit/cluster-signers.ts); only while unsealed. */
  enrolAuditSigner(stamper: EventStamper, enrolment: SignerEnrolment): EnrolmentResult {
    return enrolAuditSigner(this.store, this.sealState.trustKeys(), stamper, enrolment);
  }

  /** This node's hold on the scheduler's lease (scheduler-lease.ts): the sweeps claim it in each batch's transaction. */
  schedulerLease(node: string, ttlMs: number): SchedulerLease {
    return new SchedulerLease({ store: this.store.schedulerLease, keys: () => this.sealState.trustKeys(), node, clock: this.clock, ttlMs });
  }

  /** The scheduler's lease as stored, authenticated (null before any node took it): SEALED while sealed, INTEGRITY_FAILURE for a row it did not write. */
  readSchedulerLease(): SchedulerLeaseView | null {
    const lease = authenticatedLease(this.store.schedulerLease, this.sealState.trustKeys());
    return lease === null ? null : { holder: lease.holder, epoch: lease.epoch, expiresAt: lease.expiresAt };
  }

  putSystemSecret(name: string, secret: Buffer): void {
    this.sealState.putSystemSecret(name, secret);
  }
  getSystemSecret(name: string): Buffer | null {
    return this.sealState.getSystemSecret(name);
  }
  /** Seals a key import's material for its approval record (keys/import-seal.ts). */
  sealImportMaterial(binding: ImportBinding, material: Buffer): SealedImport {
    return sealImportMaterial(this.sealState, binding, material);
  }
  /** Opens it at execution: a fresh Buffer the caller zeroes; INTEGRITY_FAILURE if it is not this request's. */
  openImportMaterial(binding: ImportBinding, stored: SealedImport): Buffer {
    return openImportMaterial(this.sealState, binding, stored);
  }

  // Key catalogue (keys/key-catalogue.ts).
  createKey(spec: KeySpec): KeyDescription {
    return this.catalogue.createKey(spec);
  }
  registerKey(spec: KeySpec, material: Buffer): KeyDescription {
    return this.catalogue.registerKey(spec, material);
  }
  describeKey(fullName: string): KeyDescription {
    return this.catalogue.describeKey(fullName);
  }
  setCustomAttributes(fullName: string, set: Readonly<Record<string, string>>, remove: readonly string[], description?: string): KeyDescription {
    return this.catalogue.setCustomAttributes(fullName, set, remove, description);
  }
  keyNameOfInstance(instanceName: string): string | null {
    return this.catalogue.keyNameOfInstance(instanceName);
  }
  describeInstance(ref: KeyRef): InstanceView {
    return this.catalogue.describeInstance(ref);
  }
  describeMaterial(ref: KeyRef): MaterialFacts {
    return this.catalogue.describeMaterial(ref);
  }
  listKeys(filter: KeyFilter = {}): KeyView[] {
    return this.catalogue.listKeys(filter);
  }
  countKeys(): number {
    return this.catalogue.countKeys();
  }
  keyNameById(keyId: string): string {
    return this.catalogue.keyNameById(keyId);
  }
  resolveName(fullName: string): string {
    return this.catalogue.resolveName(fullName);
  }
  listNamespaces(): NamespaceSummary[] {
    return this.catalogue.listNamespaces();
  }
  removeNamespace(namespace: string): number {
    return this.catalogue.removeNamespace(namespace);
  }
  setAlias(alias: string, target: string): { alias: string; key: string } {
    return this.catalogue.setAlias(alias, target);
  }
  removeAlias(alias: string): { alias: string; key: string } {
    return this.catalogue.removeAlias(alias);
  }
  listAliases(): Array<{ alias: string; key: string }> {
    return this.catalogue.listAliases();
  }

  // Rollover (keys/key-rollover.ts).
  rollover(fullName: string, material?: Buffer, activateAt?: string, expectedCurrent?: string): KeyDescription {
    return this.rollovers.rollover(fullName, material, activateAt, expectedCurrent);
  }
  rolloverIfDue(keyId: string, atMs: number): ScheduledRollover | null {
    return this.rollovers.rolloverIfDue(keyId, atMs);
  }
  undoRollover(fullName: string): KeyDescription {
    return this.rollovers.undoRollover(fullName);
  }
  setRolloverPolicy(fullName: string, policy: RolloverPolicy | undefined, usagePeriods?: UsagePeriods): KeyDescription {
    return this.rollovers.setRolloverPolicy(fullName, policy, usagePeriods);
  }
  dueKeys(atMs: number, limit: number): Array<{ keyId: string; nextRolloverAt: string }> {
    return this.rollovers.dueKeys(atMs, limit);
  }
  /** The MAC that marks a rollover notice in the audit trail as this appliance's (trust/rollover-notice-mac.ts); null while sealed. */
  rolloverNoticeMac(notice: NoticedRollover): string | null {
    const keys = this.sealState.trustKeys();
    return keys === null ? null : rolloverNoticeMac(keys, notice);
  }

  // Instance lifecycle and material (keys/instance-lifecycle.ts).
  getKey(ref: KeyRef): RetrievedKey {
    return this.lifecycle.getKey(ref);
  }

  /** getKey whose first serving waits for its Fresh flag's group commit (keys/fresh-flag-group.ts). */
  getKeyWhenServed(ref: KeyRef): RetrievedKey | Promise<RetrievedKey> {
    return this.lifecycle.getKeyWhenServed(ref);
  }
  /** SHA-256 of an instance's material, or null (no material, or SECRET: keys/material-facts.ts). */
  digestMaterial(ref: KeyRef): MaterialDigest | null {
    return this.lifecycle.digestMaterial(ref);
  }
  useMaterial<T>(ref: KeyRef, allow: (key: KeyView, instance: InstanceView) => void, use: (material: Buffer, ids: MaterialIds) => T): T {
    return this.lifecycle.useMaterial(ref, allow, use);
  }
  transitionInstance(ref: KeyRef, to: InstanceState, dates: TransitionDates, dropMaterial = false, capture?: (record: ActivationRecord) => void): InstanceView {
    return this.lifecycle.transitionInstance(ref, to, dates, dropMaterial, capture);
  }
  /** Reverses an activation this process captured (keys/activation-undo.ts); WRONG_STATE if the rows changed since. */
  undoActivation(record: ActivationRecord): InstanceView {
    return this.activationUndo.undo(record, isoNow(this.clock));
  }
  scheduleDestruction(ref: KeyRef, destroyAt: string | null): InstanceView {
    return this.lifecycle.scheduleDestruction(ref, destroyAt);
  }
  retentionExpired(beforeMs: number, limit: number): string[] {
    return this.lifecycle.retentionExpired(beforeMs, limit);
  }
  scheduleIfRetentionOver(instanceId: string, deactivatedBeforeMs: number, destroyAtMs: number): InstanceView | null {
    return this.lifecycle.scheduleIfRetentionOver(instanceId, deactivatedBeforeMs, destroyAtMs);
  }
  // Activation dates (keys/instance-activation.ts).
  dueActivations(atMs: number, limit: number): Array<{ instanceId: string; activateAt: string }> {
    return this.activation.dueActivations(atMs, limit);
  }
  activateIfDue(instanceId: string, atMs: number): InstanceView | null {
    return this.activation.activateIfDue(instanceId, atMs);
  }
  dueProcessStops(atMs: number, limit: number): Array<{ instanceId: string; processStopAt: string }> {
    return this.lifecycle.dueProcessStops(atMs, limit);
  }
  deactivateIfProcessStopped(instanceId: string, atMs: number): InstanceView | null {
    return this.lifecycle.deactivateIfProcessStopped(instanceId, atMs);
  }
  dueDestructions(atMs: number, limit: number): Array<{ instanceId: string; destroyAt: string }> {
    return this.lifecycle.dueDestructions(atMs, limit);
  }
  destroyIfDue(instanceId: string, atMs: number): InstanceView | null {
    return this.lifecycle.destroyIfDue(instanceId, atMs);
  }
}
