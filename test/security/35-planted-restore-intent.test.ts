/**
 * Attack 35: a restore intent planted in the data folder.
 *
 * `restore-in-progress.json` is not authenticated: it names a staged file
 * and its hash, and the next open swaps that file in as keychain.db
 * (domain/backup/restore-swap.ts). Someone who can write the data folder
 * keeps a copy of the keychain from before a revocation, plants it as a
 * staged file with an intent naming its hash, and waits for the next start:
 * the swap happens. What must hold: the swap gives them nothing that
 * replacing keychain.db by hand would not, i.e. the planted keychain is
 * opened by the same unseal, with its full trust check against the HSM
 * token's freshness anchor, and an older copy is refused (the appliance
 * stays sealed, the replaced keychain is kept under the intent's name).
 * Found to hold; this test keeps it so.
 */
import { copyFileSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fileSha256, RESTORE_INTENT_FILE } from '../../domain/backup/restore-swap';
import { openAppliance } from '../../server/compose/open-appliance';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

describe('attack 35: a restore intent planted in the data folder', () => {
  let t: TestAppliance;

  beforeAll(async () => {
    t = await startTestAppliance({ audit_checkpoint_interval_ms: '3600000' });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('swaps the planted file in, and the unseal refuses it as older than the token has seen', async () => {
    const victim = t.issue('plant-victim', 'app');
    const keychainPath = join(t.dataDir, 'keychain.db');
    // The attacker's copy, while plant-victim is still a valid client.
    const older = join(t.dataDir, 'attacker-copy.db');
    const live = new Database(keychainPath, { readonly: true });
    try {
      live.exec(`VACUUM INTO '${older}'`);
    } finally {
      live.close();
    }
    const officer = await t.connect(t.officer);
    const revoked = await officer.request('ClientRevoke', { name: 'plant-victim' });
    if (revoked.error?.code === 'APPROVAL_REQUIRED') await t.approve(revoked);
    else expect(revoked.error).toBeUndefined();
    // A restart signs a checkpoint and anchors the revocation's counter in the token.
    await t.restart();
    const config = t.appliance.config;
    await t.server.close();
    await t.appliance.close();

    const staged = `${keychainPath}.restore-00000000000000aa`;
    copyFileSync(older, staged);
    const keptAs = `${keychainPath}.pre-restore-planted`;
    writeFileSync(join(t.dataDir, RESTORE_INTENT_FILE), JSON.stringify({ version: 1, staged, stagedSha256: fileSha256(staged), keptAs, backup: 'planted', at: new Date().toISOString() }));

    const opened = openAppliance(config);
    try {
      expect(opened.restore).toMatchObject({ outcome: 'restored', keptAs });
      await expect(opened.unseal()).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE', message: expect.stringContaining('older copy') });
      expect(opened.keychain.isSealed).toBe(true);
    } finally {
      await opened.close();
    }
    expect(existsSync(keptAs)).toBe(true);
    // The genuine keychain back under its name; the fixture serves it again.
    renameSync(keptAs, keychainPath);
    rmSync(older);
    await t.restart();
    expect((await (await t.connect(victim)).request('Query', {})).error).toBeDefined();
  });
});
