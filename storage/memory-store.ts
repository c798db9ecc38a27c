/**
 * The in-memory keychain store: the fast fake of storage/keychain-store.ts
 * for unit tests, held to the same conformance suites as SQLite. It is
 * assembled from one part per capability over shared tables
 * (storage/memory-tables.ts: transactions, change stamp, close):
 * memory-keys.ts, memory-key-schedule.ts, memory-naming.ts,
 * memory-keychain-root.ts, and the sub-ports memory-directory.ts,
 * memory-audit.ts, memory-approvals.ts, memory-invocations.ts. A failed
 * transaction undoes the tables and the approval store.
 */
import { ComposedKeychainStore, KeychainStoreParts } from './composed-keychain-store';
import { MemoryApprovals } from './memory-approvals';
import { MemoryAudit } from './memory-audit';
import { MemoryDirectory } from './memory-directory';
import { MemoryInvocations } from './memory-invocations';
import { MemoryKeySchedule } from './memory-key-schedule';
import { MemoryKeychainRoot } from './memory-keychain-root';
import { MemoryKeys } from './memory-keys';
import { MemoryNaming } from './memory-naming';
import { MemoryTables } from './memory-tables';
import { MemorySchedulerLease } from './memory-scheduler-lease';
import { MemoryIdempotency } from './memory-idempotency';

function memoryParts(): KeychainStoreParts {
  // The approval store moves the change stamp, and a failed transaction undoes it: each refers to the other.
  const approvals: MemoryApprovals = new MemoryApprovals(() => tables.changed());
  const tables = new MemoryTables(approvals);
  return {
    connection: tables,
    keys: new MemoryKeys(tables),
    schedule: new MemoryKeySchedule(tables),
    naming: new MemoryNaming(tables),
    root: new MemoryKeychainRoot(tables),
    directory: new MemoryDirectory(() => tables.changed()),
    // Audit appends are not keychain changes (no cache depends on them).
    audit: new MemoryAudit(),
    approvals,
    invocations: new MemoryInvocations(() => tables.assertOpen()),
    schedulerLease: new MemorySchedulerLease(tables),
    idempotency: new MemoryIdempotency(tables),
  };
}

export class MemoryStore extends ComposedKeychainStore {
  constructor() {
    super(memoryParts());
  }
}
