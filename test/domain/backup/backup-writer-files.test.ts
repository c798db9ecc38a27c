/**
 * What a killed backup writer leaves in backup_dir, on a real folder with
 * real processes: a dot-file whose writer (pid, this boot) has exited, or
 * that was written in another boot, is removed; a live writer's file (this
 * process's, or a running child's) is kept; so are names not written so (an
 * older untagged dot-file, an operator's file) and a symbolic link with a
 * writer's name.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootId, processAlive, removeDeadWritersFiles, WORK_FILE_PATTERN, workFileName, WRITER_FILE_PATTERN, writerFileNames } from '../../../domain/backup/backup-writer-files';

const BACKUP = 'backup-20261207T081500Z-1a2b3c4d.srbk';
const OTHER_BOOT = 'f'.repeat(32) === bootId() ? 'e'.repeat(32) : 'f'.repeat(32);

/** The pid of a process that has run and exited (waited for: it is gone). */
function deadPid(): number {
  const done = spawnSync(process.execPath, ['-e', '0']);
  expect(done.status).toBe(0);
  return done.pid as number;
}

describe('backup writer dot-files', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strongroom-writer-files-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const plant = (name: string): string => {
    writeFileSync(join(dir, name), 'a copy of keychain.db', { mode: 0o600 });
    return name;
  };

  it('names each piece after its writer, in the form the clean-up reads', () => {
    const names = writerFileNames(BACKUP);
    expect(names.snapshot).toBe(`.${BACKUP}.${process.pid}-${bootId()}.snapshot`);
    expect(names.partial).toBe(`.${BACKUP}.${process.pid}-${bootId()}.partial`);
    expect(WRITER_FILE_PATTERN.exec(names.snapshot)?.slice(1)).toEqual([BACKUP, String(process.pid), bootId(), 'snapshot']);
    expect(WRITER_FILE_PATTERN.test(names.partial)).toBe(true);
  });

  it('removes a dead or earlier boot’s partial upload under any name an upload takes, and keeps this process’s', () => {
    const uploaded = 'keychain-2026-12-07.tape.srbk';
    const dead = plant(writerFileNames(uploaded, deadPid()).upload);
    const otherBoot = plant(writerFileNames(uploaded, process.pid, OTHER_BOOT).upload);
    const mine = plant(writerFileNames(uploaded).upload);
    expect(removeDeadWritersFiles(dir).sort()).toEqual([dead, otherBoot].sort());
    expect(readdirSync(dir)).toEqual([mine]);
  });

  it('removes the working copies of a dead or earlier boot’s verification or restore request, and keeps this process’s', () => {
    const dead = deadPid();
    const verify = workFileName('verify', dead);
    expect(WORK_FILE_PATTERN.exec(verify)?.slice(2)).toEqual([String(dead), bootId(), 'snapshot']);
    const gone = [plant(verify), plant(`${verify}-journal`), plant(workFileName('restore-request', dead)), plant(workFileName('verify', process.pid, OTHER_BOOT))];
    const mine = [plant(workFileName('verify')), plant(workFileName('restore-request'))];
    expect(workFileName('verify')).not.toBe(workFileName('verify'));
    expect(removeDeadWritersFiles(dir).sort()).toEqual([...gone].sort());
    expect(readdirSync(dir).sort()).toEqual([...mine].sort());
  });

  it('removes a dead writer’s files and keeps a live writer’s', async () => {
    const dead = deadPid();
    expect(processAlive(dead)).toBe(false);
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 60000)'], { stdio: 'ignore' });
    try {
      const deadFiles = [plant(writerFileNames(BACKUP, dead).snapshot), plant(`${writerFileNames(BACKUP, dead).snapshot}-journal`), plant(writerFileNames(BACKUP, dead).partial), plant(writerFileNames(BACKUP, process.pid, OTHER_BOOT).snapshot)];
      const liveFiles = [plant(writerFileNames(BACKUP).snapshot), plant(`${writerFileNames(BACKUP).snapshot}-journal`), plant(writerFileNames(BACKUP, live.pid as number).partial)];
      expect(processAlive(live.pid as number)).toBe(true);

      expect(removeDeadWritersFiles(dir).sort()).toEqual([...deadFiles].sort());
      expect(readdirSync(dir).sort()).toEqual([...liveFiles].sort());
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('leaves alone what is not a writer’s regular file', () => {
    const dead = deadPid();
    const kept = [
      plant(`.${BACKUP}.snapshot`), // untagged (an older version's): its writer is unknown
      plant(BACKUP),
      plant('notes.txt'),
      plant(`.${BACKUP}.${dead}-${bootId()}.snapshot.bak`),
    ];
    const target = plant('target');
    const link = writerFileNames(BACKUP, dead).snapshot;
    symlinkSync(join(dir, target), join(dir, link));

    expect(removeDeadWritersFiles(dir)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual([...kept, target, link].sort());
    expect(existsSync(join(dir, target))).toBe(true);
  });

  it('finds nothing in a folder not made yet', () => {
    expect(removeDeadWritersFiles(join(dir, 'absent'))).toEqual([]);
  });

  it('asks whether each writer lives, and counts another boot’s writers as gone', () => {
    const asked: number[] = [];
    plant(writerFileNames(BACKUP, 4242).snapshot);
    plant(writerFileNames(BACKUP, 4343, OTHER_BOOT).partial);
    const removed = removeDeadWritersFiles(dir, { alive: (pid) => (asked.push(pid), true) });
    expect(asked).toEqual([4242]);
    expect(removed).toEqual([writerFileNames(BACKUP, 4343, OTHER_BOOT).partial]);
  });
});
