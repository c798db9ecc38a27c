/**
 * The keychain service: named keys with versioned instances, sealed under the
 * keychain key. Create, register, get (current instance or a named one),
 * describe, list and manual rollover. All of it works on the in-memory
 * keychain key: the HSM is used by unseal() only.
 *
 * A sealed keychain refuses every key operation with SEALED.
 */
import { randomFillSync } from 'node:crypto';
import { Clock, isoNow } from '../common/clock';
import { KeychainError, ValidationError } from '../common/errors';
import { wipe } from '../common/secret';
import { HsmPort } from '../hsm/hsm-port';
import { KeychainStore } from '../storage/keychain-store';
import { applyInstanceChange, InstanceRecord, InstanceStateChange, KeyFilter, KeyRecord, NamespaceSummary } from '../storage/records';
import { Algorithm, algorithmInfo } from './algorithms';
import { IdSource, randomIds } from './ids';
import { assertTransition, InstanceState, isInstanceState, materialRetrievable } from './instance-states';
import { openMaterial, openWithAad, SealBinding, sealMaterial, sealWithAad } from './instance-seal';
import { encodeFields } from './field-encoding';
import { formatKeyName, parseKeyName } from './key-names';
import { UnsealedKeychainKey, unwrapKeychainKey } from './keychain-key';
import { ResolveCache } from './resolve-cache';
import { aliasRowMac, verifyAliasRow } from './row-mac';
import { deriveRowMacKey, InstanceRowFields, instanceRowMac, KeyRowFields, keyRowMac, verifyInstanceRow, verifyKeyRow } from './row-mac';
import { RolloverPolicy } from './rollover-policy';
import { rolloverDueAt } from './cryptoperiod';
import { UsagePeriods, usageStops } from './usage-periods';
import { ZoneCalendar } from './calendar';
import { checkUsageForFamily, defaultUsageMask } from './usage-mask';
import { instanceView, InstanceView, keyView, KeyView, RetrievedKey } from './views';
import { MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE, MAX_CUSTOM_ATTRIBUTES, MAX_DESCRIPTION } from './vocabulary/key-metadata-limits';

export { MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE, MAX_CUSTOM_ATTRIBUTES, MAX_DESCRIPTION };

export interface KeychainContext {
  readonly store: KeychainStore;
  readonly clock: Clock;
  readonly ids?: IdSource;
  /**
   * What tells the row cache that the store changed. Default: the store's
   * exact change stamp (one small query per lookup). A server passes a
   * cheaper one that sees its own writes at once and other processes'
   * writes within its watch interval.
   */
  readonly changeStamp?: () => string;
  /** IANA zone in which cryptoperiods end at midnight (config `timezone`). Default UTC. */
  readonly timeZone?: string;
  /** The rollover policy a key gets when created without one, by namespace (config `namespace_rollover`). */
  readonly namespaceDefaults?: ReadonlyMap<string, RolloverPolicy>;

}

export interface KeySpec {
  readonly fullName: string;
  readonly algorithm: Algorithm;
  readonly usageMask?: number;
  readonly description?: string;
  readonly owner?: string;
  readonly customAttributes?: Readonly<Record<string, string>>;
  readonly rollover?: RolloverPolicy;
  /** False creates the first instance PreActive (it must be activated before use). Default true. */
  readonly activate?: boolean;
  /** SP 800-57 usage periods of its instances (default: none). */
  readonly usagePeriods?: UsagePeriods;
}

/** Dates a lifecycle transition sets; absent ones are left as they are. */
export interface TransitionDates {
  readonly activatedAt?: string | null;
  readonly deactivatedAt?: string | null;
  readonly destroyedAt?: string | null;
  readonly destroyAt?: string | null;
}

export interface KeyRef {
  /** `namespace/name`; with no instance, the current instance is meant. */
  readonly fullName?: string;
  /** An instance name; alone it names that instance of whichever key owns it. */
  readonly instance?: string;
}

export interface KeyDescription {
  readonly key: KeyView;
  readonly instances: InstanceView[];
}

/** A key reference resolved to authenticated rows, with their views. */
interface Resolved {
  readonly key: KeyRecord;
  readonly instance: InstanceRecord;
  readonly keyView: KeyView;
  readonly instanceView: InstanceView;
}

/** The keychain keys and the row MAC key derived from the newest one, while unsealed. */
interface Unsealed extends UnsealedKeychainKey {
  readonly macKey: Buffer;
}

export class Keychain {
  private readonly store: KeychainStore;
  private readonly clock: Clock;
  private readonly ids: IdSource;
  private readonly timeZone: ZoneCalendar;
  private readonly namespaceDefaults: ReadonlyMap<string, RolloverPolicy>;

  private unsealed: Unsealed | null = null;
  /** The unseal in progress, so concurrent callers share one HSM round and one key copy. */
  private unsealing: Promise<void> | null = null;
  /** Bumped by seal(): an unseal that finishes after a seal must not undo it. */
  private sealCount = 0;
  private resolved: ResolveCache<Resolved>;

  constructor(context: KeychainContext) {
    this.store = context.store;
    this.clock = context.clock;
    this.ids = context.ids ?? randomIds;
    this.timeZone = new ZoneCalendar(context.timeZone ?? 'UTC');
    this.namespaceDefaults = context.namespaceDefaults ?? new Map();

    this.resolved = new ResolveCache(context.changeStamp ?? (() => this.store.changeStamp()));
  }

  /** Replaces what tells the row cache that the store changed (see KeychainContext.changeStamp). */
  useChangeStamp(changeStamp: () => string): void {
    this.resolved = new ResolveCache(changeStamp);
  }

  get isSealed(): boolean {
    return this.unsealed === null;
  }

  /**
   * Unwraps the keychain keys with the HSM; a share-bound keychain also
   * needs the custodians' recombined secret (the caller wipes it).
   */
  async unseal(hsm: HsmPort, unsealSecret?: Uint8Array): Promise<void> {
    if (this.unsealed !== null) return;
    this.unsealing ??= this.unwrap(hsm, unsealSecret).finally(() => {
      this.unsealing = null;
    });
    return this.unsealing;
  }

  /** Zeroes every keychain key version and the row MAC key. Idempotent. */
  seal(): void {
    this.sealCount++;
    this.resolved.clear();
    if (this.unsealed !== null) {
      for (const key of this.unsealed.keys.values()) wipe(key);
      wipe(this.unsealed.macKey);
    }
    this.unsealed = null;
  }

  private async unwrap(hsm: HsmPort, unsealSecret?: Uint8Array): Promise<void> {
    const sealCountAtStart = this.sealCount;
    const unwrapped = await unwrapKeychainKey(this.store, hsm, unsealSecret);
    const macKey = deriveRowMacKey(unwrapped.keys.get(unwrapped.currentVersion) as Buffer);
    if (this.sealCount !== sealCountAtStart) {
      for (const key of unwrapped.keys.values()) wipe(key);
      wipe(macKey);
      throw new KeychainError('SEALED', 'the keychain was sealed while it was being unsealed');
    }
    this.unsealed = { ...unwrapped, macKey };
  }

  /** Creates a key whose first instance's material the appliance generates. */
  createKey(spec: KeySpec): KeyDescription {
    const length = algorithmInfo(spec.algorithm).generateLength;
    if (length === null) {
      throw new ValidationError(`the appliance does not generate ${spec.algorithm} material; register it instead`);
    }
    const material = randomFillSync(Buffer.alloc(length));
    try {
      return this.insertKey(spec, material);
    } finally {
      wipe(material);
    }
  }

  /** Creates a key from material the caller supplies. Does not zero `material`: the caller owns it. */
  registerKey(spec: KeySpec, material: Buffer): KeyDescription {
    checkMaterialLength(spec.algorithm, material);
    return this.insertKey(spec, material);
  }

  /** The current instance's material, or a named instance's. The caller zeroes `material`. */
  getKey(ref: KeyRef): RetrievedKey {
    const unsealed = this.requireUnsealed();
    const { key, instance, keyView: view, instanceView: iview } = this.resolve(ref);
    const state = instance.state;
    refuseIfDestructionPending(instance);
    if (!isInstanceState(state) || !materialRetrievable(state) || instance.sealedMaterial === null) {
      throw new KeychainError('NO_MATERIAL', `instance ${instance.name} of ${formatKeyName(key)} is ${state} and has no retrievable material`, {
        details: { instance: instance.name, state },
      });
    }
    return { key: view, instance: iview, material: openMaterial(this.sealingKey(unsealed, instance.sealVersion), this.binding(key, instance), instance.sealedMaterial) };
  }

  describeKey(fullName: string): KeyDescription {
    this.requireUnsealed();
    const key = this.findKey(fullName);
    const instances = this.store.listInstances(key.id).map((i) => this.checkedInstance(i));
    const current = instances.find((i) => i.id === key.currentInstanceId);
    if (!current) throw new KeychainError('STORAGE_CORRUPT', `key ${formatKeyName(key)} points at a missing current instance`);
    return { key: keyView(key, current), instances: instances.map((i) => instanceView(i, key.currentInstanceId)) };
  }

  /** The full name of the key owning an instance, or null when no such instance exists. */
  keyNameOfInstance(instanceName: string): string | null {
    this.requireUnsealed();
    const found = this.store.getInstanceByName(instanceName);
    if (!found) return null;
    const instance = this.checkedInstance(found);
    const key = this.store.getKeyById(instance.keyId);
    return key ? formatKeyName(this.checkedKey(key)) : null;
  }

  /** The referenced instance's metadata (no material). */
  describeInstance(ref: KeyRef): InstanceView {
    this.requireUnsealed();
    return this.resolve(ref).instanceView;
  }

  listKeys(filter: KeyFilter = {}): KeyView[] {
    this.requireUnsealed();
    return this.store.listKeys(filter).map((record) => {
      const key = this.checkedKey(record);
      return keyView(key, this.currentInstanceOf(key));
    });
  }

  countKeys(): number {
    return this.store.countKeys();
  }

  /**
   * Manual rollover: a new instance becomes current, the previous current one
   * is Deactivated (it still decrypts and stays retrievable by name).
   * SECRET keys need the new material from the caller.
   */
  rollover(fullName: string, material?: Buffer): KeyDescription {
    this.requireUnsealed();
    return this.store.transaction(() => this.rollKey(this.findKey(fullName), material, this.clock.nowMs()));
  }

  /**
   * The scheduler's rollover: rolls the key over if, read again inside the
   * transaction, its policy is still `auto` and its next rollover is at or
   * before `atMs`; else does nothing and returns null. Running it twice, or
   * again after a crash, never gives a key two new instances for one due date.
   */
  rolloverIfDue(keyId: string, atMs: number): KeyDescription | null {
    this.requireUnsealed();
    return this.store.transaction(() => {
      const found = this.store.getKeyById(keyId);
      if (!found) return null;
      const key = this.checkedKey(found);
      if (key.rolloverPolicy !== 'auto' || key.nextRolloverAt === null || Date.parse(key.nextRolloverAt) > atMs) return null;
      return this.rollKey(key, undefined, atMs);
    });
  }

  /**
   * Undoes the last renewal: the previous instance becomes current and
   * Active again, the current one is Deactivated. Allowed only while the
   * previous instance is exactly as the renewal left it (Deactivated at the
   * moment the current one was activated, material intact): the one
   * sanctioned return from Deactivated to Active, for correcting a mistaken
   * rollover. An `auto` key's next rollover then counts from the undo.
   */
  undoRollover(fullName: string): KeyDescription {
    const unsealed = this.requireUnsealed();
    return this.store.transaction(() => {
      const key = this.findKey(fullName);
      const instances = this.store.listInstances(key.id).map((i) => this.checkedInstance(i));
      const current = instances.find((i) => i.id === key.currentInstanceId) as InstanceRecord;
      // The instance this rollover replaced: deactivated the moment the current one was activated.
      const previous = instances
        .filter((i) => i.version < current.version && i.deactivatedAt !== null && i.deactivatedAt === current.activatedAt)
        .pop();
      const undoable =
        current.state === 'Active' &&
        current.destroyAt === null &&
        previous !== undefined &&
        previous.state === 'Deactivated' &&
        previous.sealedMaterial !== null &&
        previous.destroyAt === null &&
        previous.deactivatedAt !== null &&
        previous.deactivatedAt === current.activatedAt;
      if (!undoable) {
        throw new KeychainError('WRONG_STATE', `the last renewal of ${formatKeyName(key)} cannot be undone: the previous instance is no longer as the renewal left it`);
      }
      const nowMs = this.clock.nowMs();
      const now = new Date(nowMs).toISOString();
      const nextRolloverAt = this.nextRolloverFrom(key, nowMs);
      const movedKey = { ...key, currentInstanceId: previous.id, updatedAt: now, nextRolloverAt };
      this.store.moveCurrentInstance(key.id, previous.id, { updatedAt: now, nextRolloverAt, rowMac: keyRowMac(unsealed.macKey, unsealed.keychainId, movedKey) }, [
        // Re-activated now: a second undo cannot walk further back through older renewals.
        this.stateChange(unsealed, previous, { state: 'Active', activatedAt: now, deactivatedAt: null }),
        this.stateChange(unsealed, current, { state: 'Deactivated', deactivatedAt: now }),
      ]);
      return this.describeKey(formatKeyName(key));
    });
  }

  /** Runs `fn` in one store transaction (operations inside it nest as savepoints). */
  transaction<T>(fn: () => T): T {
    return this.store.transaction(fn);
  }

  /** Namespaces (key stores) with their key counts. */
  listNamespaces(): NamespaceSummary[] {
    this.requireUnsealed();
    return this.store.listNamespaces();
  }

  /**
   * Removes a namespace: only when every key in it is destroyed (every
   * instance Destroyed or Destroyed-Compromised); its keys' metadata and
   * aliases go with it. Returns how many keys were removed.
   */
  removeNamespace(namespace: string): number {
    this.requireUnsealed();
    return this.store.transaction(() => {
      const summary = this.store.listNamespaces().find((n) => n.namespace === namespace);
      if (!summary) throw new KeychainError('KEY_NOT_FOUND', `no namespace "${namespace}"`);
      if (summary.liveKeys > 0) {
        throw new KeychainError('WRONG_STATE', `namespace "${namespace}" still has ${summary.liveKeys} key(s) with instances that are not destroyed; destroy them first`, {
          details: { namespace, liveKeys: summary.liveKeys },
        });
      }
      return this.store.deleteNamespace(namespace);
    });
  }

  /** The real full name behind a name that may be an alias (what authorisation must check). */
  resolveName(fullName: string): string {
    return this.resolve({ fullName }).keyView.fullName; // the cached path: no query per request
  }

  /** Points `alias` (a full name that is not a key's) at the key `target` names; creates or moves it. */
  setAlias(alias: string, target: string): { alias: string; key: string } {
    const unsealed = this.requireUnsealed();
    return this.store.transaction(() => {
      const parsed = parseKeyName(alias);
      const canonical = formatKeyName(parsed);
      if (this.store.getKeyByName(parsed.namespace, parsed.name)) throw new KeychainError('KEY_EXISTS', `"${canonical}" is a key's name; an alias needs a name of its own`);
      const key = this.findKey(target);
      const fields = { alias: canonical, keyId: key.id, updatedAt: isoNow(this.clock) };
      this.store.putAlias({ ...fields, rowMac: aliasRowMac(unsealed.macKey, unsealed.keychainId, fields) });
      return { alias: canonical, key: formatKeyName(key) };
    });
  }

  removeAlias(alias: string): { alias: string; key: string } {
    this.requireUnsealed();
    return this.store.transaction(() => {
      const canonical = formatKeyName(parseKeyName(alias));
      const removed = this.store.deleteAlias(canonical);
      const key = this.store.getKeyById(removed.keyId);
      return { alias: canonical, key: key ? formatKeyName(key) : removed.keyId };
    });
  }

  listAliases(): Array<{ alias: string; key: string }> {
    const unsealed = this.requireUnsealed();
    return this.store.listAliases().map((record) => {
      verifyAliasRow(unsealed.macKey, unsealed.keychainId, record);
      const key = this.store.getKeyById(record.keyId);
      return { alias: record.alias, key: key ? formatKeyName(this.checkedKey(key)) : record.keyId };
    });
  }

  /** Changes a key's rollover policy; an `auto` key's next rollover is counted from its current instance's activation. */
  setRolloverPolicy(fullName: string, policy: RolloverPolicy, usagePeriods?: UsagePeriods): KeyDescription {
    const unsealed = this.requireUnsealed();
    return this.store.transaction(() => {
      const key = this.findKey(fullName);
      const current = this.currentInstanceOf(key);
      const now = isoNow(this.clock);
      if (policy.kind === 'auto' && algorithmInfo(key.algorithm as Algorithm).generateLength === null) {
        throw new ValidationError(`${formatKeyName(key)} holds ${key.algorithm} material the appliance cannot generate: it cannot roll over automatically`);
      }
      const since = Date.parse(current.activatedAt ?? current.createdAt);
      // A PreActive key's cryptoperiod starts at activation, not now.
      const next =
        policy.kind === 'auto' && policy.cryptoperiod && current.activatedAt !== null
          ? new Date(rolloverDueAt(since, policy.cryptoperiod, this.timeZone)).toISOString()
          : null;
      // New usage periods apply to instances activated from now on; existing instances keep their dates.
      const periods = usagePeriods ?? { protectPeriod: key.protectPeriod, processPeriod: key.processPeriod };
      usageStops(periods, since, this.timeZone); // validates the pair
      const updated = { ...key, rolloverPolicy: policy.kind, cryptoperiod: policy.cryptoperiod, nextRolloverAt: next, ...periods, updatedAt: now };
      this.store.updateKeyPolicy({
        keyId: key.id,
        rolloverPolicy: policy.kind,
        cryptoperiod: policy.cryptoperiod,
        nextRolloverAt: next,
        ...periods,
        updatedAt: now,
        rowMac: keyRowMac(unsealed.macKey, unsealed.keychainId, updated),
      });
      return this.describeKey(formatKeyName(key));
    });
  }

  /** The full name of a key by id; KEY_NOT_FOUND when absent. */
  keyNameById(keyId: string): string {
    this.requireUnsealed();
    const key = this.store.getKeyById(keyId);
    if (!key) throw new KeychainError('KEY_NOT_FOUND', `no key with id ${keyId}`);
    return formatKeyName(this.checkedKey(key));
  }

  /** Keys due for rollover at `atMs` (ids and due dates), soonest first. */
  dueKeys(atMs: number, limit: number): Array<{ keyId: string; nextRolloverAt: string }> {
    this.requireUnsealed();
    return this.store.listDueKeys(new Date(atMs).toISOString(), limit);
  }

  /** Inside a transaction: a new current instance for `key`, dated `nowMs`; the previous one is Deactivated. */
  private rollKey(key: KeyRecord, material: Buffer | undefined, nowMs: number): KeyDescription {
    const unsealed = this.requireUnsealed();
    const generated = material === undefined;
    const algorithm = key.algorithm as Algorithm;
    if (key.rolloverPolicy === 'none') {
      throw new KeychainError('WRONG_STATE', `${formatKeyName(key)} has rollover policy "none"; change its policy to roll it over`);
    }
    let fresh: Buffer;
    if (generated) {
      const length = algorithmInfo(algorithm).generateLength;
      if (length === null) throw new ValidationError(`${formatKeyName(key)} holds ${algorithm} material: give the new material to roll it over`);
      fresh = randomFillSync(Buffer.alloc(length));
    } else {
      checkMaterialLength(algorithm, material);
      fresh = material;
    }
    try {
      const previous = this.currentInstanceOf(key);
      const versions = this.store.listInstances(key.id).map((i) => i.version);
      const now = new Date(nowMs).toISOString();
      const instance = this.newInstance(unsealed, key, Math.max(...versions) + 1, fresh, this.ids.newId(), 'Active', now);
      const nextRolloverAt = this.nextRolloverFrom(key, nowMs);
      const movedKey = { ...key, currentInstanceId: instance.id, updatedAt: now, nextRolloverAt };
      this.store.addCurrentInstance(
        instance,
        { updatedAt: now, nextRolloverAt, rowMac: keyRowMac(unsealed.macKey, unsealed.keychainId, movedKey) },
        previous.state === 'Active' ? this.stateChange(unsealed, previous, { state: 'Deactivated', deactivatedAt: now }) : undefined,
      );
      return this.describeKey(formatKeyName(key));
    } finally {
      if (generated) wipe(fresh);
    }
  }

  /** The next scheduled rollover of a key whose current instance became active at `activatedMs`. */
  private nextRolloverFrom(key: Pick<KeyRecord, 'rolloverPolicy' | 'cryptoperiod'>, activatedMs: number): string | null {
    if (key.rolloverPolicy !== 'auto' || key.cryptoperiod === null) return null;
    return new Date(rolloverDueAt(activatedMs, key.cryptoperiod, this.timeZone)).toISOString();
  }

  /**
   * Opens the referenced instance's material for an operation, after
   * `allow(key, instance)` has approved (it throws to refuse: state, usage);
   * runs `use` and zeroes the material whatever happens. Keys and instances
   * reach `allow` and `use` already authenticated (row MACs).
   */
  useMaterial<T>(ref: KeyRef, allow: (key: KeyView, instance: InstanceView) => void, use: (material: Buffer, ids: MaterialIds) => T): T {
    const unsealed = this.requireUnsealed();
    const { key, instance, keyView: view, instanceView: iview } = this.resolve(ref);
    refuseIfDestructionPending(instance);
    allow(view, iview);
    if (instance.sealedMaterial === null) {
      throw new KeychainError('NO_MATERIAL', `instance ${instance.name} of ${formatKeyName(key)} has no material`, { details: { instance: instance.name } });
    }
    const material = openMaterial(this.sealingKey(unsealed, instance.sealVersion), this.binding(key, instance), instance.sealedMaterial);
    try {
      return use(material, { keychainId: unsealed.keychainId, keyId: key.id, instanceId: instance.id, instanceName: instance.name, algorithm: key.algorithm });
    } finally {
      wipe(material);
    }
  }

  /**
   * Moves an instance to another lifecycle state, after assertTransition
   * allows it, setting the given dates; `dropMaterial` destroys its material
   * (NULL in the row; the store scrubs the freed pages).
   */
  transitionInstance(ref: KeyRef, to: InstanceState, dates: TransitionDates, dropMaterial = false): InstanceView {
    const unsealed = this.requireUnsealed();
    return this.store.transaction(() => {
      // Read again inside the write transaction, never from the row cache: a
      // cached row may predate another process's commit.
      const { key, instance } = this.resolveUncached(ref);
      const from = instance.state;
      if (!isInstanceState(from)) throw new KeychainError('STORAGE_CORRUPT', `instance ${instance.name} has an unknown state`);
      assertTransition(from, to);
      if (to === 'Active' && instance.destroyAt !== null) {
        throw new KeychainError('WRONG_STATE', `instance ${instance.name} is scheduled for destruction; cancel the destruction before activating it`);
      }
      // Activation starts the instance's usage periods.
      const stops = to === 'Active' ? usageStops(key, Date.parse(dates.activatedAt ?? isoNow(this.clock)), this.timeZone) : {};
      const change = this.stateChange(unsealed, instance, { state: to, ...dates, ...stops, dropMaterial });
      this.store.updateInstanceState(change);
      if (to === 'Active' && instance.id === key.currentInstanceId && key.rolloverPolicy === 'auto') {
        // A PreActive key's cryptoperiod starts when it is activated.
        const activatedMs = Date.parse(dates.activatedAt ?? isoNow(this.clock));
        const nextRolloverAt = this.nextRolloverFrom(key, activatedMs);
        const updatedAt = isoNow(this.clock);
        const updated = { ...key, nextRolloverAt, updatedAt };
        this.store.updateKeyPolicy({
          keyId: key.id,
          rolloverPolicy: key.rolloverPolicy,
          cryptoperiod: key.cryptoperiod,
          nextRolloverAt,
          protectPeriod: key.protectPeriod,
          processPeriod: key.processPeriod,
          updatedAt,
          rowMac: keyRowMac(unsealed.macKey, unsealed.keychainId, updated),
        });
      }
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }

  /**
   * Schedules (a date) or cancels (null) the destruction of an instance. Only
   * an instance that is not Active and still has material can be scheduled;
   * while a destruction is pending the instance refuses every use.
   */
  scheduleDestruction(ref: KeyRef, destroyAt: string | null): InstanceView {
    const unsealed = this.requireUnsealed();
    return this.store.transaction(() => {
      const { key, instance } = this.resolveUncached(ref);
      if (destroyAt !== null) {
        if (instance.state === 'Active') throw new KeychainError('WRONG_STATE', `instance ${instance.name} is Active: revoke (deactivate) it before destroying it`);
        if (instance.sealedMaterial === null) throw new KeychainError('WRONG_STATE', `instance ${instance.name} is already destroyed`);
      } else if (instance.destroyAt === null) {
        throw new KeychainError('WRONG_STATE', `no destruction of instance ${instance.name} is pending`);
      }
      const change = this.stateChange(unsealed, instance, { state: instance.state, destroyAt });
      this.store.updateInstanceState(change);
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }

  /** Deactivated instances, not current, with material and no destruction pending, deactivated at or before `beforeMs`. */
  retentionExpired(beforeMs: number, limit: number): string[] {
    this.requireUnsealed();
    return this.store.listRetentionExpired(new Date(beforeMs).toISOString(), limit);
  }

  /**
   * Schedules the destruction of an instance whose retention is over (read
   * again inside the transaction); the usual destruction wait and cancel
   * apply. Returns null when there was nothing to do.
   */
  scheduleIfRetentionOver(instanceId: string, deactivatedBeforeMs: number, destroyAtMs: number): InstanceView | null {
    const unsealed = this.requireUnsealed();
    return this.store.transaction(() => {
      const found = this.store.getInstanceById(instanceId);
      if (!found) return null;
      const instance = this.checkedInstance(found);
      const key = this.checkedKey(this.store.getKeyById(instance.keyId) as KeyRecord);
      const over = instance.state === 'Deactivated' && instance.deactivatedAt !== null && Date.parse(instance.deactivatedAt) <= deactivatedBeforeMs;
      if (!over || instance.destroyAt !== null || instance.sealedMaterial === null || instance.id === key.currentInstanceId) return null;
      const change = this.stateChange(unsealed, instance, { state: instance.state, destroyAt: new Date(destroyAtMs).toISOString() });
      this.store.updateInstanceState(change);
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }

  /** Active instances past their process-stop date at `atMs`. */
  dueProcessStops(atMs: number, limit: number): Array<{ instanceId: string; processStopAt: string }> {
    this.requireUnsealed();
    return this.store.listDueProcessStops(new Date(atMs).toISOString(), limit);
  }

  /** Deactivates an instance whose recipient usage period has ended (read again inside the transaction); null if nothing to do. */
  deactivateIfProcessStopped(instanceId: string, atMs: number): InstanceView | null {
    const unsealed = this.requireUnsealed();
    return this.store.transaction(() => {
      const found = this.store.getInstanceById(instanceId);
      if (!found) return null;
      const instance = this.checkedInstance(found);
      if (instance.state !== 'Active' || instance.processStopAt === null || Date.parse(instance.processStopAt) > atMs) return null;
      const key = this.checkedKey(this.store.getKeyById(instance.keyId) as KeyRecord);
      const change = this.stateChange(unsealed, instance, { state: 'Deactivated', deactivatedAt: instance.processStopAt });
      this.store.updateInstanceState(change);
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }

  /** Instances whose scheduled destruction is due at `atMs`. */
  dueDestructions(atMs: number, limit: number): Array<{ instanceId: string; destroyAt: string }> {
    this.requireUnsealed();
    return this.store.listDueDestructions(new Date(atMs).toISOString(), limit);
  }

  /**
   * Carries out a scheduled destruction if, read again inside the
   * transaction, it is still pending and due: the material is dropped, the
   * metadata stays. Returns the instance, or null when there was nothing to do.
   */
  destroyIfDue(instanceId: string, atMs: number): InstanceView | null {
    const unsealed = this.requireUnsealed();
    return this.store.transaction(() => {
      const found = this.store.getInstanceById(instanceId);
      if (!found) return null;
      const instance = this.checkedInstance(found);
      if (instance.destroyAt === null || Date.parse(instance.destroyAt) > atMs) return null;
      const key = this.checkedKey(this.store.getKeyById(instance.keyId) as KeyRecord);
      const to: InstanceState = instance.state === 'Compromised' ? 'DestroyedCompromised' : 'Destroyed';
      assertTransition(instance.state as InstanceState, to);
      const change = this.stateChange(unsealed, instance, { state: to, destroyedAt: new Date(atMs).toISOString(), destroyAt: null, dropMaterial: true });
      this.store.updateInstanceState(change);
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }

  /** Seals an appliance secret (e.g. the CA private key) under the current keychain key and stores it. */
  putSystemSecret(name: string, secret: Buffer): void {
    const unsealed = this.requireUnsealed();
    const sealVersion = unsealed.currentVersion;
    const sealed = sealWithAad(this.sealingKey(unsealed, sealVersion), systemSecretAad(unsealed.keychainId, name, sealVersion), secret);
    this.store.directory.putSystemSecret({ name, sealed, sealVersion, createdAt: isoNow(this.clock) });
  }

  /** Opens an appliance secret; null when absent. The caller zeroes the Buffer. */
  getSystemSecret(name: string): Buffer | null {
    const unsealed = this.requireUnsealed();
    const record = this.store.directory.getSystemSecret(name);
    if (!record) return null;
    return openWithAad(this.sealingKey(unsealed, record.sealVersion), systemSecretAad(unsealed.keychainId, name, record.sealVersion), record.sealed, (why, cause) =>
      new KeychainError('INTEGRITY_FAILURE', `system secret ${name} failed authentication (${why})`, { cause }),
    );
  }

  private insertKey(spec: KeySpec, material: Buffer): KeyDescription {
    const unsealed = this.requireUnsealed();
    const { namespace, name } = parseKeyName(spec.fullName);
    const rollover: RolloverPolicy = spec.rollover ?? this.namespaceDefaults.get(namespace) ?? { kind: 'manual', cryptoperiod: null };
    if (spec.usageMask !== undefined) checkUsageForFamily(spec.usageMask, algorithmInfo(spec.algorithm).family);
    if (rollover.kind === 'auto' && algorithmInfo(spec.algorithm).generateLength === null) {
      throw new ValidationError(`${spec.algorithm} material cannot be generated by the appliance: such a key cannot roll over automatically`);
    }
    const now = isoNow(this.clock);
    const keyId = this.ids.newId();
    const instanceId = this.ids.newId();
    const fields: KeyRowFields = {
      id: keyId,
      namespace,
      name,
      algorithm: spec.algorithm,
      usageMask: spec.usageMask ?? defaultUsageMask(algorithmInfo(spec.algorithm).family),
      description: checkText('description', spec.description ?? '', MAX_DESCRIPTION),
      owner: checkText('owner', spec.owner ?? '', MAX_ATTRIBUTE_VALUE),
      customAttributes: checkAttributes(spec.customAttributes ?? {}),
      rolloverPolicy: rollover.kind,
      cryptoperiod: rollover.cryptoperiod,
      currentInstanceId: instanceId,
      // A PreActive key starts its cryptoperiod when it is activated.
      protectPeriod: spec.usagePeriods?.protectPeriod ?? null,
      processPeriod: spec.usagePeriods?.processPeriod ?? null,
      nextRolloverAt: spec.activate === false ? null : this.nextRolloverFrom({ rolloverPolicy: rollover.kind, cryptoperiod: rollover.cryptoperiod }, this.clock.nowMs()),
      createdAt: now,
      updatedAt: now,
    };
    const key: KeyRecord = { ...fields, rowMac: keyRowMac(unsealed.macKey, unsealed.keychainId, fields) };
    const instance = this.newInstance(unsealed, key, 1, material, instanceId, spec.activate === false ? 'PreActive' : 'Active');
    if (this.store.getAlias(formatKeyName({ namespace, name })) !== null) {
      throw new KeychainError('KEY_EXISTS', `"${formatKeyName({ namespace, name })}" is an alias; remove the alias or pick another name`);
    }
    this.store.createKey(key, instance);
    return this.describeKey(formatKeyName(key));
  }

  private newInstance(
    unsealed: Unsealed,
    key: KeyRecord,
    version: number,
    material: Buffer,
    id = this.ids.newId(),
    state: 'Active' | 'PreActive' = 'Active',
    now = isoNow(this.clock),
  ): InstanceRecord {
    const draft = { id, keyId: key.id, version, sealVersion: unsealed.currentVersion };
    const fields: InstanceRowFields = {
      ...draft,
      name: this.ids.newInstanceName(),
      state,
      sealedMaterial: sealMaterial(this.sealingKey(unsealed, draft.sealVersion), this.binding(key, draft), material),
      createdAt: now,
      activatedAt: state === 'Active' ? now : null,
      deactivatedAt: null,
      destroyedAt: null,
      destroyAt: null,
      ...(state === 'Active' ? usageStops(key, Date.parse(now), this.timeZone) : { protectStopAt: null, processStopAt: null }),
    };
    return { ...fields, rowMac: instanceRowMac(unsealed.macKey, unsealed.keychainId, fields) };
  }

  /** A state change of `instance`, with the MAC of the row as it will be after it. */
  private stateChange(unsealed: Unsealed, instance: InstanceRecord, change: Omit<InstanceStateChange, 'instanceId' | 'rowMac'>): InstanceStateChange {
    const draft = { ...change, instanceId: instance.id, rowMac: Buffer.alloc(0) };
    const after = applyInstanceChange(instance, draft);
    return { ...draft, rowMac: instanceRowMac(unsealed.macKey, unsealed.keychainId, after) };
  }

  private sealingKey(unsealed: Unsealed, version: number): Buffer {
    const key = unsealed.keys.get(version);
    if (!key) throw new KeychainError('INTEGRITY_FAILURE', `material sealed by keychain key v${version}, which this keychain does not have`);
    return key;
  }

  private checkedKey(record: KeyRecord): KeyRecord {
    const unsealed = this.requireUnsealed();
    return verifyKeyRow(unsealed.macKey, unsealed.keychainId, record);
  }

  private checkedInstance(record: InstanceRecord): InstanceRecord {
    const unsealed = this.requireUnsealed();
    return verifyInstanceRow(unsealed.macKey, unsealed.keychainId, record);
  }

  private binding(key: KeyRecord, instance: Pick<InstanceRecord, 'id' | 'version' | 'sealVersion'>): SealBinding {
    const unsealed = this.requireUnsealed();
    return {
      keychainId: unsealed.keychainId,
      keyId: key.id,
      instanceId: instance.id,
      version: instance.version,
      algorithm: key.algorithm,
      sealVersion: instance.sealVersion,
    };
  }

  private resolve(ref: KeyRef): Resolved {
    this.requireUnsealed();
    const cacheKey = ref.instance !== undefined ? `i\u0000${ref.instance}\u0000${ref.fullName ?? ''}` : `n\u0000${ref.fullName ?? ''}`;
    return this.resolved.get(cacheKey, () => {
      const { key, instance } = this.resolveUncached(ref);
      const current = instance.id === key.currentInstanceId ? instance : this.currentInstanceOf(key);
      return { key, instance, keyView: keyView(key, current), instanceView: instanceView(instance, key.currentInstanceId) };
    });
  }

  private resolveUncached(ref: KeyRef): { key: KeyRecord; instance: InstanceRecord } {
    if (ref.instance !== undefined) {
      const found = this.store.getInstanceByName(ref.instance);
      const instance = found ? this.checkedInstance(found) : null;
      const foundKey = instance ? this.store.getKeyById(instance.keyId) : null;
      const key = foundKey ? this.checkedKey(foundKey) : null;
      if (!instance || !key || (ref.fullName !== undefined && !sameKey(key, ref.fullName))) {
        throw new KeychainError('INSTANCE_NOT_FOUND', `no instance named "${ref.instance}"${ref.fullName ? ` of key ${ref.fullName}` : ''}`);
      }
      return { key, instance };
    }
    if (ref.fullName === undefined) throw new ValidationError('name a key, an instance, or both');
    const key = this.findKey(ref.fullName);
    return { key, instance: this.currentInstanceOf(key) };
  }

  /** A key by its name, or by an alias of it (aliases are authenticated rows too). */
  private findKey(fullName: string): KeyRecord {
    const { namespace, name } = parseKeyName(fullName);
    const key = this.store.getKeyByName(namespace, name);
    if (key) return this.checkedKey(key);
    const canonical = formatKeyName({ namespace, name });
    const alias = this.store.getAlias(canonical);
    if (alias) {
      const unsealed = this.requireUnsealed();
      verifyAliasRow(unsealed.macKey, unsealed.keychainId, alias);
      const target = this.store.getKeyById(alias.keyId);
      if (target) return this.checkedKey(target);
    }
    throw new KeychainError('KEY_NOT_FOUND', `no key named "${canonical}"`);
  }

  private currentInstanceOf(key: KeyRecord): InstanceRecord {
    const current = this.store.getInstanceById(key.currentInstanceId);
    if (!current) throw new KeychainError('STORAGE_CORRUPT', `key ${formatKeyName(key)} points at a missing current instance`);
    return this.checkedInstance(current);
  }

  private requireUnsealed(): Unsealed {
    if (this.unsealed === null) throw new KeychainError('SEALED', 'the keychain is sealed; unseal it first');
    return this.unsealed;
  }
}

/** What an operation on opened material may bind its own AADs to. */
export interface MaterialIds {
  readonly keychainId: string;
  readonly keyId: string;
  readonly instanceId: string;
  readonly instanceName: string;
  readonly algorithm: string;
}

function systemSecretAad(keychainId: string, name: string, sealVersion: number): Buffer {
  return encodeFields(['strongroom/system-secret/v1', keychainId, name, sealVersion]);
}

function refuseIfDestructionPending(instance: InstanceRecord): void {
  if (instance.destroyAt !== null) {
    throw new KeychainError('WRONG_STATE', `instance ${instance.name} is scheduled for destruction at ${instance.destroyAt}; cancel the destruction to use it`, {
      details: { instance: instance.name, destroyAt: instance.destroyAt },
    });
  }
}

function sameKey(key: KeyRecord, fullName: string): boolean {
  const parsed = parseKeyName(fullName);
  return parsed.namespace === key.namespace && parsed.name === key.name;
}

function checkMaterialLength(algorithm: Algorithm, material: Buffer): void {
  const info = algorithmInfo(algorithm);
  if (material.length < info.minLength || material.length > info.maxLength) {
    const range = info.minLength === info.maxLength ? `${info.minLength}` : `${info.minLength} to ${info.maxLength}`;
    throw new ValidationError(`${algorithm} material must be ${range} bytes, not ${material.length}`);
  }
}

function checkText(field: string, value: string, max: number): string {
  if (value.length > max) throw new ValidationError(`${field} is longer than ${max} characters`);
  return value;
}

function checkAttributes(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const entries = Object.entries(attributes);
  if (entries.length > MAX_CUSTOM_ATTRIBUTES) throw new ValidationError(`at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes`);
  for (const [name, value] of entries) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name) || name.length > MAX_ATTRIBUTE_NAME) {
      throw new ValidationError(`invalid custom attribute name "${name}": letters, digits, ".", "_", "-", at most ${MAX_ATTRIBUTE_NAME}`);
    }
    if (typeof value !== 'string') throw new ValidationError(`custom attribute ${name} must be a string`);
    checkText(`custom attribute ${name}`, value, MAX_ATTRIBUTE_VALUE);
  }
  return Object.fromEntries(entries);
}
