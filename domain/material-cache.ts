/**
 * A bounded cache of opened instance material for hot instances: a Get or
 * an Encrypt of an instance opened recently copies its plaintext material
 * instead of opening the sealed row again (a fresh AES-GCM context and the
 * AAD per request cost a tenth of the server's time). What Vault and Cosmian
 * do; the HSM stays off the path either way.
 *
 * Every plaintext it holds is zeroed when it is dropped: at once when its
 * instance's row changes state (forget(): a revoke, a destroy, the
 * deactivation a rollover makes), at seal (clear()), on eviction when full,
 * when this process commits a change to its key's rows (forgetKeys), and at
 * the next lookup after the change stamp moved (a change not known
 * precisely: another process's, as polled; domain/keychain-changes.ts). An entry is used only for the same
 * instance id and the very sealed bytes it was opened from (authenticated
 * by the row MAC), so a resealed row is opened anew. Callers get a copy and
 * zero it as they zero material they opened themselves.
 */

/** Instances whose material is kept open at most; on overflow the oldest is zeroed and dropped. */
export const MAX_OPENED_INSTANCES = 4096;

interface Opened {
  readonly keyId: string;
  readonly sealed: Buffer;
  readonly material: Buffer;
}

export class MaterialCache {
  private entries = new Map<string, Opened>();
  /** Instance ids by key id, for forgetKeys. */
  private byKey = new Map<string, Set<string>>();
  private stamp: string | null = null;

  constructor(private readonly changeStamp: () => string, private readonly maxEntries = MAX_OPENED_INSTANCES) {}

  /**
   * The material of instance `instanceId` sealed as `sealed`, in a fresh
   * Buffer the caller must zero: a copy of the cached one, or what `open`
   * returns (kept as a copy). `keyId`: the instance's key (forgetKeys drops by it).
   */
  open(instanceId: string, sealed: Buffer, open: () => Buffer, keyId = ''): Buffer {
    const stamp = this.changeStamp();
    if (stamp !== this.stamp) {
      this.clear();
      this.stamp = stamp;
    }
    const hit = this.entries.get(instanceId);
    if (hit !== undefined && hit.sealed.equals(sealed)) return Buffer.from(hit.material);
    const material = open();
    if (hit !== undefined) this.drop(instanceId, hit);
    if (this.entries.size >= this.maxEntries) {
      const [oldestId, oldest] = this.entries.entries().next().value as [string, Opened];
      this.drop(oldestId, oldest);
    }
    this.entries.set(instanceId, { keyId, sealed: Buffer.from(sealed), material: Buffer.from(material) });
    const instances = this.byKey.get(keyId);
    if (instances === undefined) this.byKey.set(keyId, new Set([instanceId]));
    else instances.add(instanceId);
    return material;
  }

  /** Zeroes and drops the material of every instance of the keys `keyIds` (their rows changed). */
  forgetKeys(keyIds: Iterable<string>): void {
    for (const keyId of keyIds) {
      const instances = this.byKey.get(keyId);
      if (instances === undefined) continue;
      for (const instanceId of [...instances]) this.forget(instanceId);
    }
  }

  /** Zeroes and drops one instance's material (its row is about to change: revoke, destroy, rollover). */
  forget(instanceId: string): void {
    const opened = this.entries.get(instanceId);
    if (opened !== undefined) this.drop(instanceId, opened);
  }

  /** Zeroes and drops everything (seal; a store change). */
  clear(): void {
    for (const opened of this.entries.values()) opened.material.fill(0);
    this.entries.clear();
    this.byKey.clear();
    this.stamp = null;
  }

  /** Instances held open now. */
  get size(): number {
    return this.entries.size;
  }

  /** The plaintext Buffers held now (tests check that a dropped one is zeroed). */
  heldMaterial(): Buffer[] {
    return [...this.entries.values()].map((opened) => opened.material);
  }

  private drop(instanceId: string, opened: Opened): void {
    opened.material.fill(0);
    this.entries.delete(instanceId);
    const instances = this.byKey.get(opened.keyId);
    instances?.delete(instanceId);
    if (instances?.size === 0) this.byKey.delete(opened.keyId);
  }
}
