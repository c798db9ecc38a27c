/**
 * A backup's keychain keys are zeroed however their use ends
 * (domain/backup/with-keychain-keys.ts): the failure injected here is a key
 * source (the seam verify and the restore take: share-bound-keys.ts) that
 * hands out keys without the current version, so deriving the trust keys
 * fails right after the keys were handed out. Each of the three users of
 * the keys (verify, the restore's row check, its re-seal) must refuse with
 * a precise code and leave every key it was handed zeroed. A review found
 * the derivation called before the `try` that wipes, in all three.
 *
 * Real SQLite files and a real SoftHSM2 keychain; the key source is the
 * only fake.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../common/clock';
import { verifyBackup } from '../../../domain/backup/backup-verify';
import { checkStagedRows, sealStaged } from '../../../domain/backup/restore-staging';
import { KeychainKeySource } from '../../../domain/backup/share-bound-keys';
import { unsealAuditEvent } from '../../../domain/unseal/unseal-audit';
import { signedBackup, snapshotCopy, testSigner } from '../../support/crafted-backup';
import { openUnsealedKeychain, UnsealedKeychain } from '../../support/unsealed-keychain';

/** A source whose keys lack their current version; what it handed out stays visible to the test. */
function keysWithoutCurrent(): { source: KeychainKeySource; handed: Buffer[] } {
  const handed: Buffer[] = [];
  const source: KeychainKeySource = async (store) => {
    const key = randomBytes(32);
    handed.push(key);
    return { keychainId: store.getMeta()?.keychainId ?? '', keys: new Map([[1, key]]), currentVersion: 2 };
  };
  return { source, handed };
}

const zeroed = (keys: Buffer[]): boolean => keys.length > 0 && keys.every((key) => key.equals(Buffer.alloc(key.length)));

describe("a backup's keychain keys when deriving its trust keys fails", () => {
  let k: UnsealedKeychain;
  let dir: string;
  let n = 0;
  const fresh = (what: string): string => join(dir, `${++n}-${what}`);

  beforeAll(async () => {
    k = await openUnsealedKeychain('keys-wiped');
    dir = mkdtempSync(join(tmpdir(), 'strongroom-keys-wiped-'));
  });

  afterAll(async () => {
    await k?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function stagedCopy(): string {
    const staged = fresh('staged.db');
    snapshotCopy(k.dbPath, staged);
    return staged;
  }

  it('verify refuses (INTEGRITY_FAILURE) and zeroes the keys', async () => {
    const snapshot = fresh('snapshot.db');
    snapshotCopy(k.dbPath, snapshot);
    const signer = testSigner();
    const path = fresh('backup.srbk');
    writeFileSync(path, signedBackup(snapshot, signer));
    const { source, handed } = keysWithoutCurrent();
    await expect(verifyBackup(path, { trustedSigner: signer.publicPem, signerSource: 'request', workDir: fresh('work'), hsm: k.hsm, keychainKeys: source })).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
    expect(zeroed(handed)).toBe(true);
  });

  it("the restore's row check refuses (INTEGRITY_FAILURE) and zeroes the keys", async () => {
    const { source, handed } = keysWithoutCurrent();
    await expect(checkStagedRows(stagedCopy(), k.hsm, source)).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
    expect(zeroed(handed)).toBe(true);
  });

  it("the restore's re-seal refuses (INTEGRITY_FAILURE) and zeroes the keys", async () => {
    const { source, handed } = keysWithoutCurrent();
    const event = () => unsealAuditEvent({ clock: systemClock, newId: () => 'wiped-test' }, 'backup-restored', null, 'ok', {});
    await expect(sealStaged(stagedCopy(), k.hsm, 1_000_000, event, source)).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
    expect(zeroed(handed)).toBe(true);
  });
});
