/**
 * What only the PostgreSQL keychain store has, beside the shared contract
 * suites (pg-store-contract.test.ts), on a real PostgreSQL 15 with a fresh
 * database per test: the refusal of writes that drop sealed material it
 * cannot erase, errors that name the store operation and keep the SQLSTATE,
 * a change stamp another node's write moves, and the trust journal's
 * triggers, hooks and snapshot.
 */
import { StorageError } from '../../../common/errors';
import { KeychainStore } from '../../../storage/keychain-store';
import { TrustWriteHooks } from '../../../storage/trust-journal-store';
import { pgStoreDatabases, PgStoreDatabases } from '../../support/pg-store-support';
import { startTestPostgres, TestPostgres } from '../../support/postgres-fixture';
import { addKey, codeOf, instance, material, rowMac, T1, T2 } from '../store-fixtures';

let pg: TestPostgres;
let databases: PgStoreDatabases;
let database: string;
const opened: KeychainStore[] = [];

beforeAll(async () => {
  pg = await startTestPostgres();
  databases = await pgStoreDatabases(pg, 'pg_store');
}, 180_000);

afterAll(async () => {
  databases?.close();
  await pg?.stop();
}, 60_000);

beforeEach(() => {
  database = databases.create();
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  databases.drop(database);
});

function open(acceptUnerasedDrops = false): KeychainStore {
  const store = databases.open(database, { acceptUnerasedDrops });
  opened.push(store);
  return store;
}

function thrown(fn: () => unknown): StorageError {
  try {
    fn();
  } catch (err) {
    return err as StorageError;
  }
  throw new Error('expected the call to fail');
}

describe('PostgresStore (PostgreSQL only)', () => {
  it('refuses a write that drops sealed material, changing nothing, unless opened with acceptUnerasedDrops', () => {
    const store = open();
    addKey(store, 'k1', 'hr', 'payroll');
    const destroy = { instanceId: 'k1-i1', state: 'Destroyed' as const, destroyedAt: T2, dropMaterial: true, rowMac: rowMac('d') };
    const refused = thrown(() => store.updateInstanceState(destroy));
    expect({ code: refused.code, reason: refused.details.reason }).toEqual({ code: 'STORAGE_ERROR', reason: 'unerasedDrop' });
    expect(store.getInstanceById('k1-i1')).toEqual(instance('k1', 1));
    expect(codeOf(() => store.deleteNamespace('hr'))).toBe('STORAGE_ERROR');
    expect(store.countKeys()).toBe(1);
    // The same write through a store whose operator accepted that copies remain.
    const accepting = open(true);
    accepting.updateInstanceState(destroy);
    expect(store.getInstanceById('k1-i1')).toMatchObject({ state: 'Destroyed', sealedMaterial: null });
  });

  it('reports a broken constraint as STORAGE_ERROR naming the store operation and the SQLSTATE, never a row value', () => {
    const store = open();
    addKey(store, 'k1', 'hr', 'payroll');
    const duplicate = thrown(() => store.addPendingInstance(instance('k1', 1, { name: 'another-name' })));
    expect(duplicate.code).toBe('STORAGE_ERROR');
    expect(duplicate.details).toMatchObject({ operation: 'addPendingInstance', bridgeOperation: 'query', pgCode: '23505' });
    expect(duplicate.message).toContain('addPendingInstance');
    expect(JSON.stringify(duplicate.details)).not.toContain('k1-i1');
    expect(store.listInstances('k1').map((i) => i.name)).toEqual(['n-k1-i1']);
  });

  it("moves the change stamp for another node's keychain write, but not for its audit append", () => {
    const here = open();
    const elsewhere = open();
    const before = here.changeStamp();
    const ownBefore = here.ownCommitCount();
    addKey(elsewhere, 'k1', 'hr', 'payroll');
    const afterWrite = here.changeStamp();
    expect(afterWrite).not.toBe(before);
    expect(here.ownCommitCount()).toBe(ownBefore);
    elsewhere.audit.appendAuditRecords([{ seq: 1, event: '{"kind":"test"}', prevHash: Buffer.alloc(32), hash: material('h1').subarray(0, 32) }]);
    expect(here.changeStamp()).toBe(afterWrite);
  });

  it('journals every authenticated row its triggers see, and takeJournal empties the journal in the same transaction', () => {
    const store = open();
    const trust = store.trust!;
    addKey(store, 'k1', 'hr', 'payroll');
    expect(trust.journalLength()).toBe(2);
    const entries = store.transaction(() => trust.takeJournal());
    expect(entries.map((e) => [e.table, e.oldMac, e.newMac])).toEqual([
      ['keys', null, rowMac('key-k1')],
      ['key_instances', null, rowMac('instance-k1-i1')],
    ]);
    expect(trust.journalLength()).toBe(0);
  });

  it('runs the trust hooks inside each write, undoing the write when one throws, and once around a batch', () => {
    const store = open();
    const trust = store.trust!;
    const calls: string[] = [];
    let refuse = false;
    const hooks: TrustWriteHooks = {
      beforeWrite: () => calls.push('before'),
      afterWrite: () => {
        calls.push(`after:${trust.takeJournal().length}`);
        if (refuse) throw new StorageError('STORAGE_CORRUPT', 'refused by the test hook');
      },
    };
    trust.setWriteHooks(hooks);
    addKey(store, 'k1', 'hr', 'payroll');
    expect(calls.splice(0)).toEqual(['before', 'after:2']);
    store.transaction(() => {
      addKey(store, 'k2', 'hr', 'bonus');
      addKey(store, 'k3', 'hr', 'pension');
    }, { batch: true });
    expect(calls.splice(0)).toEqual(['before', 'after:4']);
    refuse = true;
    expect(codeOf(() => addKey(store, 'k4', 'hr', 'gone'))).toBe('STORAGE_CORRUPT');
    expect(store.getKeyById('k4')).toBeNull();
    expect(trust.journalLength()).toBe(0);
  });

  it("opens a trust snapshot that keeps its moment while the store goes on writing", () => {
    const store = open();
    const trust = store.trust!;
    addKey(store, 'k1', 'hr', 'payroll');
    store.transaction(() => trust.putTrustState({ counter: 7, sealed: material('state'), updatedAt: T1 }));
    const snapshot = trust.openSnapshot();
    try {
      addKey(store, 'k2', 'hr', 'bonus');
      store.transaction(() => trust.putTrustState({ counter: 8, sealed: material('state-2'), updatedAt: T2 }));
      expect(snapshot.state).toEqual({ counter: 7, sealed: material('state'), updatedAt: T1 });
      expect(snapshot.journalLength).toBe(2);
      expect([...snapshot.rowMacs('keys')]).toEqual([rowMac('key-k1')]);
      expect(trust.rowMacs('keys')).toHaveLength(2);
    } finally {
      snapshot.close();
    }
  });
});
