/**
 * Runs one backup snapshot on a worker thread of its own
 * (snapshot-worker.ts): started, answered once, ended. A worker that fails
 * or stops without answering rejects with STORAGE_ERROR, and no snapshot
 * file is left behind by a failure the worker saw.
 */
import { Worker } from 'node:worker_threads';
import { StorageError } from '../../common/errors';
import { workerScript } from '../audit-worker/worker-script';
import { SnapshotReply, SnapshotResult, SnapshotSetup } from './snapshot-messages';

/** What an officer refused a backup on a full backup_dir reads: what happened, what was kept, what to do. */
export const BACKUP_DIR_FULL_MESSAGE =
  'the backup could not be written to backup_dir (ENOSPC: its file system is full): no backup was made and no partial file is left; free space there (or keep fewer backups: backup_retention), then retry';

export function snapshotOnWorker(setup: SnapshotSetup): Promise<SnapshotResult> {
  return new Promise<SnapshotResult>((resolve, reject) => {
    const worker = new Worker(workerScript(__dirname, 'snapshot-worker.js'), { workerData: setup });
    let answered = false;
    worker.once('message', (reply: SnapshotReply) => {
      answered = true;
      void worker.terminate();
      if (!reply.ok) {
        reject(
          reply.code === 'STORAGE_FULL'
            ? new StorageError('STORAGE_FULL', BACKUP_DIR_FULL_MESSAGE, { details: { cause: reply.message } })
            : new StorageError('STORAGE_ERROR', `backup snapshot: ${reply.message}`),
        );
        return;
      }
      resolve({ bytes: reply.bytes, sha256: reply.sha256, facts: reply.facts });
    });
    worker.once('error', (err) => {
      if (!answered) reject(new StorageError('STORAGE_ERROR', `backup snapshot worker failed: ${err.message}`, { cause: err }));
      answered = true;
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new StorageError('STORAGE_ERROR', `backup snapshot worker stopped (exit code ${code})`));
      answered = true;
    });
  });
}
