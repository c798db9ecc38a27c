/**
 * A worker thread that opens its own synchronous bridge and migrates the
 * PostgreSQL keychain schema (storage/postgres/pg-migrate.ts) once, as one
 * appliance starting would: a test runs two at once to see the writer lock
 * let only one of them create the schema. Posts { ok, result } or
 * { ok: false, code, message }. Runs from dist/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { migratePostgres } from '../../storage/postgres/pg-migrate';
import { SyncBridge, SyncBridgeOptions } from '../../storage/postgres/sync-bridge';

const port = parentPort;
if (port === null) throw new Error('pg-migrate-worker runs as a worker thread');
let bridge: SyncBridge | null = null;
try {
  bridge = SyncBridge.open(workerData as SyncBridgeOptions);
  port.postMessage({ ok: true, result: migratePostgres(bridge) });
} catch (err) {
  const e = err as { code?: string; message?: string };
  port.postMessage({ ok: false, code: e.code ?? 'NONE', message: e.message ?? String(err) });
} finally {
  bridge?.close();
}
