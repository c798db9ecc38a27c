/**
 * The appliance's upload service (server/compose/backup-upload-wiring.ts)
 * when the `backup-uploaded` event of a placed file cannot be recorded (the
 * trail's disk full, injected in the service's `record`): no backup may sit
 * in backup_dir with no trail of it, so the placed file is taken back out,
 * and the officer gets the trail's own error; the refusal is then recorded
 * under that code.
 *
 * A unit test of the service: real files and a real backup (a SoftHSM2
 * keychain's snapshot, signed by a key the upload names), the appliance's
 * own verification; the audit trail and the timers are fakes.
 */
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../common/clock';
import { StorageError } from '../../../common/errors';
import { silentLogger } from '../../../common/logger';
import { AuditEvent } from '../../../domain/audit/audit-event';
import { ClientIdentity } from '../../../domain/policy/identity';
import { backupUploadService } from '../../../server/compose/backup-upload-wiring';
import { freshSignedBackup } from '../../support/crafted-backup';
import { ManualTimers } from '../../support/manual-timers';

const CHUNK = 64 * 1024;
const TRAIL_FULL = 'the audit trail could not be written: its file system is full';

describe('backup upload whose backup-uploaded event cannot be recorded', () => {
  let dir: string;
  let backup: Buffer;
  let signerKey: string;

  beforeAll(async () => {
    ({ dir, backup, signerKey } = await freshSignedBackup('upload-audit'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes the placed file back out and answers the trail\'s error (STORAGE_FULL), recorded as the refusal', async () => {
    const backupDir = join(dir, 'backups');
    const clock = new ManualClock(0);
    const recorded: AuditEvent[] = [];
    const service = backupUploadService(
      { hsm: () => Promise.reject(new Error('not asked: the upload names its signer')) },
      {
        backupDir,
        clock,
        timers: new ManualTimers(clock),
        log: silentLogger,
        stamper: { clock, newId: () => `event-${recorded.length}` },
        // The trail takes every event but the one that says the file is in place.
        record: async (event) => {
          if (event.type === 'backup-uploaded' && event.result === 'ok') throw new StorageError('STORAGE_FULL', TRAIL_FULL);
          recorded.push(event);
        },
        beforeUpload: () => undefined,
      },
    );
    const officer: ClientIdentity = { name: 'officer-a', role: 'officer', groups: [], fingerprint256: 'AA:BB', subject: 'CN=officer-a' };
    const sha256 = createHash('sha256').update(backup).digest('hex');

    let answer: Promise<unknown> = Promise.resolve();
    for (let offset = 0; offset < backup.length; offset += CHUNK) {
      const data = backup.subarray(offset, offset + CHUNK);
      const last = offset + data.length === backup.length;
      answer = service.upload(officer, { name: 'no-trail.srbk', offset, totalBytes: backup.length, data, ...(last ? { sha256, signerKey } : {}) });
      if (!last) await answer;
    }
    await expect(answer).rejects.toMatchObject({ code: 'STORAGE_FULL', message: TRAIL_FULL });
    // Neither the placed file nor its dot-file.
    expect(readdirSync(backupDir)).toEqual([]);
    expect(recorded.filter((e) => e.type === 'backup-uploaded').map((e) => [e.result, e.custom.name])).toEqual([['STORAGE_FULL', 'no-trail.srbk']]);
    service.close();
  });
});
