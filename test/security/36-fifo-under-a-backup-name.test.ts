/**
 * Attack 36: a FIFO planted in backup_dir under a backup's name.
 *
 * backup_dir is untrusted. Whoever writes it makes a named pipe called
 * backup-<time>-<id>.srbk; an officer (or the attacker, being one) asks to
 * restore it. The request read the file by name with a synchronous open(),
 * which on a FIFO without a writer never returns: the server's event loop
 * stops, and with it every connection, the HSM watch and the audit trail's
 * checkpoints (before the fix this test hangs its process; shown with
 * `node -e "fs.copyFileSync(fifo, out)"` under `timeout`). A symlink to
 * /dev/zero read to its end never ends either.
 *
 * BackupRead (which `backup create --out` copies through) opened the name
 * the same way.
 *
 * The rule: the backup is opened non-blocking and must be a regular file
 * (BACKUP_MALFORMED otherwise, before anything is stored); the server
 * serves on.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

describe('attack 36: a FIFO under a backup name', () => {
  let t: TestAppliance;

  beforeAll(async () => {
    t = await startTestAppliance();
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('refuses a name that is not a regular file, storing no request, and serves on', async () => {
    const officer = await t.connect(t.officer);
    // backup_dir exists once a backup was made.
    expect((await officer.request('BackupCreate', {})).error).toBeUndefined();
    const fifo = 'backup-20261207T000000Z-0000000f.srbk';
    execFileSync('mkfifo', [join(t.dataDir, 'backups', fifo)]);
    const answer = await officer.request('BackupRestore', { name: fifo });
    expect(answer.error).toMatchObject({ code: 'BACKUP_MALFORMED', message: expect.stringContaining('not a regular file') });
    const open = await officer.request('ApprovalList', {});
    expect(JSON.stringify(open.result)).not.toContain('BackupRestore');
    // BackupRead (what `backup create --out` copies with) opened it the same way.
    expect((await officer.request('BackupRead', { name: fifo, offset: 0, length: 16 })).error).toMatchObject({ code: 'BACKUP_MALFORMED' });
    expect((await officer.request('Create', { name: 'fifo/after', algorithm: 'AES-256' })).error).toBeUndefined();
  });
});
