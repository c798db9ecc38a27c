/**
 * A child process for the crash-during-restore test: opens the staged file
 * SR_STAGED as the restorer does while it checks and re-seals it
 * (domain/backup/restore-staging.ts: openSqliteStore, WAL mode, so its
 * `-wal` and `-shm` files exist beside it), reads its trail's head, and
 * kills itself with SIGKILL there: a restore killed in the middle of its
 * staging, before its intent (the fault is injected here, in the test's
 * child, never in the appliance's code).
 */
import { writeSync } from 'node:fs';
import { openSqliteStore } from '../../storage/sqlite-store';

const store = openSqliteStore(process.env.SR_STAGED as string);
writeSync(1, `opened at head ${store.audit.auditHead()?.seq ?? 0}\n`);
process.kill(process.pid, 'SIGKILL');
