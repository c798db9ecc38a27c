/**
 * The keychain store waits for another process's write lock within a bound
 * (storage/sqlite-busy.ts): a lock released while a write waits lets the
 * write through; one held past the bound refuses it STORAGE_BUSY, naming
 * the wait, with nothing written; the store works once the lock is gone.
 *
 * The other process is a second SQLite connection to the same file (SQLite's
 * locks are per connection). It releases its lock inside the store's
 * `onWait` report, i.e. exactly when the store has found the lock held and
 * before it tries again: no sleep decides the order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StorageError } from '../../common/errors';
import { BusyPolicy } from '../../storage/sqlite-busy';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { codeOf, instance, key } from './store-fixtures';

type Wait = Parameters<NonNullable<BusyPolicy['onWait']>>[0];

describe('a write that meets another connection\'s write lock', () => {
  let dir: string;
  let file: string;
  let other: Database.Database;
  let store: KeychainStore | null = null;
  const waits: Wait[] = [];

  /** Opens the store, then has the other connection take the write lock. */
  function open(onWait: (wait: Wait) => void, holdLock = true): KeychainStore {
    store = openSqliteStore(file, {
      busy: {
        attempts: 3,
        sliceMs: 20,
        onWait: (wait) => {
          waits.push(wait);
          onWait(wait);
        },
      },
    });
    if (holdLock) other.exec('BEGIN IMMEDIATE');
    return store;
  }

  beforeEach(() => {
    waits.length = 0;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strongroom-busy-retry-'));
    file = path.join(dir, 'keychain.db');
    openSqliteStore(file).close();
    other = new Database(file);
  });

  afterEach(() => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
    store?.close();
    store = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('goes through once the lock is released while it waits', () => {
    const s = open((wait) => {
      if (wait.attempt === 1) other.exec('COMMIT');
    });
    s.createKey(key('k1', 'hr', 'payroll'), instance('k1', 1));
    expect(waits).toEqual([{ operation: 'createKey', attempt: 1, attempts: 3, waitedMs: 20 }]);
    expect(s.getKeyById('k1')?.name).toBe('payroll');
  });

  it('is refused STORAGE_BUSY, naming the wait, with nothing written, when the lock outlives the bound', () => {
    const s = open(() => undefined);
    let refused: unknown = null;
    try {
      s.createKey(key('k1', 'hr', 'payroll'), instance('k1', 1));
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(StorageError);
    expect(refused).toMatchObject({ code: 'STORAGE_BUSY', details: { operation: 'createKey', attempts: 3, waitedMs: 60 } });
    expect((refused as Error).message).toMatch(/another process holds; nothing was changed\. Retry/);
    expect(waits.map((w) => w.attempt)).toEqual([1, 2]);
    expect(s.getKeyById('k1')).toBeNull(); // reads still work under WAL

    other.exec('ROLLBACK');
    s.createKey(key('k1', 'hr', 'payroll'), instance('k1', 1));
    expect(s.countKeys()).toBe(1);
  });

  it('never waits inside a transaction it already holds (a nested write is a savepoint)', () => {
    const s = open(() => undefined, false);
    s.transaction(() => {
      s.createKey(key('k1', 'hr', 'payroll'), instance('k1', 1));
      s.createKey(key('k2', 'hr', 'bonus'), instance('k2', 1));
    });
    expect(waits).toEqual([]);
    expect(s.countKeys()).toBe(2);
  });

  it('refuses a policy without a positive bound', () => {
    expect(codeOf(() => openSqliteStore(file, { busy: { attempts: 0 } }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => openSqliteStore(file, { busy: { sliceMs: -1 } }))).toBe('INVALID_ARGUMENT');
  });
});
