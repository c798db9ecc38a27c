/**
 * A backup's snapshot, a staged copy and the keychain file are untrusted
 * input, schema included (storage/sqlite-untrusted-file.ts): SQL planted in
 * the file (a view standing in for one of the keychain's tables, a trigger
 * on one the appliance writes) may not reach a function or virtual table
 * that SQLite does not mark innocuous. Each of the three ways a backup's
 * file is opened is tried with a file crafted so: verification (a backup
 * signed by a key the officer names, as an upload or `backup verify
 * --public-key` accepts), the snapshot worker, and the restore's staging.
 *
 * The planted SQL reads pragma_table_info, a virtual table SQLite does not
 * mark innocuous: the one such thing this build offers a planted view.
 * The appliance's own function (strongroom_touched, storage/own-changes.ts)
 * is directOnly, so a planted call of it is refused by that flag already;
 * it is tried too, so that neither guard can go unnoticed.
 *
 * Real SQLite files, a real SoftHSM2 token for the keychain.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../common/clock';
import { verifyBackup } from '../../../domain/backup/backup-verify';
import { sealStaged } from '../../../domain/backup/restore-staging';
import { unsealAuditEvent } from '../../../domain/unseal/unseal-audit';
import { snapshotOnWorker } from '../../../storage/backup/worker-snapshot';
import { signedBackup, snapshotCopy, testSigner } from '../../support/crafted-backup';
import { openUnsealedKeychain, UnsealedKeychain } from '../../support/unsealed-keychain';

/** unseal_policy (empty in an HSM-only keychain) as a view that reads a virtual table; writes to it go nowhere. */
const PLANTED_VIEW = `
DROP TABLE unseal_policy;
CREATE VIEW unseal_policy (id, binding, shares, threshold, created_at) AS SELECT 1, 'hsm+shares', 1, 1, '' FROM pragma_table_info('keys') WHERE 0;
CREATE TRIGGER unseal_policy_insert INSTEAD OF INSERT ON unseal_policy BEGIN SELECT 1; END;`;

/** Fired by the staging's own append (the backup-restored event). */
const PLANTED_TRIGGERS: ReadonlyArray<readonly [string, string]> = [
  ['a virtual table SQLite does not mark innocuous', `CREATE TRIGGER planted AFTER INSERT ON audit_events BEGIN SELECT count(*) FROM pragma_table_info('keys'); END;`],
  ["the appliance's own function (directOnly)", `CREATE TRIGGER planted AFTER INSERT ON audit_events BEGIN SELECT strongroom_touched('everything', ''); END;`],
];

describe('SQL planted in a backup, a snapshot or a staged copy', () => {
  let k: UnsealedKeychain;
  let dir: string;
  let n = 0;
  const fresh = (what: string): string => join(dir, `${++n}-${what}`);

  beforeAll(async () => {
    k = await openUnsealedKeychain('untrusted-schema');
    dir = mkdtempSync(join(tmpdir(), 'strongroom-untrusted-schema-'));
  });

  afterAll(async () => {
    await k?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function backupFile(plant: string): { path: string; signer: string } {
    const snapshot = fresh('snapshot.db');
    snapshotCopy(k.dbPath, snapshot, plant);
    const signer = testSigner();
    const path = fresh('crafted.srbk');
    writeFileSync(path, signedBackup(snapshot, signer));
    return { path, signer: signer.publicPem };
  }

  it('verification refuses a backup whose snapshot holds a planted view (BACKUP_MALFORMED); the same backup without it verifies', async () => {
    const verify = ({ path, signer }: { path: string; signer: string }) => verifyBackup(path, { trustedSigner: signer, signerSource: 'request', workDir: fresh('work') });
    await expect(verify(backupFile(''))).resolves.toMatchObject({ ok: true });
    await expect(verify(backupFile(PLANTED_VIEW))).rejects.toMatchObject({ code: 'BACKUP_MALFORMED' });
  });

  it('the snapshot worker refuses a keychain file that holds a planted view (STORAGE_ERROR), and leaves no snapshot', async () => {
    const keychain = fresh('keychain.db');
    snapshotCopy(k.dbPath, keychain, PLANTED_VIEW);
    const outPath = fresh('out.snapshot');
    await expect(snapshotOnWorker({ keychainPath: keychain, outPath })).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    expect(existsSync(outPath)).toBe(false);
  });

  it.each(PLANTED_TRIGGERS)('the staging refuses a staged copy whose trigger calls %s', async (_what, plant) => {
    const staged = fresh('staged.db');
    snapshotCopy(k.dbPath, staged, plant);
    const event = () => unsealAuditEvent({ clock: systemClock, newId: () => 'planted-test' }, 'backup-restored', null, 'ok', {});
    await expect(sealStaged(staged, k.hsm, 1_000_000, event)).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
  });
});
