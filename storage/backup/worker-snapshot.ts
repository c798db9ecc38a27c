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

export function snapshotOnWorker(setup: SnapshotSetup): Promise<SnapshotResult> {
  return new Promise<SnapshotResult>((resolve, reject) => {
    const worker = new Worker(workerScript(__dirname, 'snapshot-worker.js'), { workerData: setup });
    let answered = false;
    worker.once('message', (reply: SnapshotReply) => {
      answered = true;
      void worker.terminate();
      if (!reply.ok) {
        reject(new StorageError(reply.code === 'STORAGE_FULL' ? 'STORAGE_FULL' : 'STORAGE_ERROR', `backup snapshot: ${reply.message}`));
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
