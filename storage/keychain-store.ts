/**
 * The keychain store port: persistence of keys, instances and the wrapped
 * keychain key, as the composite of small capability interfaces (OpenBao's
 * habit: small capabilities rather than one fat backend, every backend held
 * to one shared conformance suite):
 *
 *   KeyStore            key-store.ts            keys, instances, state changes (the hot path)
 *   KeyScheduleStore    key-schedule-store.ts   what the lifecycle sweeps find due
 *   NamingStore         naming-store.ts         aliases and namespaces
 *   KeychainRootStore   keychain-root-store.ts  meta, wrapped keychain keys, unseal policy, HSM-sealed secrets
 *   TransactionalStore  transactional-store.ts  transactions and the change stamp
 *   directory, audit, approvals, invocations, schedulerLease, idempotency    sub-ports with their own files
 *
 * The composition root opens a KeychainStore and hands it on; a consumer
 * that needs one capability takes that interface (with TransactionalStore
 * when it writes several rows at once). Two implementations, each assembled
 * from one file per capability, run the shared suites of test/storage/:
 * SQLite on better-sqlite3 (storage/sqlite-store.ts) and an in-memory one
 * (storage/memory-store.ts).
 *
 * The contract every capability follows. Every method that changes more than
 * one row does it in one transaction: it either all happens or none of it
 * does. Methods are synchronous: better-sqlite3 is synchronous and each call
 * is a few microseconds on the hot path.
 *
 * Errors are StorageError with codes STORAGE_ERROR, STORAGE_FULL,
 * STORAGE_BUSY, STORAGE_CORRUPT, STORAGE_SCHEMA_TOO_NEW; a unique-name clash
 * is KEY_EXISTS. Any other broken constraint (a duplicate id, instance name or
 * version, an instance of a missing key, a current instance that does not
 * exist) is STORAGE_ERROR and changes nothing. Lookups of absent rows return
 * null: deciding that absence is an error is the domain's job; but a state
 * change naming an absent instance is INSTANCE_NOT_FOUND (never a silent no-op).
 * Returned records are the caller's own: mutating a returned Buffer or
 * attribute map never changes stored state, nor does mutating a passed one
 * after the call. Any call after close() is STORAGE_ERROR.
 */
import { AuditStore } from './audit-store';
import { ApprovalStore } from './approval-store';
import { DirectoryStore } from './directory-store';
import { InvocationStore } from './invocation-store';
import { KeyStore } from './key-store';
import { KeyScheduleStore } from './key-schedule-store';
import { KeychainRootStore } from './keychain-root-store';
import { NamingStore } from './naming-store';
import { TransactionalStore } from './transactional-store';
import { TrustJournalStore } from './trust-journal-store';
import { SchedulerLeaseStore } from './scheduler-lease-store';
import { IdempotencyStore } from './idempotency-store';

export interface KeychainStore extends KeyStore, KeyScheduleStore, NamingStore, KeychainRootStore, TransactionalStore {
  /** Clients, grants and sealed system secrets, in the same database and transactions. */
  readonly directory: DirectoryStore;
  /** The hash-chained audit trail, in the same database. */
  readonly audit: AuditStore;
  /** Dual-control approval requests, votes and quorums, in the same database and transactions. */
  readonly approvals: ApprovalStore;
  /** The journal and state that keep authenticated rows fresh (SQLite); null where the backend has none (memory). */
  readonly trust: TrustJournalStore | null;
  /** Per-instance AES-GCM invocation counts, in the same database, written outside transactions. */
  readonly invocations: InvocationStore;
  /** The scheduler's lease row, in the same database and transactions (the sweeps take it in each batch's). */
  readonly schedulerLease: SchedulerLeaseStore;
  /** Idempotency records of retried writes, in the same database and transactions (written in the transaction of the change each records). */
  readonly idempotency: IdempotencyStore;

  /** Closes the connection (a WAL checkpoint happens on close). Idempotent. Only whoever opened the store closes it. */
  close(): void;
}
