/**
 * The whole keychain store's conformance: every capability suite plus the
 * directory, approval and invocation sub-ports, run over one factory of fresh, empty
 * stores (OpenBao's ExerciseBackend habit). A backend's test file calls
 * this once; a new capability suite added here runs against every backend.
 */
import { describeApprovalConformance } from './approval-conformance';
import { describeAuditAppendConformance } from './audit-append-conformance';
import { describeDirectoryConformance } from './directory-conformance';
import { describeInvocationConformance } from './invocation-conformance';
import { describeKeyScheduleConformance } from './key-schedule-conformance';
import { describeKeyStoreConformance } from './key-store-conformance';
import { describeKeychainRootConformance } from './keychain-root-conformance';
import { describeNamingConformance } from './naming-conformance';
import { describeSchedulerLeaseConformance } from './scheduler-lease-conformance';
import { describeIdempotencyConformance } from './idempotency-conformance';
import { StoreFactory } from './store-fixtures';
import { describeTransactionalConformance } from './transactional-conformance';

/** `factory`'s cleanup must close the store too: the directory and approval suites leave that to it. */
export function describeKeychainStoreConformance(name: string, factory: StoreFactory): void {
  describeKeyStoreConformance(name, factory);
  describeKeyScheduleConformance(name, factory);
  describeNamingConformance(name, factory);
  describeKeychainRootConformance(name, factory);
  describeTransactionalConformance(name, factory);
  describeDirectoryConformance(name, factory);
  describeApprovalConformance(name, factory);
  describeInvocationConformance(name, factory);
  describeAuditAppendConformance(name, factory);
  describeSchedulerLeaseConformance(name, factory);
  describeIdempotencyConformance(name, factory);
}
