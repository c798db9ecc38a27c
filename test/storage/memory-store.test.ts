/** The in-memory keychain store runs the shared conformance suite. */
import { MemoryStore } from '../../storage/memory-store';
import { describeDirectoryConformance } from './directory-conformance';
import { describeStoreConformance } from './store-conformance';

describeStoreConformance('MemoryStore', () => ({ store: new MemoryStore(), cleanup: () => undefined }));

describeDirectoryConformance('MemoryStore', () => ({ store: new MemoryStore(), cleanup: () => undefined }));
