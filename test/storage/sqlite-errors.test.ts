/**
 * SQLite result codes map to stable Strongroom codes, whatever the extended
 * code, and a writer blocked by another process's lock fails STORAGE_BUSY
 * after busy_timeout with nothing written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StorageError, ValidationError } from '../../common/errors';
import { isSqliteError, mapSqliteError, storageCodeFor } from '../../storage/sqlite-errors';
import { BUSY_TIMEOUT_MS, openSqliteStore } from '../../storage/sqlite-store';
import { codeOf, instance, key } from './store-fixtures';

describe('storageCodeFor', () => {
  it.each([
    ['SQLITE_FULL', 'STORAGE_FULL'],
    ['SQLITE_BUSY', 'STORAGE_BUSY'],
    ['SQLITE_BUSY_SNAPSHOT', 'STORAGE_BUSY'],
    ['SQLITE_BUSY_TIMEOUT', 'STORAGE_BUSY'],
    ['SQLITE_LOCKED', 'STORAGE_BUSY'],
    ['SQLITE_LOCKED_SHAREDCACHE', 'STORAGE_BUSY'],
    ['SQLITE_CORRUPT', 'STORAGE_CORRUPT'],
    ['SQLITE_CORRUPT_INDEX', 'STORAGE_CORRUPT'],
    ['SQLITE_NOTADB', 'STORAGE_CORRUPT'],
    ['SQLITE_CONSTRAINT_UNIQUE', 'STORAGE_ERROR'],
    ['SQLITE_IOERR_WRITE', 'STORAGE_ERROR'],
    ['SQLITE_READONLY', 'STORAGE_ERROR'],
    ['SQLITE_FULLNESS_NOT_A_CODE', 'STORAGE_ERROR'],
  ])('%s -> %s', (sqliteCode, code) => {
    expect(storageCodeFor(sqliteCode)).toBe(code);
  });
});

describe('mapSqliteError', () => {
  it('wraps a SqliteError with its cause and the operation, never its text', () => {
    const cause = new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE');
    const err = mapSqliteError(cause, 'createKey') as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.code).toBe('STORAGE_ERROR');
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ operation: 'createKey', sqliteCode: 'SQLITE_IOERR_WRITE' });
  });

  it('passes anything else through unchanged', () => {
    const own = new ValidationError('bad');
    const plain = new Error('plain');
    expect(mapSqliteError(own, 'x')).toBe(own);
    expect(mapSqliteError(plain, 'x')).toBe(plain);
    expect(mapSqliteError('str', 'x')).toBe('str');
  });

  it('recognises a SqliteError from another realm by its shape', () => {
    const foreign = Object.assign(Object.create(null), { name: 'SqliteError', code: 'SQLITE_FULL', message: 'full' });
    expect(isSqliteError(foreign)).toBe(true);
    expect((mapSqliteError(foreign, 'x') as StorageError).code).toBe('STORAGE_FULL');
    expect(isSqliteError({ name: 'SqliteError', code: 42 })).toBe(false);
  });
});

describe('a writer blocked by another connection', () => {
  it(`fails STORAGE_BUSY after ${BUSY_TIMEOUT_MS} ms, writes nothing, and works once the lock is gone`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strongroom-busy-'));
    const file = path.join(dir, 'keychain.db');
    try {
      const store = openSqliteStore(file);
      const other = new Database(file);
      other.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      expect(codeOf(() => store.createKey(key('k1', 'hr', 'payroll'), instance('k1', 1)))).toBe('STORAGE_BUSY');
      expect(Date.now() - started).toBeGreaterThanOrEqual(BUSY_TIMEOUT_MS - 100);
      expect(store.getKeyById('k1')).toBeNull(); // reads still work under WAL
      other.exec('ROLLBACK');
      other.close();
      store.createKey(key('k1', 'hr', 'payroll'), instance('k1', 1));
      expect(store.countKeys()).toBe(1);
      store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
