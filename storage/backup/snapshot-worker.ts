/**
 * The backup snapshot worker's entry point (a worker_threads thread, one per
 * backup): `VACUUM INTO` on a read-only connection of its own, then the
 * snapshot's facts and hash, read from the written file.
 *
 * Why VACUUM INTO and not SQLite's online backup API (better-sqlite3's
 * db.backup()): the backup API restarts from the first page whenever another
 * connection writes the source, and the audit appender writes on a
 * connection of its own (storage/audit-worker/) after every group commit, so
 * under load a backup would restart for ever. VACUUM INTO reads the whole
 * database in one read transaction (in WAL mode the server's writers go on;
 * they do not wait for it), so the copy is one consistent state of every
 * table: keys, trust state and audit trail as of the same commit. It writes
 * only live rows into fresh pages: free pages, and whatever a dropped row
 * left in them, are not copied. On this thread, the event loop of the
 * server never waits for it.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { BUSY_TIMEOUT_MS } from '../sqlite-pragmas';
import { openUntrustedSqlite } from '../sqlite-untrusted-file';
import { readSnapshotFacts } from './snapshot-facts';
import { SnapshotReply, SnapshotSetup } from './snapshot-messages';

const HASH_CHUNK_BYTES = 1024 * 1024;

function hashFile(path: string): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(HASH_CHUNK_BYTES);
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) {
      hash.update(chunk.subarray(0, read));
      bytes += read;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: hash.digest('hex') };
}

function snapshot(setup: SnapshotSetup): SnapshotReply {
  // Created empty, owner-only and exclusively (never over another file): VACUUM INTO accepts an empty file.
  closeSync(openSync(setup.outPath, 'wx', 0o600));
  try {
    const source = openUntrustedSqlite(setup.keychainPath, { readonly: true, fileMustExist: true });
    try {
      source.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      source.prepare('VACUUM INTO ?').run(setup.outPath);
    } finally {
      source.close();
    }
    const copy = openUntrustedSqlite(setup.outPath, { readonly: true, fileMustExist: true });
    let facts;
    try {
      facts = readSnapshotFacts(copy);
    } finally {
      copy.close();
    }
    return { ok: true, ...hashFile(setup.outPath), facts };
  } catch (err) {
    try {
      unlinkSync(setup.outPath);
    } catch {
      /* already gone */
    }
    const code = (err as { code?: unknown }).code;
    return { ok: false, code: typeof code === 'string' && (code.startsWith('SQLITE_FULL') || code === 'ENOSPC') ? 'STORAGE_FULL' : 'STORAGE_ERROR', message: (err as Error).message };
  }
}

parentPort?.postMessage(snapshot(workerData as SnapshotSetup));
