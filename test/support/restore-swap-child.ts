/**
 * A child process for the crash-during-restore test: finishes the restore
 * intent left beside SR_KEYCHAIN (domain/backup/restore-swap.ts), as the
 * appliance does when it opens its keychain, and kills itself with SIGKILL
 * when it reaches the step SR_KILL_AT (the fault is injected here, in the
 * test's child, never in the appliance's code). Without reaching it, it
 * prints the outcome and exits 0.
 */
import { writeSync } from 'node:fs';
import { finishPendingRestore, RestoreStep } from '../../domain/backup/restore-swap';

const keychainPath = process.env.SR_KEYCHAIN as string;
const killAt = process.env.SR_KILL_AT as RestoreStep | undefined;
const outcome = finishPendingRestore(keychainPath, (step) => {
  if (step !== killAt) return;
  writeSync(1, `killed at ${step}\n`);
  process.kill(process.pid, 'SIGKILL');
});
writeSync(1, `${JSON.stringify(outcome)}\n`);
