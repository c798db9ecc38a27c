/**
 * The audit append worker's entry point (a worker_threads thread): its own
 * SQLite connection, chaining and appending each batch the server sends in
 * one transaction, so that the fsync of a group commit never holds the
 * server's event loop. It replies with each record's place in the chain;
 * a failure replies with the storage error's code (the server then answers
 * the waiting requests AUDIT_UNAVAILABLE: fail closed).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { chainEvents } from '../../domain/audit/audit-writer';
import { SqliteAuditAppender } from '../sqlite-audit-appender';
import { AppendReply, AppendRequest, WorkerSetup } from './audit-append-messages';

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'STORAGE_ERROR';
}

function serve(setup: WorkerSetup): void {
  const port = parentPort!;
  let appender: SqliteAuditAppender | null = null;
  port.on('message', (request: AppendRequest) => {
    let reply: AppendReply;
    try {
      appender ??= SqliteAuditAppender.open(setup.keychainPath);
      const records = appender.append((head) => chainEvents(head, request.events));
      reply = { id: request.id, ok: true, records: records.map((r) => ({ seq: r.seq, prevHash: r.prevHash, hash: r.hash })) };
    } catch (err) {
      // A connection that failed may be unusable (disk gone): open a new one for the next batch.
      appender?.close();
      appender = null;
      reply = { id: request.id, ok: false, code: codeOf(err), message: String((err as Error)?.message ?? err) };
    }
    port.postMessage(reply);
  });
  port.on('close', () => appender?.close());
}

if (parentPort !== null) serve(workerData as WorkerSetup);
