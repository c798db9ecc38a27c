/**
 * The server's side of the audit append worker: sends each group-commit
 * batch to the worker thread and resolves with the chained records once
 * they are durable. One batch is in flight at a time (the AuditWriter sees
 * to it). If the worker dies, the batch in flight fails (AUDIT_UNAVAILABLE
 * upstream: fail closed) and the next batch starts a new worker.
 */
import { Worker } from 'node:worker_threads';
import { StorageError } from '../../common/errors';
import { ErrorCode, ERROR_CODES } from '../../common/error-codes';
import { AuditRecord } from '../audit-store';
import { AppendReply, CHAIN_HASH_BYTES, EVENT_SEPARATOR, WorkerSetup } from './audit-append-messages';
import { workerScript } from './worker-script';

const WORKER_FILE = 'audit-append-worker.js';

interface InFlight {
  readonly id: number;
  readonly events: readonly string[];
  readonly resolve: (records: AuditRecord[]) => void;
  readonly reject: (err: Error) => void;
}

export class WorkerAuditAppender {
  private worker: Worker | null = null;
  private inFlight = new Map<number, InFlight>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly setup: WorkerSetup) {}

  append(events: readonly string[]): Promise<AuditRecord[]> {
    if (this.closed) return Promise.reject(new StorageError('STORAGE_ERROR', 'the audit appender is closed'));
    return new Promise((resolvePromise, reject) => {
      const id = this.nextId++;
      this.inFlight.set(id, { id, events, resolve: resolvePromise, reject });
      const worker = this.ensureWorker();
      // Keep the process alive while an append is under way (a shutdown awaits it); idle, the worker holds nothing.
      worker.ref();
      worker.postMessage({ id, events: events.join(EVENT_SEPARATOR), count: events.length });
    });
  }

  /** Ends the worker; appends still in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
    this.failAll(new StorageError('STORAGE_ERROR', 'the audit appender closed before the append finished'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerScript(__dirname, WORKER_FILE), { workerData: this.setup });
    worker.on('message', (reply: AppendReply) => this.settle(reply));
    const lost = (err: Error): void => {
      if (this.worker === worker) this.worker = null;
      this.failAll(new StorageError('STORAGE_ERROR', `the audit append worker stopped: ${err.message}`, { cause: err }));
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`exit code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(reply: AppendReply): void {
    const pending = this.inFlight.get(reply.id);
    if (!pending) return;
    this.inFlight.delete(reply.id);
    if (this.inFlight.size === 0) this.worker?.unref();
    if (!reply.ok) {
      const code = (reply.code in ERROR_CODES ? reply.code : 'STORAGE_ERROR') as ErrorCode;
      pending.reject(new StorageError(code, `audit trail: ${reply.message}`));
      return;
    }
    const { firstSeq, prevHash, hashes } = reply.block;
    if (hashes.byteLength !== pending.events.length * CHAIN_HASH_BYTES) {
      pending.reject(new StorageError('STORAGE_ERROR', 'audit trail: the worker appended another number of events than sent'));
      return;
    }
    const block = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
    const records: AuditRecord[] = new Array(pending.events.length);
    let previous: Buffer = Buffer.from(prevHash);
    for (let i = 0; i < records.length; i++) {
      const hash = block.subarray(i * CHAIN_HASH_BYTES, (i + 1) * CHAIN_HASH_BYTES);
      records[i] = { seq: firstSeq + i, event: pending.events[i], prevHash: previous, hash };
      previous = hash;
    }
    pending.resolve(records);
  }

  private failAll(err: Error): void {
    const pending = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const p of pending) p.reject(err);
  }
}
