/**
 * The scheduler's lease (storage/scheduler-lease-store.ts) on the keychain's
 * shared connection, SQLite or PostgreSQL (storage/capability-connection.ts).
 * The swap is one conditional statement, so it holds even without the
 * writer lock around it: the singleton key (id = 1) makes a second first
 * lease a no-op, and the update names the row as read.
 *
 * Written with the trust hooks (the row is authenticated: its journal entry
 * must be folded in the same transaction) but not as a keychain change: no
 * cache depends on it, and renewing it at every sweep batch must not empty
 * every node's caches.
 */
import { CapabilityConnection, Statement } from './capability-connection';
import { SchedulerLeaseRecord, SchedulerLeaseStore } from './scheduler-lease-store';

const SQL = {
  read: 'SELECT holder, epoch, expires_at AS expiresAt, row_mac AS rowMac FROM scheduler_lease WHERE id = 1',
  insert: `INSERT INTO scheduler_lease (id, holder, epoch, expires_at, row_mac) VALUES (1, @holder, @epoch, @expiresAt, @rowMac)
    ON CONFLICT (id) DO NOTHING`,
  update: `UPDATE scheduler_lease SET holder = @holder, epoch = @epoch, expires_at = @expiresAt, row_mac = @rowMac
    WHERE id = 1 AND row_mac = @expected`,
} as const;

export class SqliteSchedulerLease implements SchedulerLeaseStore {
  private readonly stmt: { [K in keyof typeof SQL]: Statement };

  constructor(private readonly conn: CapabilityConnection) {
    this.stmt = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, conn.db.prepare(sql)])) as SqliteSchedulerLease['stmt'];
  }

  readSchedulerLease(): SchedulerLeaseRecord | null {
    return this.conn.read('readSchedulerLease', () => (this.stmt.read.get() as SchedulerLeaseRecord | undefined) ?? null);
  }

  swapSchedulerLease(expectedRowMac: Buffer | null, next: SchedulerLeaseRecord): boolean {
    const row = { holder: next.holder, epoch: next.epoch, expiresAt: next.expiresAt, rowMac: next.rowMac };
    return this.conn.write(
      'swapSchedulerLease',
      () => (expectedRowMac === null ? this.stmt.insert.run(row) : this.stmt.update.run({ ...row, expected: expectedRowMac })).changes === 1,
      false,
      true,
    );
  }
}
