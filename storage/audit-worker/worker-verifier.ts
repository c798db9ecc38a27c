/**
 * The checkpointer's verification on a worker thread of its own
 * (chain-verify-worker.ts), one per checkpoint: started, answered once,
 * ended. A worker that fails or stops without answering rejects, and the
 * checkpointer signs nothing this time (it retries at the next interval).
 */
import { Worker } from 'node:worker_threads';
import { StorageError } from '../../common/errors';
import { HeadVerification, HeadVerifier } from '../../domain/audit/audit-checkpointer';
import { VerifyReply, VerifySetup } from './chain-verify-messages';
import { workerScript } from './worker-script';

export function workerHeadVerifier(keychainPath: string): HeadVerifier {
  return (signed, toSeq, unsignedRunsUpTo) =>
    new Promise<HeadVerification>((resolve, reject) => {
      const setup: VerifySetup = { keychainPath, signed: signed === null ? null : { seq: signed.seq, hash: new Uint8Array(signed.hash) }, toSeq, unsignedRunsUpTo };
      const worker = new Worker(workerScript(__dirname, 'chain-verify-worker.js'), { workerData: setup });
      let answered = false;
      worker.once('message', (reply: VerifyReply) => {
        answered = true;
        void worker.terminate();
        if (!reply.ok) {
          reject(new StorageError('STORAGE_ERROR', `audit checkpoint verification: ${reply.message}`));
          return;
        }
        const { verdict } = reply;
        resolve({ verdict: { ...verdict, head: verdict.head === null ? null : { seq: verdict.head.seq, hash: Buffer.from(verdict.head.hash) } }, earlierRun: reply.earlierRun });
      });
      worker.once('error', (err) => {
        if (!answered) reject(new StorageError('STORAGE_ERROR', `audit checkpoint verification worker failed: ${err.message}`, { cause: err }));
        answered = true;
      });
      worker.once('exit', (code) => {
        if (!answered) reject(new StorageError('STORAGE_ERROR', `audit checkpoint verification worker stopped (exit code ${code})`));
        answered = true;
      });
    });
}
