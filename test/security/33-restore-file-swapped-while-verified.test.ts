/**
 * Attack 33: a backup swapped in backup_dir while its restore request is
 * being verified (docs/backup.md §5).
 *
 * backup_dir is as untrusted as the database file. BackupRestore pins the
 * file by its SHA-256 and shows approvers `target` (keychain, audit head,
 * trust counter, creation time, older) read from the verified file. Before
 * the fix the request hashed the file by name, then opened it by name again
 * to verify it: whoever writes backup_dir (watching it with inotify) puts a
 * benign recent backup under the name after the hash was read, and the old
 * one back after the verification. Approvers are shown the recent backup;
 * the request pins the old one, which is what execution copies, verifies
 * (with `allowOlder`, which the approvers believed harmless because the
 * target said `older: false`) and restores.
 *
 * Here the swap is made at the first HSM call after the request arrives (the
 * verification's first step, after the hash): a deterministic stand-in for
 * the attacker's inotify watch. The rule: the request hashes and verifies
 * one private copy of the file, so `target` always describes the file whose
 * SHA-256 is pinned.
 */
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

interface Made {
  name: string;
  sha256: string;
  manifest: { auditHead: { seq: number } | null; createdAt: string };
}

describe('attack 33: a backup swapped while its restore request is verified', () => {
  let t: TestAppliance;

  beforeAll(async () => {
    t = await startTestAppliance({ audit_checkpoint_interval_ms: '3600000' });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('shows approvers the file whose hash the request pins', async () => {
    const officer = await t.connect(t.officer);
    const backup = async (): Promise<Made> => {
      const answer = await officer.request('BackupCreate', {});
      expect(answer.error).toBeUndefined();
      return answer.result as Made;
    };
    const old = await backup();
    expect((await officer.request('Create', { name: 'swap/later', algorithm: 'AES-256' })).error).toBeUndefined();
    const recent = await backup();
    expect(recent.manifest.auditHead!.seq).toBeGreaterThan(old.manifest.auditHead!.seq);

    const dir = join(t.dataDir, 'backups');
    const recentBytes = readFileSync(join(dir, recent.name));
    // The name holds the old backup when the request hashes it; the recent one is put under it at the verification's first HSM call.
    const name = 'backup-20261207T000000Z-0000000c.srbk';
    copyFileSync(join(dir, old.name), join(dir, name));
    const appliance = t.appliance as { hsm: () => Promise<unknown> };
    const hsm = appliance.hsm.bind(appliance);
    let armed = true;
    appliance.hsm = () => {
      if (armed) {
        armed = false;
        const swap = join(dir, '.swap');
        writeFileSync(swap, recentBytes);
        renameSync(swap, join(dir, name));
      }
      return hsm();
    };
    let answer;
    try {
      answer = await officer.request('BackupRestore', { name, allowOlder: true });
    } finally {
      appliance.hsm = hsm;
    }
    expect(armed).toBe(false);
    expect(answer.error?.code).toBe('APPROVAL_REQUIRED');
    const id = (answer.error!.details as { requestId: string }).requestId;
    const shown = ((await officer.request('ApprovalGet', { id })).result as { request: { args: { sha256: string; target: { sha256: string; auditHeadSeq: number; createdAt: string } } } }).request.args;
    // What is pinned and what is shown must be the same file.
    expect(shown.sha256).toBe(old.sha256);
    expect(shown.target).toMatchObject({ sha256: old.sha256, auditHeadSeq: old.manifest.auditHead!.seq, createdAt: old.manifest.createdAt });
    expect((await officer.request('ApprovalCancel', { id })).error).toBeUndefined();
  });
});
