/**
 * The life of a key instance after SP 800-57 / KMIP: using its material
 * (Get, which turns KMIP Fresh false and refuses a sensitive key:
 * instance-freshness.ts; and useMaterial for operations that must not hold it), moving it
 * between lifecycle states, scheduling or cancelling its destruction, and
 * what the sweeps need: which instances are due (destruction, retention
 * over, recipient usage period ended) and the one-instance step each sweep
 * takes, read again inside its transaction so a repeat or a race is a no-op.
 */
import { isoNow } from '../../common/clock';
import { KeychainError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { applyInstanceChange, InstanceRecord, KeyRecord } from '../../storage/records';
import { formatKeyName } from '../key-names';
import { assertTransition, InstanceState, isInstanceState, materialRetrievable } from '../instance-states';
import { instanceView, InstanceView, KeyView, RetrievedKey } from '../views';
import { KeychainParts, KeyRef } from './key-rows';
import { InstanceActivation } from './instance-activation';
import { markServed, refuseIfSensitive } from './instance-freshness';
import { FreshFlagGroup, NextTurn } from './fresh-flag-group';
import { ActivationRecord } from './activation-undo';
import { digestOf, hasDigest, MaterialDigest } from './material-facts';

/** Dates a lifecycle transition sets; absent ones are left as they are. */
export interface TransitionDates {
  readonly activatedAt?: string | null;
  readonly deactivatedAt?: string | null;
  readonly destroyedAt?: string | null;
  readonly destroyAt?: string | null;
  readonly revocationReason?: string | null;
  readonly compromisedAt?: string | null;
  readonly compromiseOccurredAt?: string | null;
}

/** What an operation on opened material may bind its own AADs to. */
export interface MaterialIds {
  readonly keychainId: string;
  readonly keyId: string;
  readonly instanceId: string;
  readonly instanceName: string;
  readonly algorithm: string;
}

export class InstanceLifecycle {
  private readonly activation: InstanceActivation;
  /** First servings waiting for their Fresh=false commit, written a group at a time. */
  private readonly freshFlags: FreshFlagGroup;

  constructor(private readonly parts: KeychainParts, nextTurn?: NextTurn) {
    this.activation = new InstanceActivation(parts);
    this.freshFlags = new FreshFlagGroup(parts, nextTurn);
  }

  /**
   * The current instance's material, or a named instance's. The caller zeroes
   * `material`. A first serving writes Fresh=false now, in its own commit
   * (a key export; the wire's Get uses getKeyWhenServed).
   */
  getKey(ref: KeyRef): RetrievedKey {
    const { key, instance, view, iview, material } = this.retrieve(ref);
    if (!instance.fresh) return { key: view, instance: iview, material };
    try {
      // The first serving of this instance's material: Fresh turns false before it leaves (instance-freshness.ts).
      return { key: view, instance: instanceView(markServed(this.parts, instance), key.currentInstanceId), material };
    } catch (err) {
      wipe(material);
      throw err;
    }
  }

  /**
   * getKey for the Get operation: a first serving resolves only once its
   * Fresh=false is durable, written with the other first servings of the
   * same event-loop turn in one commit (fresh-flag-group.ts); if that write
   * fails the promise rejects and the material is zeroed. An instance
   * already served answers at once, as getKey does.
   */
  getKeyWhenServed(ref: KeyRef): RetrievedKey | Promise<RetrievedKey> {
    const { key, instance, view, iview, material } = this.retrieve(ref);
    if (!instance.fresh) return { key: view, instance: iview, material };
    return this.freshFlags.markServed(instance).then(
      (row) => ({ key: view, instance: instanceView(row, key.currentInstanceId), material }),
      (err: unknown) => {
        wipe(material);
        throw err;
      },
    );
  }

  /** The referenced instance, authenticated, with its material opened; refuses what may not be served. */
  private retrieve(ref: KeyRef): { key: KeyRecord; instance: InstanceRecord; view: KeyView; iview: InstanceView; material: Buffer } {
    const { seal, rows } = this.parts;
    seal.requireUnsealed();
    const { key, instance, keyView: view, instanceView: iview } = rows.resolve(ref);
    const state = instance.state;
    refuseIfDestructionPending(instance);
    if (!isInstanceState(state) || !materialRetrievable(state) || instance.sealedMaterial === null) {
      throw new KeychainError('NO_MATERIAL', `instance ${instance.name} of ${formatKeyName(key)} is ${state} and has no retrievable material`, {
        details: { instance: instance.name, state },
      });
    }
    refuseIfSensitive(key);
    return { key, instance, view, iview, material: rows.openMaterial(key, instance, instance.sealedMaterial) };
  }

  /**
   * Opens the referenced instance's material for an operation, after
   * `allow(key, instance)` has approved (it throws to refuse: state, usage);
   * runs `use` and zeroes the material whatever happens. Keys and instances
   * reach `allow` and `use` already authenticated (row MACs).
   */
  useMaterial<T>(ref: KeyRef, allow: (key: KeyView, instance: InstanceView) => void, use: (material: Buffer, ids: MaterialIds) => T): T {
    const { seal, rows } = this.parts;
    const unsealed = seal.requireUnsealed();
    const { key, instance, keyView: view, instanceView: iview } = rows.resolve(ref);
    refuseIfDestructionPending(instance);
    allow(view, iview);
    if (instance.sealedMaterial === null) {
      throw new KeychainError('NO_MATERIAL', `instance ${instance.name} of ${formatKeyName(key)} has no material`, { details: { instance: instance.name } });
    }
    const material = rows.openMaterial(key, instance, instance.sealedMaterial);
    try {
      return use(material, { keychainId: unsealed.keychainId, keyId: key.id, instanceId: instance.id, instanceName: instance.name, algorithm: key.algorithm });
    } finally {
      wipe(material);
    }
  }

  /**
   * SHA-256 of an instance's material (keys/material-facts.ts): opened,
   * hashed and zeroed here, so the bytes never leave the keychain. Null for
   * an instance without material (destroyed) and for SECRET.
   */
  digestMaterial(ref: KeyRef): MaterialDigest | null {
    const { seal, rows } = this.parts;
    seal.requireUnsealed();
    const { key, instance } = rows.resolve(ref);
    if (!hasDigest(key.algorithm) || instance.sealedMaterial === null) return null;
    const material = rows.openMaterial(key, instance, instance.sealedMaterial);
    try {
      return digestOf(material);
    } finally {
      wipe(material);
    }
  }

  /**
   * Moves an instance to another lifecycle state, after assertTransition
   * allows it, setting the given dates; `dropMaterial` destroys its material
   * (NULL in the row; the store scrubs the freed pages).
   */
  /** `capture` receives what an activation changed, for a batch's undo (activation-undo.ts). */
  transitionInstance(ref: KeyRef, to: InstanceState, dates: TransitionDates, dropMaterial = false, capture?: (record: ActivationRecord) => void): InstanceView {
    const { seal, rows, store, clock } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      // Read again inside the write transaction, never from the row cache: a
      // cached row may predate another process's commit.
      const { key, instance } = rows.resolveUncached(ref);
      const from = instance.state;
      if (!isInstanceState(from)) throw new KeychainError('STORAGE_CORRUPT', `instance ${instance.name} has an unknown state`);
      assertTransition(from, to);
      // Activation starts the usage periods and an auto key's cryptoperiod, and makes a pending successor current.
      if (to === 'Active') return this.activation.activate(key, instance, Date.parse(dates.activatedAt ?? isoNow(clock)), capture);
      // Leaving PreActive any other way drops the activation date: the sweep must not find it.
      const undated = from === 'PreActive' && dates.activatedAt === undefined ? { activatedAt: null } : {};
      const change = rows.stateChange(instance, { state: to, ...dates, ...undated, dropMaterial });
      store.updateInstanceState(change);
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }

  /**
   * Schedules (a date) or cancels (null) the destruction of an instance. Only
   * an instance that is not Active and still has material can be scheduled;
   * while a destruction is pending the instance refuses every use.
   */
  scheduleDestruction(ref: KeyRef, destroyAt: string | null): InstanceView {
    const { seal, rows, store } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const { key, instance } = rows.resolveUncached(ref);
      if (destroyAt !== null) {
        if (instance.state === 'Active') throw new KeychainError('WRONG_STATE', `instance ${instance.name} is Active: revoke (deactivate) it before destroying it`);
        if (instance.sealedMaterial === null) throw new KeychainError('WRONG_STATE', `instance ${instance.name} is already destroyed`);
      } else if (instance.destroyAt === null) {
        throw new KeychainError('WRONG_STATE', `no destruction of instance ${instance.name} is pending`);
      }
      const change = rows.stateChange(instance, { state: instance.state, destroyAt });
      store.updateInstanceState(change);
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }

  /** Deactivated instances, not current, with material and no destruction pending, deactivated at or before `beforeMs`. */
  retentionExpired(beforeMs: number, limit: number): string[] {
    this.parts.seal.requireUnsealed();
    return this.parts.store.listRetentionExpired(new Date(beforeMs).toISOString(), limit);
  }

  /**
   * Schedules the destruction of an instance whose retention is over (read
   * again inside the transaction); the usual destruction wait and cancel
   * apply. Returns null when there was nothing to do.
   */
  scheduleIfRetentionOver(instanceId: string, deactivatedBeforeMs: number, destroyAtMs: number): InstanceView | null {
    const { rows, store } = this.parts;
    return this.readAgain(instanceId, (instance, key) => {
      const over = instance.state === 'Deactivated' && instance.deactivatedAt !== null && Date.parse(instance.deactivatedAt) <= deactivatedBeforeMs;
      if (!over || instance.destroyAt !== null || instance.sealedMaterial === null || instance.id === key.currentInstanceId) return null;
      const change = rows.stateChange(instance, { state: instance.state, destroyAt: new Date(destroyAtMs).toISOString() });
      store.updateInstanceState(change);
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }

  /** Active instances past their process-stop date at `atMs`. */
  dueProcessStops(atMs: number, limit: number): Array<{ instanceId: string; processStopAt: string }> {
    this.parts.seal.requireUnsealed();
    return this.parts.store.listDueProcessStops(new Date(atMs).toISOString(), limit);
  }

  /** Deactivates an instance whose recipient usage period has ended (read again inside the transaction); null if nothing to do. */
  deactivateIfProcessStopped(instanceId: string, atMs: number): InstanceView | null {
    const { rows, store } = this.parts;
    return this.readAgain(instanceId, (instance, key) => {
      if (instance.state !== 'Active' || instance.processStopAt === null || Date.parse(instance.processStopAt) > atMs) return null;
      const change = rows.stateChange(instance, { state: 'Deactivated', deactivatedAt: instance.processStopAt });
      store.updateInstanceState(change);
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }

  /** Instances whose scheduled destruction is due at `atMs`. */
  dueDestructions(atMs: number, limit: number): Array<{ instanceId: string; destroyAt: string }> {
    this.parts.seal.requireUnsealed();
    return this.parts.store.listDueDestructions(new Date(atMs).toISOString(), limit);
  }

  /**
   * Carries out a scheduled destruction if, read again inside the
   * transaction, it is still pending and due: the material is dropped, the
   * metadata stays. Returns the instance, or null when there was nothing to do.
   */
  destroyIfDue(instanceId: string, atMs: number): InstanceView | null {
    const { rows, store } = this.parts;
    return this.readAgain(instanceId, (instance, key) => {
      if (instance.destroyAt === null || Date.parse(instance.destroyAt) > atMs) return null;
      const to: InstanceState = instance.state === 'Compromised' ? 'DestroyedCompromised' : 'Destroyed';
      assertTransition(instance.state as InstanceState, to);
      // A PreActive instance never activated: its activation date goes with it.
      const undated = instance.state === 'PreActive' ? { activatedAt: null } : {};
      const change = rows.stateChange(instance, { state: to, destroyedAt: new Date(atMs).toISOString(), destroyAt: null, ...undated, dropMaterial: true });
      store.updateInstanceState(change);
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }

  /**
   * One sweep step: the instance and its key read again, authenticated,
   * inside one transaction, so a repeat or a race with another sweep is a
   * no-op; null when the instance is gone or `step` finds nothing to do.
   */
  private readAgain(instanceId: string, step: (instance: InstanceRecord, key: KeyRecord) => InstanceView | null): InstanceView | null {
    const { seal, rows, store } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const found = store.getInstanceById(instanceId);
      if (!found) return null;
      const instance = rows.checkedInstance(found);
      return step(instance, rows.checkedKey(store.getKeyById(instance.keyId) as KeyRecord));
    });
  }
}

function refuseIfDestructionPending(instance: InstanceRecord): void {
  if (instance.destroyAt !== null) {
    throw new KeychainError('WRONG_STATE', `instance ${instance.name} is scheduled for destruction at ${instance.destroyAt}; cancel the destruction to use it`, {
      details: { instance: instance.name, destroyAt: instance.destroyAt },
    });
  }
}
