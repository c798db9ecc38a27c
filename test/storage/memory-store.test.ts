/** The in-memory keychain store runs the shared conformance suite. */
import { MemoryStore } from '../../storage/memory-store';
import { describeStoreConformance } from './store-conformance';

describeStoreConformance('MemoryStore', () => ({ store: new MemoryStore(), cleanup: () => undefined }));
