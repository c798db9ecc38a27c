/**
 * The end of a `backup upload` (domain/backup/backup-upload.ts) against
 * something else writing in backup_dir: the file hashed and verified is the
 * one the upload wrote, read through its own descriptor, and the name linked
 * into place must still be that file. Another file swapped in under the
 * dot-name at either step (through the injected step hook) is refused with
 * INTEGRITY_FAILURE and never placed.
 *
 * And an upload counts against the limit of uploads at once until it is
 * placed or refused, its verification included (held by an injected gate).
 *
 * Real files in a temp folder; the backup is a real one (a SoftHSM2
 * keychain's snapshot) signed by a key the test names as `signerKey`, and
 * verified by the appliance's own verification.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../common/clock';
import { BackupUploads, BackupUploadsOptions, UploadProgress } from '../../../domain/backup/backup-upload';
import { verifyOpenBackup } from '../../../domain/backup/backup-verify';
import { freshSignedBackup } from '../../support/crafted-backup';

const CHUNK = 64 * 1024;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('backup upload: the file verified is the file placed', () => {
  let dir: string;
  let backup: Buffer;
  let signerKey: string;
  let n = 0;

  beforeAll(async () => {
    ({ dir, backup, signerKey } = await freshSignedBackup('upload-domain'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A fresh backup_dir and uploads over it, verified as the server verifies them (workDir: backup_dir);
   * `beforeVerify` runs first in each verification (a test holds it there).
   */
  function uploadsIn(options: Partial<BackupUploadsOptions> = {}, beforeVerify: () => Promise<void> = async () => undefined): { uploads: BackupUploads; backupDir: string } {
    const backupDir = join(dir, `backups-${++n}`);
    const uploads = new BackupUploads({
      backupDir,
      clock: new ManualClock(0),
      verify: async (fd, key) => {
        await beforeVerify();
        return verifyOpenBackup(fd, { trustedSigner: key ?? '', signerSource: 'request', workDir: backupDir });
      },
      ...options,
    });
    return { uploads, backupDir };
  }

  /** Sends `bytes` as `name` in CHUNK pieces; the last answer. */
  async function send(uploads: BackupUploads, name: string, bytes: Buffer, owner = 'officer-a'): Promise<UploadProgress> {
    let progress: UploadProgress | undefined;
    for (let offset = 0; offset < bytes.length; offset += CHUNK) {
      const data = bytes.subarray(offset, offset + CHUNK);
      const last = offset + data.length === bytes.length;
      progress = await uploads.chunk(owner, { name, offset, totalBytes: bytes.length, data, ...(last ? { sha256: sha256(bytes), signerKey } : {}) });
    }
    return progress as UploadProgress;
  }

  /** A file that would not verify: the backup with a byte of its snapshot changed. */
  function unverifiable(): Buffer {
    const altered = Buffer.from(backup);
    altered[altered.length - 100] ^= 0x01;
    return altered;
  }

  it('places a backup that verifies (the control)', async () => {
    const { uploads, backupDir } = uploadsIn();
    await expect(send(uploads, 'plain.srbk', backup)).resolves.toMatchObject({ done: true, sha256: sha256(backup) });
    expect(readFileSync(join(backupDir, 'plain.srbk')).equals(backup)).toBe(true);
    expect(readdirSync(backupDir)).toEqual(['plain.srbk']);
  });

  it.each(['hashed', 'verified'] as const)('refuses (INTEGRITY_FAILURE) a file swapped in under the dot-name once %s, and places nothing', async (when) => {
    const planted = join(dir, `planted-${++n}`);
    writeFileSync(planted, unverifiable());
    const { uploads, backupDir } = uploadsIn({
      onFinishStep: (step, path) => {
        if (step === when) renameSync(planted, path);
      },
    });
    await expect(send(uploads, 'swapped.srbk', backup)).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE', details: { name: 'swapped.srbk' } });
    expect(existsSync(join(backupDir, 'swapped.srbk'))).toBe(false);
    expect(existsSync(planted)).toBe(false);
    expect(readdirSync(backupDir)).toEqual([]);
  });

  it('counts an upload being verified against the limit: with a limit of 1, a second upload is refused until the first is placed', async () => {
    let verifying!: () => void;
    const entered = new Promise<void>((resolve) => (verifying = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { uploads, backupDir } = uploadsIn({ maxUploads: 1 }, async () => {
      verifying();
      await gate;
    });
    const second = { name: 'second.srbk', offset: 0, totalBytes: 6, data: Buffer.from([0, 1, 2]) };

    const first = send(uploads, 'first.srbk', backup);
    await entered;
    await expect(uploads.chunk('officer-b', second)).rejects.toMatchObject({ code: 'WRONG_STATE', details: { maxUploads: 1 } });
    expect(readdirSync(backupDir).filter((f) => f.includes('second'))).toEqual([]);

    release();
    await expect(first).resolves.toMatchObject({ name: 'first.srbk', done: true });
    await expect(uploads.chunk('officer-b', second)).resolves.toMatchObject({ received: 3, done: false });
    uploads.close();
  });
});
