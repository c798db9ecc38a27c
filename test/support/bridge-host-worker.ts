/**
 * A worker thread that hosts one SyncBridge (storage/postgres/sync-bridge.ts)
 * for tests that need two bridges blocking at once: a bridge blocks the
 * thread that calls it, so two contending bridges need two threads. The
 * test thread sends { op, args } and gets { ok, value } or { ok: false,
 * code, message } back (bridge-host.ts wraps this). Runs from dist/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SyncBridge, SyncBridgeOptions } from '../../storage/postgres/sync-bridge';

export type HostOp = 'query' | 'begin' | 'commit' | 'rollback' | 'increment' | 'close';

const bridge = SyncBridge.open(workerData as SyncBridgeOptions);
const port = parentPort;
if (port === null) throw new Error('bridge-host-worker runs as a worker thread');

port.on('message', ({ op, args }: { op: HostOp; args: unknown[] }) => {
  try {
    port.postMessage({ ok: true, value: perform(op, args) });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    port.postMessage({ ok: false, code: e.code ?? 'NONE', message: e.message ?? String(err) });
  }
  if (op === 'close') port.close();
});

function perform(op: HostOp, args: unknown[]): unknown {
  switch (op) {
    case 'query':
      return bridge.query(args[0] as string, (args[1] as unknown[] | undefined) ?? []).rows;
    case 'begin':
      return bridge.begin(args[0] as boolean);
    case 'commit':
      return bridge.commit();
    case 'rollback':
      return bridge.rollback();
    case 'increment': {
      // A read-modify-write in its own transaction, `times` times: loses updates unless writers are serialised.
      const times = args[0] as number;
      for (let i = 0; i < times; i++) {
        bridge.begin(true);
        const n = bridge.query('SELECT n FROM counter WHERE id = 1').rows[0].n as number;
        bridge.query('UPDATE counter SET n = $1 WHERE id = 1', [n + 1]);
        bridge.commit();
      }
      return times;
    }
    case 'close':
      return bridge.close();
  }
}
