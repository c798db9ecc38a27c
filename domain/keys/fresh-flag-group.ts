/**
 * Group commit of the KMIP Fresh flag (instance-freshness.ts): every first
 * serving asked for within one event-loop turn is written in one store
 * transaction at the start of the next turn (setImmediate), one commit (one
 * fsync) and one trust-state fold for the whole group instead of one each.
 * Under a Get load over many fresh instances (every instance a sweep just
 * rolled) the one-fsync-per-first-Get write was over half the server's time.
 *
 * Each instance is marked in its own savepoint, read again under the write
 * lock as markServed does, so one that cannot be marked (gone, its row
 * fails its MAC) refuses its own waiters only. A request waits for the
 * commit of its group before its material may leave: if the group's commit
 * fails (a full disk, the write lock held too long, the keychain sealed
 * meanwhile), every request of the group is refused with that error and its
 * material is zeroed unsent. A second first-serving of the same instance
 * while its write waits joins that write: no Get is answered before the
 * flag is durable, and the store's change stamp moves once per group.
 */
import { InstanceRecord } from '../../storage/records';
import { KeychainParts } from './key-rows';
import { markServed } from './instance-freshness';

/** Runs `flush` once, at the start of the next turn of the event loop (injected so tests can hold or fail it). */
export type NextTurn = (flush: () => void) => void;

const nextImmediate: NextTurn = (flush) => void setImmediate(flush);

interface Waiter {
  readonly resolve: (row: InstanceRecord) => void;
  readonly reject: (error: unknown) => void;
}

interface Pending {
  readonly instance: InstanceRecord;
  readonly waiters: Waiter[];
}

export class FreshFlagGroup {
  private pending = new Map<string, Pending>();
  private scheduled = false;
  /** Groups committed (each one transaction): for tests and benchmarks. */
  private commits = 0;

  constructor(private readonly parts: KeychainParts, private readonly nextTurn: NextTurn = nextImmediate) {}

  /**
   * Resolves with the instance row once Fresh=false is durable for it (the
   * row as written, or as another process had already written it); rejects
   * when it could not be written. `instance` must be fresh.
   */
  markServed(instance: InstanceRecord): Promise<InstanceRecord> {
    return new Promise((resolve, reject) => {
      let entry = this.pending.get(instance.id);
      if (entry === undefined) {
        entry = { instance, waiters: [] };
        this.pending.set(instance.id, entry);
      }
      entry.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.nextTurn(() => this.flush());
      }
    });
  }

  groupCommits(): number {
    return this.commits;
  }

  /** Writes the whole waiting group in one transaction, then answers each waiter. */
  private flush(): void {
    this.scheduled = false;
    const group = [...this.pending.values()];
    this.pending = new Map();
    const rows = new Map<string, InstanceRecord>();
    const refused = new Map<string, unknown>();
    try {
      // `batch`: the trust hooks fold the whole group's journal once, just before the commit.
      this.parts.store.transaction(
        () => {
          for (const { instance } of group) {
            try {
              // markServed's transaction is a savepoint here: one that fails undoes only its own write.
              rows.set(instance.id, markServed(this.parts, instance));
            } catch (error) {
              refused.set(instance.id, error);
            }
          }
        },
        // durableWithAuditEvent: a Get answers only once its audit event, appended after this commit, is durable (the dispatcher).
        { batch: true, durableWithAuditEvent: true },
      );
      this.commits++;
    } catch (commitError) {
      // Nothing of the group is durable: every waiter is refused, so no material leaves.
      for (const entry of group) for (const waiter of entry.waiters) waiter.reject(commitError);
      return;
    }
    for (const { instance, waiters } of group) {
      const row = rows.get(instance.id);
      for (const waiter of waiters) {
        if (row !== undefined) waiter.resolve(row);
        else waiter.reject(refused.get(instance.id));
      }
    }
  }
}
