/**
 * The checkpoint verification's worker thread: opens the keychain file read
 * only, checks that the stored trail still holds the head signed last and
 * extends it to the new head (domain/audit/audit-checkpointer.ts
 * verifyHead), replies with the verdict once and ends. Re-reading and
 * re-hashing every event since the last checkpoint is the checkpointer's
 * whole cost; here it takes no time from the server's event loop, nor from
 * the append worker's group commits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyHead } from '../../domain/audit/audit-checkpointer';
import { openSqliteStore } from '../sqlite-store';
import { VerifyReply, VerifySetup } from './chain-verify-messages';

function run(setup: VerifySetup): VerifyReply {
  try {
    const store = openSqliteStore(setup.keychainPath, { readonly: true });
    try {
      const signed = setup.signed === null ? null : { seq: setup.signed.seq, hash: Buffer.from(setup.signed.hash) };
      const { verdict, earlierRun } = verifyHead(store.audit, signed, setup.toSeq, setup.unsignedRunsUpTo);
      return { ok: true, verdict: { ...verdict, head: verdict.head === null ? null : { seq: verdict.head.seq, hash: new Uint8Array(verdict.head.hash) } }, earlierRun };
    } finally {
      store.close();
    }
  } catch (err) {
    return { ok: false, message: String((err as Error)?.message ?? err) };
  }
}

if (parentPort !== null) parentPort.postMessage(run(workerData as VerifySetup));
