/**
 * A child process for the crash-during-sweep test: opens the keychain named
 * by its environment, runs one rollover sweep at SR_AT_MS in batches of
 * SR_BATCH, and prints `rolled <name>` after each rollover has returned
 * (i.e. committed), then `done <rolled>` when the sweep ends. The parent
 * kills it with SIGKILL mid-sweep and checks that no key got two new
 * instances and that a new sweep finishes the job.
 */
import { writeSync } from 'node:fs';
import { systemClock } from '../../common/clock';
import { Keychain } from '../../domain/keychain';
import { sweepDueRollovers } from '../../domain/rollover-scheduler';
import { openPkcs11Hsm } from '../../hsm/pkcs11-hsm';
import { openSqliteStore } from '../../storage/sqlite-store';

/** Keys per batch when SR_BATCH is not given: small, so a kill lands between batches and inside them. */
const DEFAULT_CHILD_BATCH = 20;

async function main(): Promise<void> {
  const env = process.env;
  const atMs = Number(env.SR_AT_MS);
  const batchSize = Number(env.SR_BATCH ?? DEFAULT_CHILD_BATCH);
  if (!Number.isSafeInteger(atMs) || !Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('SR_AT_MS and SR_BATCH must be integers');
  const pin = Buffer.from(env.SR_PIN as string);
  const hsm = await openPkcs11Hsm({ modulePath: env.SR_MODULE as string, tokenLabel: env.SR_LABEL as string, pin });
  pin.fill(0);
  const store = openSqliteStore(env.SR_DB as string);
  // The sweep dates rollovers at atMs; the clock and zone only matter for the next due date (UTC, as in the parent).
  const keychain = new Keychain({ store, clock: systemClock, timeZone: 'UTC' });
  await keychain.unseal(hsm);
  await hsm.close();
  writeSync(1, 'ready\n');
  const result = await sweepDueRollovers(keychain, atMs, {
    batchSize,
    // Synchronous write: the ack must not sit in a buffer when the kill lands.
    onRolled: (name) => writeSync(1, `rolled ${name}\n`),
    onFailed: (keyId, error) => writeSync(2, `failed ${keyId} ${error.code}\n`),
  });
  writeSync(1, `done ${result.rolled} ${result.failed}\n`);
  keychain.seal();
  store.close();
}

main().catch((err) => {
  process.stderr.write(`child failed: ${String(err)}\n`);
  process.exit(1);
});
