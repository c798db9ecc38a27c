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
import { AppendReply, AppendRequest, CHAIN_HASH_BYTES, EVENT_SEPARATOR, WorkerSetup } from './audit-append-messages';

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
      const events = request.events.split(EVENT_SEPARATOR);
      if (events.length !== request.count) throw new Error(`the batch holds ${events.length} events, not the ${request.count} sent`);
      appender ??= SqliteAuditAppender.open(setup.keychainPath);
      const records = appender.append((head) => chainEvents(head, events));
      const transferred = new ArrayBuffer(records.length * CHAIN_HASH_BYTES);
      const hashes = new Uint8Array(transferred);
      records.forEach((r, i) => hashes.set(r.hash, i * CHAIN_HASH_BYTES));
      reply = { id: request.id, ok: true, block: { firstSeq: records[0].seq, prevHash: new Uint8Array(records[0].prevHash), hashes } };
    } catch (err) {
      // A connection that failed may be unusable (disk gone): open a new one for the next batch.
      appender?.close();
      appender = null;
      reply = { id: request.id, ok: false, code: codeOf(err), message: String((err as Error)?.message ?? err) };
    }
    // The hash block moves to the server's thread rather than being copied.
    port.postMessage(reply, reply.ok ? [reply.block.hashes.buffer as ArrayBuffer] : []);
  });
  port.on('close', () => appender?.close());
}

if (parentPort !== null) serve(workerData as WorkerSetup);
