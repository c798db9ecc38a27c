/**
 * A child process for the crash test: opens the keychain named by its
 * environment, then creates keys `<SR_NAMESPACE>/k-<n>` as fast as it can and prints
 * `ack <n>` after each create has returned (i.e. committed). The parent kills
 * it with SIGKILL mid-stream and checks that every acknowledged key survived.
 */
import { systemClock } from '../../common/clock';
import { Keychain } from '../../domain/keychain';
import { openPkcs11Hsm } from '../../hsm/pkcs11-hsm';
import { openSqliteStore } from '../../storage/sqlite-store';

/** Upper bound so the child stops by itself if nobody kills it. */
const MAX_CREATES = 100_000;

async function main(): Promise<void> {
  const env = process.env;
  const hsm = await openPkcs11Hsm({
    modulePath: env.SR_MODULE as string,
    tokenLabel: env.SR_LABEL as string,
    pin: Buffer.from(env.SR_PIN as string),
  });
  const store = openSqliteStore(env.SR_DB as string);
  const keychain = new Keychain({ store, clock: systemClock });
  await keychain.unseal(hsm);
  await hsm.close();
  const namespace = env.SR_NAMESPACE ?? 'bulk';
  process.stdout.write('ready\n');
  for (let n = 0; n < MAX_CREATES; n++) {
    keychain.createKey({ fullName: `${namespace}/k-${n}`, algorithm: 'AES-256' });
    if (n % 3 === 0) keychain.rollover(`${namespace}/k-${n}`);
    // Synchronous write: the ack must not sit in a buffer when the kill lands.
    require('node:fs').writeSync(1, `ack ${n}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`child failed: ${String(err)}\n`);
  process.exit(1);
});
