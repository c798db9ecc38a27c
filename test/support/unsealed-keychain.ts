/**
 * A keychain on a real SoftHSM2 token and a real SQLite file in a temp
 * folder, initialised and unsealed, for the integration tests that drive
 * the Keychain directly (Fresh flag, material origin): one set-up and one
 * tear-down instead of a copy in each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain, KeychainContext } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { makeSoftHsmFixture } from './softhsm-fixture';

export interface UnsealedKeychain {
  readonly token: Awaited<ReturnType<typeof makeSoftHsmFixture>>;
  readonly dir: string;
  readonly dbPath: string;
  readonly hsm: HsmPort;
  readonly store: KeychainStore;
  readonly keychain: Keychain;
  /** Seals, closes the file and the HSM session, removes the token and the folder. */
  close(): Promise<void>;
}

/** `context` is passed to the Keychain beside its store and the system clock (e.g. a held Fresh-flag turn). */
export async function openUnsealedKeychain(tokenLabel: string, context: Partial<KeychainContext> = {}): Promise<UnsealedKeychain> {
  const token = await makeSoftHsmFixture(tokenLabel);
  const dir = mkdtempSync(join(tmpdir(), `strongroom-${tokenLabel}-`));
  const dbPath = join(dir, 'keychain.db');
  const hsm = await token.open();
  const store = openSqliteStore(dbPath);
  await initializeKeychain(store, hsm, systemClock, randomIds);
  const keychain = new Keychain({ store, clock: systemClock, ...context });
  await keychain.unseal(hsm);
  return {
    token,
    dir,
    dbPath,
    hsm,
    store,
    keychain,
    async close() {
      keychain.seal();
      store.close();
      await hsm.close();
      await token.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
