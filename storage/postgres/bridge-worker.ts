/**
 * The synchronous bridge's worker thread (started by sync-bridge.ts): owns
 * the node-postgres connection through a BridgeCore and answers the main
 * thread's requests one at a time, in order. After posting each reply it
 * bumps the shared counter and wakes the main thread, which is blocked in
 * Atomics.wait; the reply is posted first, so it is always there to take
 * with receiveMessageOnPort when the main thread wakes.
 */
import { workerData } from 'node:worker_threads';
import { BridgeRequest, BridgeWorkerData, REPLY_COUNTER } from './bridge-protocol';
import { BridgeCore } from './bridge-core';

const data = workerData as BridgeWorkerData;
const core = new BridgeCore(data.settings);
const counter = new Int32Array(data.signal);
let queue: Promise<void> = Promise.resolve();

data.port.on('message', (req: BridgeRequest) => {
  queue = queue.then(async () => {
    const reply = await core.handle(req);
    data.port.postMessage(reply);
    Atomics.add(counter, REPLY_COUNTER, 1);
    Atomics.notify(counter, REPLY_COUNTER);
    // The port keeps this thread alive; closing it after `close` lets the thread end.
    if (req.kind === 'close') data.port.close();
  });
});
