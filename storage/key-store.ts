/**
 * The keys-and-instances capability of the keychain store: key rows, their
 * versioned instance rows, the current-instance pointer, lifecycle state
 * changes, filtered listing and counting. It is the hot path's capability
 * (a served Get reads a key and an instance through it) and the one every
 * key operation writes through.
 *
 * Why it is its own capability: these rows are the only ones whose writes
 * must keep an invariant across two tables (a key's current instance exists
 * and belongs to it; an instance belongs to an existing key; versions are
 * unique per key), so the methods that keep it stay together. Aliases,
 * namespaces and the due-work queries read these rows but never change the
 * invariant; they are their own capabilities (naming-store.ts,
 * key-schedule-store.ts). The general contract (errors, copies, close) is in
 * keychain-store.ts.
 */
import { InstanceRecord, InstanceStateChange, KeyFilter, KeyPointerUpdate, KeyPolicyUpdate, KeyRecord } from './records';

/**
 * Counts per state name. Read from the rows' state columns without their
 * MACs: a figure for monitoring, never a decision (the database is untrusted).
 */
export interface StateCounts {
  readonly keys: Readonly<Record<string, number>>;
  readonly instances: Readonly<Record<string, number>>;
}

export interface KeyStore {
  /** Inserts a key and its first instance atomically; KEY_EXISTS on a (namespace, name) clash. */
  createKey(key: KeyRecord, firstInstance: InstanceRecord): void;

  /**
   * Inserts `instance` and makes it the key's current instance atomically,
   * applying `previousChange` (e.g. deactivating the old current one) in the
   * same transaction. Fails with STORAGE_ERROR if `instance.version` is taken,
   * INSTANCE_NOT_FOUND if `previousChange` names no instance; either way nothing changes.
   */
  addCurrentInstance(instance: InstanceRecord, keyUpdate: KeyPointerUpdate, previousChange?: InstanceStateChange): void;

  /**
   * Inserts an instance that is not (yet) current: a rollover's successor
   * waiting for its activation date. The key row is left as it is.
   * Fails with STORAGE_ERROR if `instance.version` is taken; nothing changes then.
   */
  addPendingInstance(instance: InstanceRecord): void;

  getKeyById(id: string): KeyRecord | null;
  getKeyByName(namespace: string, name: string): KeyRecord | null;
  /** Keys ordered by namespace then name (UTF-8 byte order); INVALID_ARGUMENT for a negative or fractional limit/offset. */
  listKeys(filter?: KeyFilter): KeyRecord[];
  countKeys(): number;
  /** Keys by their current instance's state, and instances by state (the metrics; one GROUP BY each, not a row per key). */
  countByState(): StateCounts;

  getInstanceById(id: string): InstanceRecord | null;
  getInstanceByName(name: string): InstanceRecord | null;
  /** A key's instances, ascending by version. */
  listInstances(keyId: string): InstanceRecord[];

  /** Fields absent from `change` keep their value; INSTANCE_NOT_FOUND if no such instance. */
  updateInstanceState(change: InstanceStateChange): void;

  /**
   * Points a key's current instance at an existing instance of it (undo of
   * a renewal), applying `changes` to instances in the same transaction.
   */
  moveCurrentInstance(keyId: string, instanceId: string, keyUpdate: KeyPointerUpdate, changes: readonly InstanceStateChange[]): void;

  /** Changes a key's rollover policy; KEY_NOT_FOUND when absent. */
  updateKeyPolicy(update: KeyPolicyUpdate): void;
}
