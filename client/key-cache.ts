/**
 * Key leasing, for availability (docs/protocol.md: "key leasing"): get()
 * results kept in memory. Within `leaseMs` of a fetch, get() answers from
 * memory; after it, get() asks the server and, only when the server cannot be
 * reached (UNAVAILABLE, TIMEOUT), serves the cached copy until `holdMs` after
 * the fetch. Any answer from the server replaces or evicts the entry: an
 * error such as PERMISSION_DENIED or KEY_NOT_FOUND evicts it at once.
 *
 * Entries are keyed by the reference asked for: a name (its current instance,
 * which changes on rollover) and an instance name are cached separately.
 * Secrets: each entry holds its own Buffer, zeroed on replacement, eviction,
 * expiry and clear(); each caller gets a fresh copy. Memory only, never disk.
 * Time comes from the injected clock; a clock that moved backwards counts as
 * expired.
 */
import { Clock } from '../common/clock';
import { isNetworkError } from './client-error';
import { KeyCacheOptions } from './options';
import { InstanceView, KeyRef, KeyView, RetrievedKey } from './types';

/** Most keys held: bounds the material an application process keeps in memory. Least recently used goes first. */
export const MAX_CACHED_KEYS = 1024;

interface Entry {
  readonly key: KeyView;
  readonly instance: InstanceView;
  readonly material: Buffer;
  readonly fetchedAtMs: number;
}

/** The cache key of a reference: name, instance, or both, never confused with one another. */
export function cacheKeyOf(ref: KeyRef): string {
  return JSON.stringify([ref.name ?? null, ref.instance ?? null]);
}

export class KeyCache {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly options: KeyCacheOptions,
    private readonly clock: Clock,
    private readonly maxEntries: number = MAX_CACHED_KEYS,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached answer when leased, else `fetch()`'s (stored), else the held copy when the server is unreachable. */
  async get(ref: KeyRef, fetch: () => Promise<RetrievedKey>): Promise<RetrievedKey> {
    this.sweep();
    const cacheKey = cacheKeyOf(ref);
    const leased = this.entries.get(cacheKey);
    if (leased !== undefined && this.age(leased) < this.options.leaseMs) {
      this.touch(cacheKey, leased);
      return copyOf(leased);
    }
    let fresh: RetrievedKey;
    try {
      fresh = await fetch();
    } catch (err) {
      const held = this.entries.get(cacheKey);
      if (held !== undefined && isNetworkError(err) && this.age(held) < this.options.holdMs) return copyOf(held);
      this.evict(cacheKey);
      throw err;
    }
    this.store(cacheKey, fresh);
    return fresh;
  }

  /** Zeroes and drops entries past their hold time. */
  sweep(): void {
    for (const [cacheKey, entry] of this.entries) if (this.age(entry) >= this.options.holdMs) this.evict(cacheKey);
  }

  /** Zeroes and drops everything. */
  clear(): void {
    for (const cacheKey of [...this.entries.keys()]) this.evict(cacheKey);
  }

  /** Zeroes everything and stores nothing from now on (a get() still in flight at close is not kept). */
  close(): void {
    this.closed = true;
    this.clear();
  }

  /** Test hook: the cache's own Buffer for `ref` (not a copy), to check it gets zeroed. */
  peekMaterial(ref: KeyRef): Buffer | undefined {
    return this.entries.get(cacheKeyOf(ref))?.material;
  }

  /** Milliseconds since the fetch; a backwards clock gives +Infinity (expired). */
  private age(entry: Entry): number {
    const age = this.clock.nowMs() - entry.fetchedAtMs;
    return age >= 0 ? age : Number.POSITIVE_INFINITY;
  }

  private store(cacheKey: string, fresh: RetrievedKey): void {
    this.evict(cacheKey);
    if (this.closed || this.options.holdMs === 0) return;
    this.entries.set(cacheKey, {
      key: structuredClone(fresh.key),
      instance: structuredClone(fresh.instance),
      material: Buffer.from(fresh.material),
      fetchedAtMs: this.clock.nowMs(),
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.evict(oldest);
    }
  }

  private touch(cacheKey: string, entry: Entry): void {
    this.entries.delete(cacheKey);
    this.entries.set(cacheKey, entry);
  }

  private evict(cacheKey: string): void {
    const entry = this.entries.get(cacheKey);
    if (entry === undefined) return;
    entry.material.fill(0);
    this.entries.delete(cacheKey);
  }
}

function copyOf(entry: Entry): RetrievedKey {
  return { key: structuredClone(entry.key), instance: structuredClone(entry.instance), material: Buffer.from(entry.material) };
}
