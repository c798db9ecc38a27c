/**
 * A child process for the no-temp-copies test
 * (test/integration/crash-during-verify.test.ts), run with its own TMPDIR:
 *
 * - SR_MODE=verify: verifies the backup SR_BACKUP as the appliance does
 *   (the snapshot extracted into SR_WORK, the backup folder) against the
 *   signing key in SR_SIGNER, and kills itself with SIGKILL once the
 *   snapshot is extracted: a verification killed mid-way (the fault is
 *   injected here, in the test's child, never in the appliance's code);
 * - SR_MODE=cli: holds a private work folder as `strongroom backup verify
 *   FILE` does (cli/offline/private-work-dir.ts), with a file in it, and
 *   says so; the test then stops it with a signal.
 */
import { readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { verifyBackup } from '../../domain/backup/backup-verify';
import { withPrivateWorkDir } from '../../cli/offline/private-work-dir';

/** Bounds the child's life should the test never signal it. */
const HOLD_MS = 20_000;

async function main(): Promise<void> {
  if (process.env.SR_MODE === 'cli') {
    await withPrivateWorkDir('strongroom-backup-verify-', async (dir) => {
      writeFileSync(join(dir, 'snapshot'), 'a whole keychain');
      writeSync(1, `holding ${dir}\n`);
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    });
    return;
  }
  await verifyBackup(process.env.SR_BACKUP as string, {
    trustedSigner: readFileSync(process.env.SR_SIGNER as string, 'utf8'),
    signerSource: 'file',
    workDir: process.env.SR_WORK as string,
    onProgress: (step) => {
      if (step !== 'snapshot') return;
      writeSync(1, 'killed with the snapshot extracted\n');
      process.kill(process.pid, 'SIGKILL');
    },
  });
  writeSync(1, 'verified: the kill never came\n');
}

void main();
