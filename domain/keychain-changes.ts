/**
 * Tells the keychain's caches (resolved rows, opened material, the policy
 * index, confirmed identities) what changed, failing safe: a change known
 * precisely drops only the entries it touched; any other drops everything.
 *
 * Known precisely: a transaction of this process's own store connection,
 * whose touched rows and change-counter movement the store reports as it
 * ends (storage/own-changes.ts). Each committed one moved the counter from
 * `counterBefore` to `counterAfter` under its write lock; while every
 * movement continues the chain from the counter this tracker last
 * accounted for, nobody else wrote. Anything else (the counter moved to a
 * value the chain does not explain: another process, a second connection,
 * a write that reported no counters, a store with no feed) drops
 * everything, as does a transaction that touched the keychain's own keys.
 *
 * Another process's writes are found by reading the counter: at every
 * lookup by default (one small query), or only when `poll()` is called
 * once `pollOnly()` was (the server polls on a timer: a query per request
 * cost a quarter of its time).
 *
 * A counter that cannot be read (the store is out: a PostgreSQL failover)
 * fails closed: everything is dropped, and until a poll reads the counter
 * again the stamps move at every look, so no cache keeps what it reads
 * meanwhile (another appliance may be writing on the new primary). The
 * first poll that reads it drops everything once more.
 */
import { OwnChange } from '../storage/own-changes';
import { TransactionalStore } from '../storage/transactional-store';

/** What a cache hears: the key ids whose entries to drop, with whether name lookups may have changed; or everything. */
export type KeyInvalidation = { readonly keyIds: ReadonlySet<string>; readonly names: boolean } | 'everything';

export class KeychainChanges {
  /** The counter value every change up to which is accounted for (null: none read yet). */
  private accounted: number | null = null;
  /** Bumped by every drop of everything. */
  private generation = 0;
  /** Bumped by every own change of client or grant rows (and every drop of everything). */
  private directoryVersion = 0;
  private polled = false;
  /** Set while the last poll could not read the counter: nothing cached is trusted until one can. */
  private untrusted = false;
  /** Bumped at every look while untrusted, so that each look sees a new stamp. */
  private untrustedLooks = 0;
  private readonly keyListeners: Array<(invalidation: KeyInvalidation) => void> = [];

  private readonly feed: TransactionalStore['ownChanges'];

  /**
   * With the store's own-change feed, own commits drop what they touched.
   * Without one (a memory store, a read-only connection), every change
   * counts as unknown: the stamps move with every own commit at once and
   * with the store's change stamp at each look.
   */
  constructor(private readonly store: Pick<TransactionalStore, 'changeStamp' | 'ownCommitCount' | 'ownChanges'>) {
    this.feed = store.ownChanges ?? null;
    this.feed?.subscribe((change) => this.ownChange(change));
  }

  /** From now on others' changes are looked for only by poll() (the server calls it on a timer). */
  pollOnly(): void {
    this.polled = true;
  }

  /** `listener` hears which cached key entries to drop, at once. */
  onKeys(listener: (invalidation: KeyInvalidation) => void): void {
    this.keyListeners.push(listener);
  }

  /** Moves at every drop of everything: the key caches compare it at each lookup (others' changes are looked for first, unless only polled). */
  readonly keysStamp = (): string => {
    if (!this.polled) this.poll();
    if (this.untrusted) return `untrusted:${++this.untrustedLooks}`;
    return this.feed ? String(this.generation) : `${this.generation}|${this.store.ownCommitCount()}`;
  };

  /** Moves whenever client or grant rows may have changed: the policy index and confirmed identities rebuild when it does. */
  readonly directoryStamp = (): string => {
    if (!this.polled) this.poll();
    if (this.untrusted) return `untrusted:${++this.untrustedLooks}`;
    return this.feed ? `${this.generation}:${this.directoryVersion}` : `${this.generation}:${this.directoryVersion}|${this.store.ownCommitCount()}`;
  };

  /**
   * Reads the store's counter; true when someone else changed the keychain
   * since the last look (everything was dropped). When the counter cannot be
   * read, everything is dropped, the caches stay untrusted until a poll
   * reads it, and the store's error is thrown for the caller to report.
   */
  poll(): boolean {
    let moved: boolean;
    try {
      moved = this.readCounter();
    } catch (err) {
      this.untrusted = true;
      this.dropEverything();
      throw err;
    }
    if (this.untrusted) {
      // Back: whatever was read during the outage was kept by nobody, but others may have written meanwhile.
      this.untrusted = false;
      moved = true;
    }
    if (moved) this.dropEverything();
    return moved;
  }

  /** True when the counter moved since the last look (and takes the new value as looked at). */
  private readCounter(): boolean {
    if (this.feed) {
      const now = this.feed.counter();
      if (now === this.accounted) return false;
      this.accounted = now;
    } else {
      const now = this.store.changeStamp();
      if (now === this.lastStamp) return false;
      this.lastStamp = now;
    }
    return true;
  }

  /** Drops everything every cache holds (a seal, a restore, anything not known precisely). */
  dropEverything(): void {
    this.generation++;
    this.directoryVersion++;
    for (const listener of this.keyListeners) listener('everything');
  }

  /** The last stamp read without a feed. */
  private lastStamp: string | null = null;

  private ownChange(change: OwnChange): void {
    if (change.everything) {
      this.dropEverything();
    } else {
      if (change.keyIds.size > 0 || change.names) {
        const invalidation: KeyInvalidation = { keyIds: change.keyIds, names: change.names };
        for (const listener of this.keyListeners) listener(invalidation);
      }
      if (change.directory) this.directoryVersion++;
    }
    if (!change.committed) {
      // Undone: the counter is back where it was, but a poll inside the transaction may have read its own uncommitted
      // bump as accounted for; a later foreign commit would then pass for nothing new. Start the chain again.
      this.accounted = null;
      return;
    }
    // The chain is broken (or was never started): someone else may have written before this transaction.
    if (change.counterBefore !== this.accounted) this.dropEverything();
    this.accounted = change.counterAfter;
  }
}
