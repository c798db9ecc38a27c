/**
 * The master key check value (domain/unseal/master-key-check.ts) on a real
 * SoftHSM2 token and a real SQLite file: it follows a master-key rotation
 * (the rewrap of its label is the new version's value), and whatever is
 * written into it from outside only lets a node refuse: a token with the
 * right key refused, or a wrong token let on to the unwrap, which refuses it
 * as before. Two appliances on PostgreSQL and a third with another key:
 * test/integration/two-appliances-on-postgres.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../common/clock';
import { StrongroomError } from '../../common/errors';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { rotateMasterKey } from '../../domain/master-key-rotation';
import { MASTER_KEY_CHECK_NAME, masterKeyCheckRecord } from '../../domain/unseal/master-key-check';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { makeSoftHsmFixture, SoftHsmFixture } from '../support/softhsm-fixture';

let tokens: SoftHsmFixture;
let own: HsmPort;
let stranger: HsmPort;
let dir: string;
let store: KeychainStore;

beforeAll(async () => {
  tokens = await makeSoftHsmFixture('sr-kcv-own', { extraLabels: ['sr-kcv-stranger'] });
  own = await tokens.open();
  stranger = await tokens.open('sr-kcv-stranger');
  await stranger.generateMasterKey(1);
  dir = mkdtempSync(join(tmpdir(), 'strongroom-kcv-'));
  store = openSqliteStore(join(dir, 'keychain.db'));
  await initializeKeychain(store, own, systemClock, randomIds, undefined, { masterKeyCheck: true });
}, 60_000);

afterAll(async () => {
  store?.close();
  await tokens?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function unsealWith(hsm: HsmPort): Promise<StrongroomError | null> {
  const keychain = new Keychain({ store, clock: systemClock });
  try {
    await keychain.unseal(hsm);
    return null;
  } catch (err) {
    return err as StrongroomError;
  } finally {
    keychain.seal();
  }
}

describe('the master key check value', () => {
  it('follows a master-key rotation: it names the new version and the right token still unseals', async () => {
    expect(store.getHsmSealedSecret(MASTER_KEY_CHECK_NAME)?.masterKeyVersion).toBe(1);
    await rotateMasterKey(store, own);
    const rotated = store.getHsmSealedSecret(MASTER_KEY_CHECK_NAME);
    expect(rotated?.masterKeyVersion).toBe(2);
    expect(rotated?.wrappedKey.equals((await masterKeyCheckRecord(own, 2, systemClock)).wrappedKey)).toBe(true);
    expect(await unsealWith(own)).toBeNull();
  });

  it('altered, it makes the right token refuse (MASTER_KEY_MISMATCH): a refusal, nothing more', async () => {
    const stored = store.getHsmSealedSecret(MASTER_KEY_CHECK_NAME);
    if (stored === null) throw new Error('no check value');
    const altered = Buffer.from(stored.wrappedKey);
    altered[3] ^= 0x01;
    store.putHsmSealedSecret({ ...stored, wrappedKey: altered });
    try {
      expect(await unsealWith(own)).toMatchObject({ code: 'MASTER_KEY_MISMATCH', details: { reason: 'masterKeyCheck' } });
    } finally {
      store.putHsmSealedSecret(stored);
    }
    expect(await unsealWith(own)).toBeNull();
  });

  it("replaced by another token's value, it lets that token on to the unwrap, which refuses it as before", async () => {
    const stored = store.getHsmSealedSecret(MASTER_KEY_CHECK_NAME);
    if (stored === null) throw new Error('no check value');
    await stranger.generateMasterKey(2);
    // The stranger's token without the check: refused by the check value.
    expect(await unsealWith(stranger)).toMatchObject({ code: 'MASTER_KEY_MISMATCH', details: { reason: 'masterKeyCheck' } });
    store.putHsmSealedSecret(await masterKeyCheckRecord(stranger, 2, systemClock));
    try {
      const refused = await unsealWith(stranger);
      expect(refused?.code).toBe('MASTER_KEY_MISMATCH');
      // Past the check (its value is the stranger's now), refused by the keychain key's wrap itself.
      expect(refused?.details).not.toMatchObject({ reason: 'masterKeyCheck' });
    } finally {
      store.putHsmSealedSecret(stored);
    }
  });
});
