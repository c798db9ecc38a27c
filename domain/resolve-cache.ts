/**
 * A bounded cache of resolved, already-authenticated key references (sealed
 * rows and their views, never plaintext), for the hot path: a Get or Encrypt
 * by name costs one change-stamp read instead of two queries and two row-MAC
 * checks. The whole cache is dropped whenever the store's change stamp moves
 * (any write, by this process or another), so it never serves a stale row.
 */

/** Most references kept; on overflow the oldest is dropped. */
export const MAX_RESOLVED_ENTRIES = 50_000;

export class ResolveCache<T> {
  private entries = new Map<string, T>();
  private stamp: string | null = null;

  constructor(private readonly changeStamp: () => string, private readonly maxEntries = MAX_RESOLVED_ENTRIES) {}

  get(key: string, load: () => T): T {
    const stamp = this.changeStamp();
    if (stamp !== this.stamp) {
      this.entries.clear();
      this.stamp = stamp;
    }
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const loaded = load();
    // Full: forget the oldest entry (Map keeps insertion order), not everything.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, loaded);
    return loaded;
  }

  clear(): void {
    this.entries.clear();
    this.stamp = null;
  }
}
