/**
 * A child process for test/storage/sqlite-scrub-after-crash.test.ts: in the
 * SQLite keychain file SR_DB it stores twenty keys (their sealed material
 * sits in the WAL), opens a second connection that holds a read transaction
 * (as the server's audit worker, a backup snapshot or `strongroom status`
 * may at any moment), drops the material of instance k1-i1 (a Destroy), and
 * prints `dropped`. The reader keeps the TRUNCATE checkpoint that scrubs the
 * WAL from running, so the WAL still holds the dropped bytes when the parent
 * SIGKILLs this process: the state a crash right after a Destroy leaves.
 */
import { writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../storage/sqlite-store';
import { instance, key, rowMac, T2 } from '../storage/store-fixtures';

/** Bound on how long the child waits for its kill. */
const WAIT_FOR_KILL_MS = 60_000;

const store = openSqliteStore(process.env.SR_DB as string);
store.createKey(key('k1', 'hr', 'payroll'), instance('k1', 1));
for (let i = 2; i <= 20; i++) store.createKey(key(`k${i}`, 'hr', `other-${i}`), instance(`k${i}`, 1));
const reader = new Database(process.env.SR_DB as string, { readonly: true });
reader.exec('BEGIN');
reader.prepare('SELECT COUNT(*) FROM key_instances').get();
store.updateInstanceState({ instanceId: 'k1-i1', state: 'Destroyed', rowMac: rowMac('change'), destroyedAt: T2, dropMaterial: true });
writeSync(1, 'dropped\n');
setTimeout(() => process.exit(2), WAIT_FOR_KILL_MS);
