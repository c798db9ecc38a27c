/**
 * A child process for the crash-during-master-key-rotation test: opens the
 * SoftHSM2 token and the SQLite keychain named by its environment and runs
 * one master-key rotation; when SR_KILL_AT names a rotation step it SIGKILLs
 * itself right there (inside the store transaction for mid-transaction), so
 * nothing after that point runs, not even a finally. Prints `done <json>`
 * when the rotation completes.
 */
import { writeSync } from 'node:fs';
import { rotateMasterKey, RotationStep } from '../../domain/master-key-rotation';
import { openPkcs11Hsm } from '../../hsm/pkcs11-hsm';
import { openSqliteStore } from '../../storage/sqlite-store';

async function main(): Promise<void> {
  const env = process.env;
  const killAt = env.SR_KILL_AT as RotationStep | undefined;
  const pin = Buffer.from(env.SR_PIN as string);
  const hsm = await openPkcs11Hsm({ modulePath: env.SR_MODULE as string, tokenLabel: env.SR_LABEL as string, pin });
  pin.fill(0);
  const store = openSqliteStore(env.SR_DB as string);
  writeSync(1, 'ready\n');
  // destroyOld: the crash points among the destructions are what this test kills at.
  const result = await rotateMasterKey(store, hsm, {
    destroyOld: true,
    at: (step) => {
      writeSync(1, `step ${step}\n`);
      if (step === killAt) process.kill(process.pid, 'SIGKILL');
    },
  });
  writeSync(1, `done ${JSON.stringify(result)}\n`);
  store.close();
  await hsm.close();
}

main().catch((err) => {
  process.stderr.write(`child failed: ${String(err)}\n`);
  process.exit(1);
});
