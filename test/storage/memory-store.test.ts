/** The in-memory keychain store runs the shared conformance suite. */
import { MemoryStore } from '../../storage/memory-store';
import { describeDirectoryConformance } from './directory-conformance';
import { describeApprovalConformance } from './approval-conformance';
import { describeStoreConformance } from './store-conformance';
import { describeUnsealStoreConformance } from './unseal-store-conformance';

describeStoreConformance('MemoryStore', () => ({ store: new MemoryStore(), cleanup: () => undefined }));

describeDirectoryConformance('MemoryStore', () => ({ store: new MemoryStore(), cleanup: () => undefined }));

describeUnsealStoreConformance('MemoryStore', () => ({ store: new MemoryStore(), cleanup: () => undefined }));
describeApprovalConformance('MemoryStore', () => ({ store: new MemoryStore(), cleanup: () => undefined }));
