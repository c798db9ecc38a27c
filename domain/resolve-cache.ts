/**
 * A bounded cache of resolved, already-authenticated key references (sealed
 * rows and their views, never plaintext), for the hot path: a Get or Encrypt
 * by name costs one change-stamp read instead of two queries and two row-MAC
 * checks. The whole cache is dropped whenever the change stamp moves (a
 * change not known precisely: domain/keychain-changes.ts); a change known
 * precisely drops the entries tagged with what it touched (forgetTags: the
 * key ids of this process's own commits), so it never serves a stale row.
 */

/** Most references kept; on overflow the oldest is dropped. */
export const MAX_RESOLVED_ENTRIES = 50_000;

export class ResolveCache<T> {
  private entries = new Map<string, T>();
  /** Cache keys by tag (a key id), for forgetTags. */
  private byTag = new Map<string, Set<string>>();
  private stamp: string | null = null;

  constructor(
    private readonly changeStamp: () => string,
    private readonly maxEntries = MAX_RESOLVED_ENTRIES,
    /** What an entry depends on (its key's id): a change of it drops the entry. */
    private readonly tagOf: (value: T) => string = () => '',
  ) {}

  get(key: string, load: () => T): T {
    const stamp = this.changeStamp();
    if (stamp !== this.stamp) {
      this.clear();
      this.stamp = stamp;
    }
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const loaded = load();
    // Full: forget the oldest entry (Map keeps insertion order), not everything.
    if (this.entries.size >= this.maxEntries) this.delete(this.entries.keys().next().value as string);
    this.entries.set(key, loaded);
    const tag = this.tagOf(loaded);
    const tagged = this.byTag.get(tag);
    if (tagged === undefined) this.byTag.set(tag, new Set([key]));
    else tagged.add(key);
    return loaded;
  }

  /** Drops every entry tagged with one of `tags`. */
  forgetTags(tags: Iterable<string>): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (keys === undefined) continue;
      this.byTag.delete(tag);
      for (const key of keys) this.entries.delete(key);
    }
  }

  clear(): void {
    this.entries.clear();
    this.byTag.clear();
    this.stamp = null;
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(key: string): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    const tag = this.tagOf(value);
    const keys = this.byTag.get(tag);
    keys?.delete(key);
    if (keys?.size === 0) this.byTag.delete(tag);
  }
}
