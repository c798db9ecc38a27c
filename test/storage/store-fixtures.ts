/**
 * Record builders and assertions for the keychain store tests. Sealed
 * material is a recognisable, per-instance byte pattern so that tests can
 * check Buffers round-trip and (for SQLite) look for the bytes in the file.
 */
import { KeychainStore } from '../../storage/keychain-store';
import { KeyStore } from '../../storage/key-store';
import { InstanceRecord, KeychainMetaRecord, KeyRecord, WrappedKeychainKeyRecord } from '../../storage/records';

/** Makes a fresh, empty store for one test; cleanup() runs after the suite closed it. */
export type StoreFactory = () => { store: KeychainStore; cleanup(): void };

/**
 * A fresh store for every test of the calling suite: opened before each
 * test, closed and cleaned up after it. The returned value forwards to the
 * current test's store, so a suite reads `store.x()` as if it held it.
 */
export function storePerTest(factory: StoreFactory): KeychainStore {
  let current: { store: KeychainStore; cleanup(): void } | null = null;
  beforeEach(() => {
    current = factory();
  });
  afterEach(() => {
    current?.store.close();
    current?.cleanup();
    current = null;
  });
  return new Proxy({} as KeychainStore, {
    get(_target, property) {
      if (current === null) throw new Error('the store is opened per test: use it inside a test or a hook');
      const value = Reflect.get(current.store, property, current.store) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current.store) : value;
    },
  });
}

export const T0 = '2025-01-01T00:00:00.000Z';
export const T1 = '2025-02-01T00:00:00.000Z';
export const T2 = '2025-03-01T00:00:00.000Z';

export function meta(overrides: Partial<KeychainMetaRecord> = {}): KeychainMetaRecord {
  return { keychainId: 'kc-1', createdAt: T0, tokenLabel: 'strongroom', tokenSerial: '0001', ...overrides };
}

export function wrapped(version: number, overrides: Partial<WrappedKeychainKeyRecord> = {}): WrappedKeychainKeyRecord {
  return {
    version,
    masterKeyVersion: version,
    mechanism: 'CKM_AES_KEY_WRAP_KWP',
    wrapped: Buffer.alloc(40, version),
    createdAt: T0,
    ...overrides,
  };
}

export function key(id: string, namespace: string, name: string, overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id,
    namespace,
    name,
    algorithm: 'AES-256',
    usageMask: 12,
    description: `the ${name} key`,
    owner: 'alice',
    customAttributes: { team: 'payments', 'x-cost-centre': '42' },
    rolloverPolicy: 'auto',
    cryptoperiod: 'P90D',
    currentInstanceId: `${id}-i1`,
    nextRolloverAt: null,
    protectPeriod: null,
    processPeriod: null,
    createdAt: T0,
    updatedAt: T0,
    facts: null,
    sensitive: false,
    rowMac: rowMac(`key-${id}`),
    ...overrides,
  };
}

/** A 32-byte stand-in for a row MAC, unique to (seed): the store only keeps it. */
export function rowMac(seed: string): Buffer {
  return material(seed).subarray(0, 32);
}

/** The key-row update addCurrentInstance takes. */
export function pointer(updatedAt: string, seed = updatedAt): { updatedAt: string; rowMac: Buffer } {
  return { updatedAt, rowMac: rowMac(`pointer-${seed}`) };
}

/** A 64-byte sealed blob unique to (seed). */
export function material(seed: string): Buffer {
  const out = Buffer.alloc(64);
  for (let i = 0; i < out.length; i++) out[i] = (seed.charCodeAt(i % seed.length) * 31 + i * 7) & 0xff;
  return out;
}

export function instance(keyId: string, version: number, overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  const id = `${keyId}-i${version}`;
  return {
    id,
    keyId,
    name: `n-${id}`,
    version,
    state: 'Active',
    sealedMaterial: material(id),
    sealVersion: 1,
    createdAt: T0,
    activatedAt: T0,
    deactivatedAt: null,
    destroyedAt: null,
    destroyAt: null,
    protectStopAt: null,
    processStopAt: null,
    processStartAt: null,
    origin: 'generated',
    revocationReason: null,
    compromisedAt: null, compromiseOccurredAt: null,
    fresh: false,
    rowMac: rowMac(`instance-${id}`),
    ...overrides,
  };
}

/** A key with its first instance. */
export function addKey(store: KeyStore, id: string, namespace: string, keyName: string, algorithm = 'AES-256'): void {
  store.createKey(key(id, namespace, keyName, { algorithm }), instance(id, 1));
}

/** `namespace/name` of each key, in order. */
export function names(ks: { namespace: string; name: string }[]): string[] {
  return ks.map((k) => `${k.namespace}/${k.name}`);
}

export { codeOf } from '../support/error-code';
