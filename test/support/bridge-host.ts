/**
 * The test side of bridge-host-worker.ts: a SyncBridge in a thread of its
 * own, called asynchronously, so a test can hold two bridges that block at
 * the same time (two appliances' storage on one machine).
 */
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SyncBridgeOptions } from '../../storage/postgres/sync-bridge';
import type { HostOp } from './bridge-host-worker';

const HOST_WORKER = resolve(__dirname, '../../dist/test/support/bridge-host-worker.js');

export interface HostedBridge {
  call(op: HostOp, ...args: unknown[]): Promise<unknown>;
  /** Closes the bridge and ends the thread. */
  close(): Promise<void>;
}

export class HostedBridgeError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export function hostBridge(options: SyncBridgeOptions): HostedBridge {
  const worker = new Worker(HOST_WORKER, { workerData: options });
  // One call at a time per host: answers come back in order.
  const waiting: Array<{ resolve(v: unknown): void; reject(e: unknown): void }> = [];
  let failure: Error | undefined;
  worker.on('message', (reply: { ok: boolean; value?: unknown; code?: string; message?: string }) => {
    const next = waiting.shift();
    if (next === undefined) return;
    if (reply.ok) next.resolve(reply.value);
    else next.reject(new HostedBridgeError(reply.code ?? 'NONE', reply.message ?? ''));
  });
  const fail = (err: Error): void => {
    failure = err;
    for (const w of waiting.splice(0)) w.reject(err);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`bridge host thread exited (${code})`)));
  return {
    call: (op, ...args) =>
      new Promise((res, rej) => {
        if (failure !== undefined) return rej(failure);
        waiting.push({ resolve: res, reject: rej });
        worker.postMessage({ op, args });
      }),
    close: async () => {
      if (failure === undefined) {
        await new Promise<void>((res) => {
          waiting.push({ resolve: () => res(), reject: () => res() });
          worker.postMessage({ op: 'close', args: [] });
        });
      }
      await worker.terminate();
    },
  };
}
