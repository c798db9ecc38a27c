/**
 * The scheduler's lease (issue 17, docs/cluster.md): which node's lifecycle
 * sweeps act. Every node runs the scheduler; a sweep batch acts only after
 * it took or renewed the lease IN THE BATCH'S OWN TRANSACTION, so the lease
 * and the rollovers it guards commit together or not at all, and a node
 * whose lease was taken over acts on nothing from its next batch on.
 *
 * The lease is not what makes rollovers safe: two nodes that both believe
 * they lead (a paused process, clocks apart) still cannot roll a key twice
 * or skip a period, because each rollover is a compare-and-swap on the
 * key's current version read again inside its savepoint, under unique
 * (key, version). The lease keeps the work on one node, so two nodes do not
 * spend it twice, and says in `cluster status` who does it.
 *
 * Rules, at `now` by the node's clock:
 * - no lease yet, or an expired one, or one this node holds: take or renew
 *   it until now + ttl; the epoch stays when the holder stays, and moves on
 *   by one when the holder changes;
 * - another node's lease not yet expired: act on nothing.
 * The row is believed only once its MAC under the rows key checks (only an
 * unsealed node holds that key): a lease planted or rewritten in the
 * database is INTEGRITY_FAILURE, and the sweep acts on nothing (fail closed).
 * The write is a compare-and-swap on the row as read, so even outside the
 * writer lock two takers cannot both succeed.
 */
import { createHmac } from 'node:crypto';
import { Clock } from '../common/clock';
import { KeychainError } from '../common/errors';
import { SchedulerLeaseRecord, SchedulerLeaseStore } from '../storage/scheduler-lease-store';
import { encodeFields } from './field-encoding';
import { assertRowMac } from './trust/authorisation-row-macs';
import { TrustKeys } from './trust/trust-keys';

/** The lease as the node believes it: its row authenticated. */
export interface SchedulerLeaseView {
  readonly holder: string;
  readonly epoch: number;
  readonly expiresAt: string;
}

export function schedulerLeaseRowMac(keys: TrustKeys, lease: SchedulerLeaseView): Buffer {
  return createHmac('sha256', keys.rows).update(encodeFields(['strongroom/scheduler-lease-row/v1', keys.keychainId, lease.holder, lease.epoch, lease.expiresAt])).digest();
}

function sealed(): KeychainError {
  return new KeychainError('SEALED', "the keychain is sealed: the scheduler's lease cannot be read or taken; unseal it (strongroom unseal), then try again");
}

/** The stored lease, authenticated (null when no node took it yet): INTEGRITY_FAILURE for a row the appliance did not write. */
export function authenticatedLease(store: SchedulerLeaseStore, keys: TrustKeys | null): (SchedulerLeaseView & { readonly rowMac: Buffer }) | null {
  if (keys === null) throw sealed();
  const row = store.readSchedulerLease();
  if (row === null) return null;
  const view = { holder: row.holder, epoch: row.epoch, expiresAt: row.expiresAt };
  assertRowMac(schedulerLeaseRowMac(keys, view), row.rowMac, "scheduler's lease");
  return { ...view, rowMac: row.rowMac };
}

export interface SchedulerLeaseOptions {
  readonly store: SchedulerLeaseStore;
  /** The rows key while unsealed, else null. */
  readonly keys: () => TrustKeys | null;
  /** This node's name (the node_name setting). */
  readonly node: string;
  readonly clock: Clock;
  /** How long a taken or renewed lease lasts: how long a dead holder's work waits for another node. */
  readonly ttlMs: number;
}

export class SchedulerLease {
  constructor(private readonly options: SchedulerLeaseOptions) {}

  get node(): string {
    return this.options.node;
  }

  /**
   * Takes or renews the lease; to be called inside the write transaction of
   * the batch it guards. The lease now held, or null when another node's
   * lease is still valid (or another writer moved it first): then the
   * batch must act on nothing.
   *
   * `announcedTakeover`, when given, is the other node's expired lease whose
   * takeover the caller made durable in the audit trail beforehand
   * (expiredLeaseOfAnother): only that lease is taken over, so no takeover
   * commits without its intent in the trail; null allows none. Left out
   * (tests of the rules alone), any expired lease is taken over.
   */
  claim(announcedTakeover?: SchedulerLeaseView | null): SchedulerLeaseView | null {
    const { store, keys: keysOf, node, clock, ttlMs } = this.options;
    const keys = keysOf();
    const current = authenticatedLease(store, keys);
    const now = clock.nowMs();
    if (current !== null && current.holder !== node && Date.parse(current.expiresAt) > now) return null;
    // A takeover the trail has not announced is not made: the batch acts on nothing, and the next sweep announces what it finds then.
    if (current !== null && current.holder !== node && announcedTakeover !== undefined && !sameLease(current, announcedTakeover)) return null;
    const epoch = current === null ? 1 : current.holder === node ? current.epoch : current.epoch + 1;
    const next: SchedulerLeaseView = { holder: node, epoch, expiresAt: new Date(now + ttlMs).toISOString() };
    const record: SchedulerLeaseRecord = { ...next, rowMac: schedulerLeaseRowMac(keys!, next) };
    return store.swapSchedulerLease(current?.rowMac ?? null, record) ? next : null;
  }

  /**
   * Read outside a transaction, before a sweep acts: another node's lease
   * that has expired, i.e. the one a claim now would take over (epoch + 1);
   * null when there is none, or the lease is this node's or still valid.
   */
  expiredLeaseOfAnother(): SchedulerLeaseView | null {
    const current = authenticatedLease(this.options.store, this.options.keys());
    if (current === null || current.holder === this.options.node || Date.parse(current.expiresAt) > this.options.clock.nowMs()) return null;
    return { holder: current.holder, epoch: current.epoch, expiresAt: current.expiresAt };
  }

  /** The lease as stored now, authenticated (outside a transaction: what a committed batch left). */
  current(): SchedulerLeaseView | null {
    const current = authenticatedLease(this.options.store, this.options.keys());
    return current === null ? null : { holder: current.holder, epoch: current.epoch, expiresAt: current.expiresAt };
  }

  /** Read outside a transaction, before a sweep: true when another node's lease is valid now (the sweep would act on nothing, so it does not start). */
  heldByAnother(): boolean {
    const current = authenticatedLease(this.options.store, this.options.keys());
    return current !== null && current.holder !== this.options.node && Date.parse(current.expiresAt) > this.options.clock.nowMs();
  }
}

function sameLease(a: SchedulerLeaseView, b: SchedulerLeaseView | null): boolean {
  return b !== null && a.holder === b.holder && a.epoch === b.epoch;
}
