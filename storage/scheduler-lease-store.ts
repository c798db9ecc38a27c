/**
 * The scheduler's lease (issue 17, docs/cluster.md): one row naming the node
 * whose lifecycle sweeps act, the lease's epoch (moved on by one each time
 * the holder changes) and when it expires. Every node of a cluster runs the
 * scheduler; each sweep batch takes or renews the lease in its own
 * transaction (domain/scheduler-lease.ts), so a node that lost the lease
 * acts on nothing from its next batch on. On SQLite the one appliance is
 * always the holder; the row and its rules are the same, so one contract
 * suite covers both engines (test/storage/scheduler-lease-conformance.ts).
 *
 * Untrusted as stored: the domain checks `rowMac` before believing a row,
 * and the row is journaled into the trust set-hash like every
 * authenticated row.
 */
export interface SchedulerLeaseRecord {
  /** The holding node's name (the `node_name` setting). */
  readonly holder: string;
  /** 1 for the first holder, plus one at each change of holder. */
  readonly epoch: number;
  /** ISO time after which another node may take the lease. */
  readonly expiresAt: string;
  readonly rowMac: Buffer;
}

export interface SchedulerLeaseStore {
  /** The lease row, or null before any node took it (unauthenticated: the domain checks the MAC). */
  readSchedulerLease(): SchedulerLeaseRecord | null;
  /**
   * Compare-and-swap: writes `next` only if the stored row is still the one
   * the caller read: the row whose MAC is `expectedRowMac` (the MAC binds
   * every field), or no row at all when it is null. Answers whether it
   * wrote; false changes nothing (another writer moved the lease first).
   */
  swapSchedulerLease(expectedRowMac: Buffer | null, next: SchedulerLeaseRecord): boolean;
}
