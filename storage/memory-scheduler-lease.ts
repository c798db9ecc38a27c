/** The scheduler's lease in memory: the fast fake of storage/scheduler-lease-store.ts, same rules, undone with its transaction. */
import { MemoryTables } from './memory-tables';
import { SchedulerLeaseRecord, SchedulerLeaseStore } from './scheduler-lease-store';

export class MemorySchedulerLease implements SchedulerLeaseStore {
  constructor(private readonly tables: MemoryTables) {}

  readSchedulerLease(): SchedulerLeaseRecord | null {
    this.tables.assertOpen();
    const row = this.tables.current.schedulerLease;
    return row === null ? null : { ...row, rowMac: Buffer.from(row.rowMac) };
  }

  swapSchedulerLease(expectedRowMac: Buffer | null, next: SchedulerLeaseRecord): boolean {
    this.tables.assertOpen();
    const row = this.tables.current.schedulerLease;
    const same = expectedRowMac === null ? row === null : row !== null && row.rowMac.equals(expectedRowMac);
    if (!same) return false;
    this.tables.current.schedulerLease = { holder: next.holder, epoch: next.epoch, expiresAt: next.expiresAt, rowMac: Buffer.from(next.rowMac) };
    return true;
  }
}
