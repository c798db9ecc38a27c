/** The in-memory keychain store runs the shared conformance suites. */
import { MemoryStore } from '../../storage/memory-store';
import { describeKeychainStoreConformance } from './keychain-store-conformance';

describeKeychainStoreConformance('MemoryStore', () => ({ store: new MemoryStore(), cleanup: () => undefined }));
