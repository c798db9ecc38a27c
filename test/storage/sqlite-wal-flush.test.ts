/**
 * The flush that makes a commit made without its own fsync durable
 * (storage/sqlite-wal-flush.ts, TransactionalStore.commitsDurable), on a real
 * SQLite file: it fsyncs the WAL the commit wrote to, off the event loop; a
 * missing WAL (everything checkpointed) is durable already; a failure is a
 * StorageError with the errno, never silence.
 */
import { mkdirSync, mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flushWal } from '../../storage/sqlite-wal-flush';
import { openSqliteStore } from '../../storage/sqlite-store';

describe('flushing the WAL of commits made without their own fsync', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-wal-flush-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fsyncs the WAL file the store committed to', async () => {
    const file = join(dir, 'keychain.db');
    const store = openSqliteStore(file);
    try {
      store.transaction(() => store.putHsmSealedSecret({ name: 'flushed', masterKeyVersion: 1, mechanism: 'test', wrappedKey: Buffer.alloc(40), sealed: Buffer.alloc(8), createdAt: '2026-12-01T00:00:00.000Z' }), { durableWithAuditEvent: true });
      const synced: string[] = [];
      const open = fsp.open.bind(fsp);
      jest.spyOn(fsp, 'open').mockImplementation(async (path, flags) => {
        const handle = await open(path, flags);
        const sync = handle.sync.bind(handle);
        handle.sync = async () => {
          synced.push(String(path));
          return sync();
        };
        return handle;
      });
      await store.commitsDurable!();
      expect(synced).toEqual([`${file}-wal`]);
    } finally {
      store.close();
    }
  });

  it('runs one fsync at a time: callers arriving while one runs share the next, which starts after it', async () => {
    const file = join(dir, 'keychain.db');
    const store = openSqliteStore(file);
    try {
      store.transaction(() => store.putHsmSealedSecret({ name: 'flushed', masterKeyVersion: 1, mechanism: 'test', wrappedKey: Buffer.alloc(40), sealed: Buffer.alloc(8), createdAt: '2026-12-01T00:00:00.000Z' }), { durableWithAuditEvent: true });
      let running = 0;
      let overlapped = false;
      let syncs = 0;
      const open = fsp.open.bind(fsp);
      jest.spyOn(fsp, 'open').mockImplementation(async (path, flags) => {
        const handle = await open(path, flags);
        const sync = handle.sync.bind(handle);
        handle.sync = async () => {
          overlapped ||= running > 0;
          running++;
          syncs++;
          try {
            return await sync();
          } finally {
            running--;
          }
        };
        return handle;
      });
      const first = store.commitsDurable!();
      const second = store.commitsDurable!();
      const third = store.commitsDurable!();
      expect(third).toBe(second);
      await Promise.all([first, second, third]);
      expect(syncs).toBe(2);
      expect(overlapped).toBe(false);
    } finally {
      store.close();
    }
  });

  it('once a flush failed, every later one fails too: a new descriptor\'s fsync cannot vouch for the frames the failed one lost', async () => {
    const file = join(dir, 'keychain.db');
    const store = openSqliteStore(file);
    try {
      store.transaction(() => store.putHsmSealedSecret({ name: 'lost', masterKeyVersion: 1, mechanism: 'test', wrappedKey: Buffer.alloc(40), sealed: Buffer.alloc(8), createdAt: '2026-12-01T00:00:00.000Z' }), { durableWithAuditEvent: true });
      // Linux reports a writeback error once: the descriptor that saw EIO consumed it, and a descriptor opened after reports success.
      let failures = 1;
      const open = fsp.open.bind(fsp);
      jest.spyOn(fsp, 'open').mockImplementation(async (path, flags) => {
        const handle = await open(path, flags);
        if (failures > 0) {
          failures--;
          handle.sync = async () => {
            throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
          };
        }
        return handle;
      });
      await expect(store.commitsDurable!()).rejects.toMatchObject({ code: 'STORAGE_ERROR', details: { operation: 'flushWal', errno: 'EIO' } });
      store.transaction(() => store.putHsmSealedSecret({ name: 'after', masterKeyVersion: 1, mechanism: 'test', wrappedKey: Buffer.alloc(40), sealed: Buffer.alloc(8), createdAt: '2026-12-01T00:00:00.000Z' }), { durableWithAuditEvent: true });
      await expect(store.commitsDurable!()).rejects.toMatchObject({ code: 'STORAGE_ERROR', details: { operation: 'flushWal', errno: 'EIO' } });
    } finally {
      store.close();
    }
  });

  it('resolves when there is no WAL file: every frame was checkpointed into the synced database', async () => {
    await expect(flushWal(join(dir, 'never-opened.db'))).resolves.toBeUndefined();
  });

  it('rejects with a StorageError naming the errno when the WAL cannot be flushed', async () => {
    const file = join(dir, 'broken.db');
    mkdirSync(`${file}-wal`);
    await expect(flushWal(file)).rejects.toMatchObject({ code: 'STORAGE_ERROR', details: { operation: 'flushWal', errno: 'EISDIR' } });
  });
});
