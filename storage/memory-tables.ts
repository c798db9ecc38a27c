/**
 * The tables every in-memory capability of the keychain store shares
 * (storage/memory-store.ts assembles them), the copies that keep stored
 * records out of callers' reach, and the one object that owns them:
 * MemoryTables runs transactions (a snapshot of the tables, restored on
 * throw; nested calls snapshot too, matching SQLite savepoints), counts
 * changes for the change stamp, and refuses every call after close().
 *
 * A transaction replaces the table set wholesale on rollback, so the
 * capabilities reach the tables through `tables.current`, never by holding
 * a map of their own.
 */
import { StorageError } from '../common/errors';
import { StoreConnection } from './composed-keychain-store';
import {
  AliasRecord,
  HsmSealedSecretRecord,
  InstanceRecord,
  KeychainMetaRecord,
  KeyRecord,
  UnsealPolicyRecord,
  WrappedKeychainKeyRecord,
} from './records';
import { SchedulerLeaseRecord } from './scheduler-lease-store';
import { IdempotencyRecord } from './idempotency-store';

export interface TableSet {
  meta: KeychainMetaRecord | null;
  wrapped: Map<number, WrappedKeychainKeyRecord>;
  keys: Map<string, KeyRecord>;
  /** `namespace\0name` -> key id. */
  keyIdByName: Map<string, string>;
  instances: Map<string, InstanceRecord>;
  instanceIdByName: Map<string, string>;
  aliases: Map<string, AliasRecord>;
  unsealPolicy: UnsealPolicyRecord | null;
  hsmSecrets: Map<string, HsmSealedSecretRecord>;
  /** The scheduler's lease row (replaced whole on each swap, so the snapshot can share it). */
  schedulerLease: SchedulerLeaseRecord | null;
  /** Idempotency records by `client\0key` (records are replaced whole, never changed, so the snapshot can share them). */
  idempotencyRecords: Map<string, IdempotencyRecord>;
}

/** State outside the tables that a transaction must also undo (the approval store's). */
export interface Snapshottable<S> {
  snapshot(): S;
  restore(saved: S): void;
}

export const nameKey = (namespace: string, name: string): string => `${namespace}\u0000${name}`;

export function copyKey(key: KeyRecord): KeyRecord {
  return { ...key, customAttributes: { ...key.customAttributes }, rowMac: Buffer.from(key.rowMac) };
}

export function copyInstance(instance: InstanceRecord): InstanceRecord {
  return {
    ...instance,
    sealedMaterial: instance.sealedMaterial === null ? null : Buffer.from(instance.sealedMaterial),
    rowMac: Buffer.from(instance.rowMac),
  };
}

export function copyWrapped(record: WrappedKeychainKeyRecord): WrappedKeychainKeyRecord {
  return { ...record, wrapped: Buffer.from(record.wrapped) };
}

export function copyHsmSecret(record: HsmSealedSecretRecord): HsmSealedSecretRecord {
  return { ...record, wrappedKey: Buffer.from(record.wrappedKey), sealed: Buffer.from(record.sealed) };
}

/** What SQLite reports for a broken constraint. */
export function constraint(what: string, details: Record<string, string | number>): StorageError {
  return new StorageError('STORAGE_ERROR', `keychain store: ${what}`, { details });
}

function emptyTables(): TableSet {
  return {
    meta: null,
    wrapped: new Map(),
    keys: new Map(),
    keyIdByName: new Map(),
    instances: new Map(),
    instanceIdByName: new Map(),
    aliases: new Map(),
    unsealPolicy: null,
    hsmSecrets: new Map(),
    schedulerLease: null,
    idempotencyRecords: new Map(),
  };
}

function snapshot(state: TableSet): TableSet {
  return {
    meta: state.meta,
    wrapped: new Map(state.wrapped),
    keys: new Map(state.keys),
    keyIdByName: new Map(state.keyIdByName),
    instances: new Map(state.instances),
    instanceIdByName: new Map(state.instanceIdByName),
    aliases: new Map(state.aliases),
    unsealPolicy: state.unsealPolicy,
    hsmSecrets: new Map(state.hsmSecrets),
    schedulerLease: state.schedulerLease,
    idempotencyRecords: new Map(state.idempotencyRecords),
  };
}

export class MemoryTables<S = unknown> implements StoreConnection {
  current: TableSet = emptyTables();
  private changes = 0;
  private closed = false;

  /** `alsoUndone`: state kept outside the tables that a failed transaction must restore too. */
  constructor(private readonly alsoUndone: Snapshottable<S>) {}

  /** A write happened: moves the change stamp. */
  changed(): void {
    this.changes++;
  }

  assertOpen(): void {
    if (this.closed) throw new StorageError('STORAGE_ERROR', 'keychain store: the store is closed');
  }

  ownCommitCount(): number {
    return this.changes;
  }

  changeStamp(): string {
    return String(this.changes);
  }

  transaction<T>(fn: () => T): T {
    this.assertOpen();
    this.changes++;
    const saved = snapshot(this.current);
    const savedAlso = this.alsoUndone.snapshot();
    try {
      const result = fn();
      if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
        throw new TypeError('Transaction function cannot return a promise');
      }
      return result;
    } catch (err) {
      this.current = saved;
      this.alsoUndone.restore(savedAlso);
      throw err;
    }
  }

  close(): void {
    this.closed = true;
  }
}
