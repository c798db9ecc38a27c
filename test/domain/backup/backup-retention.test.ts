/**
 * Retention on a real folder: the server's backups are listed oldest first
 * by the time in their names; after a new backup the oldest beyond the count
 * are the ones removed, never the one just made, and nothing that is not a
 * regular file named as the server names its backups (an operator's notes,
 * a dot-file of a backup in progress, a look-alike name, a symbolic link or
 * a folder with a backup's name) is listed or removed.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupNameTimeMs, backupsBeyondRetention, listBackups, newestBackupMs, removeBackup } from '../../../domain/backup/backup-retention';

const made = (dir: string, name: string, mtime?: Date): string => {
  writeFileSync(join(dir, name), 'x', { mode: 0o600 });
  if (mtime) utimesSync(join(dir, name), mtime, mtime);
  return name;
};

describe('backup retention', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strongroom-retention-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the time a backup name carries', () => {
    expect(new Date(backupNameTimeMs('backup-20261207T081500Z-1a2b3c4d.srbk')).toISOString()).toBe('2026-12-07T08:15:00.000Z');
  });

  it('lists only the server’s backups, oldest first, and none for a folder not made yet', () => {
    expect(listBackups(join(dir, 'absent'))).toEqual([]);
    expect(newestBackupMs(join(dir, 'absent'))).toBeNull();
    const c = made(dir, 'backup-20261203T000000Z-cccccccc.srbk');
    const a = made(dir, 'backup-20261201T000000Z-ffffffff.srbk');
    const b = made(dir, 'backup-20261202T120000Z-00000000.srbk');
    made(dir, 'notes.txt');
    made(dir, 'backup-20261130T000000Z-aaaaaaaa.srbk.bak');
    made(dir, '.backup-20261130T000000Z-aaaaaaaa.srbk.partial');
    made(dir, 'backup-20261130T000000Z-AAAAAAAA.srbk');
    made(dir, 'elsewhere.srbk');
    symlinkSync(join(dir, 'notes.txt'), join(dir, 'backup-20261129T000000Z-bbbbbbbb.srbk'));
    mkdirSync(join(dir, 'backup-20261128T000000Z-dddddddd.srbk'));
    expect(listBackups(dir).map((x) => x.name)).toEqual([a, b, c]);
    expect(newestBackupMs(dir)).toBe(Date.UTC(2026, 11, 3));
  });

  it('removes the oldest beyond the count and nothing else', () => {
    const names = ['01', '02', '03', '04', '05'].map((d, i) => made(dir, `backup-202612${d}T000000Z-0000000${i}.srbk`));
    const others = ['notes.txt', '.backup-20261101T000000Z-aaaaaaaa.srbk.partial', 'backup-20261101T000000Z-aaaaaaaa.srbk.bak'];
    for (const other of others) made(dir, other);
    symlinkSync(join(dir, 'notes.txt'), join(dir, 'backup-20261102T000000Z-bbbbbbbb.srbk'));
    const beyond = backupsBeyondRetention(dir, 3, names[4]);
    expect(beyond).toEqual([names[0], names[1]]);
    for (const name of beyond) removeBackup(dir, name);
    expect(readdirSync(dir).sort()).toEqual([...others, 'backup-20261102T000000Z-bbbbbbbb.srbk', names[2], names[3], names[4]].sort());
    expect(backupsBeyondRetention(dir, 3, names[4])).toEqual([]);
    expect(backupsBeyondRetention(dir, 1, names[4])).toEqual([names[2], names[3]]);
  });

  it('never counts the backup just made among those to remove, even when another of the same second sorts after it', () => {
    const older = made(dir, 'backup-20261207T090000Z-ffffffff.srbk', new Date('2026-12-07T09:00:00.900Z'));
    const justMade = made(dir, 'backup-20261207T090000Z-00000000.srbk', new Date('2026-12-07T09:00:00.100Z'));
    expect(listBackups(dir).map((x) => x.name)).toEqual([justMade, older]);
    expect(backupsBeyondRetention(dir, 1, justMade)).toEqual([older]);
  });

  it('never removes a backup that a restore request not yet carried out names', () => {
    const names = ['backup-20261101T000000Z-00000001.srbk', 'backup-20261102T000000Z-00000002.srbk', 'backup-20261103T000000Z-00000003.srbk'].map((n) => made(dir, n));
    expect(backupsBeyondRetention(dir, 1, names[2])).toEqual([names[0], names[1]]);
    expect(backupsBeyondRetention(dir, 1, names[2], new Set([names[0]]))).toEqual([names[1]]);
  });

  it('refuses to remove a file that is not named as a backup', () => {
    made(dir, 'keychain.db');
    expect(() => removeBackup(dir, 'keychain.db')).toThrow(/not a backup name/);
    expect(() => removeBackup(dir, '../keychain.db')).toThrow(/not a backup name/);
    expect(existsSync(join(dir, 'keychain.db'))).toBe(true);
  });
});
