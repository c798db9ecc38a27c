/**
 * Starts the engine's processes (etcd members, Patroni) as the postgres user,
 * and finds and kills every process of a cluster run, however it got there.
 *
 * A member runs as postgres: PostgreSQL refuses to run as root, and Patroni
 * starts it. Node spawns it with the postgres uid and gid itself (libuv
 * drops root's supplementary groups), which does what `runuser -u postgres
 * --` does without runuser's extra parent process: the pid we hold is the
 * member's own, so a SIGKILL of that pid is a SIGKILL of Patroni.
 *
 * Each member gets the environment variable STRONGROOM_CLUSTER_RUN=<run id>
 * and a working folder inside the run folder. Patroni starts PostgreSQL in a
 * session of its own (so that it outlives Patroni), and PostgreSQL overwrites
 * its environment with its process titles; but every PostgreSQL process works
 * in its data folder. So a process belongs to the run when its environment
 * carries the run id or its working folder lies inside the run folder: that
 * finds them all, and nothing else (no name matching). The working-folder
 * test counts only processes of the postgres user: a developer's shell that
 * looks at the logs there is not the run's.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { sep } from 'node:path';
import { waitFor } from './bounded-wait';

export const RUN_ENV = 'STRONGROOM_CLUSTER_RUN';

export interface PostgresUser {
  readonly uid: number;
  readonly gid: number;
}

/** The postgres user's uid and gid (the postgresql-common package creates the user). */
export function postgresUser(): PostgresUser {
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface MemberProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logPath: string;
  /** Set once the process exited: how. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

export interface SpawnMemberOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly logPath: string;
  readonly runId: string;
  readonly user: PostgresUser;
  readonly home: string;
}

/** Starts one member as postgres, its stdout and stderr appended to logPath. */
export function spawnMember(options: SpawnMemberOptions): MemberProcess {
  const log = openSync(options.logPath, 'a', 0o644);
  try {
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      uid: options.user.uid,
      gid: options.user.gid,
      // Its own process group: a stop can signal the group (initdb, pg_basebackup under Patroni).
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: options.home,
        LANG: 'C.UTF-8',
        LC_ALL: 'C.UTF-8',
        [RUN_ENV]: options.runId,
      },
    });
    const member: MemberProcess = { name: options.name, child, logPath: options.logPath };
    child.on('exit', (code, signal) => (member.exit = { code, signal }));
    // A spawn failure (no such binary) arrives as 'error'; record it as an exit.
    child.on('error', () => (member.exit = member.exit ?? { code: -1, signal: null }));
    return member;
  } finally {
    closeSync(log);
  }
}

/** The last lines of a member's log, for error messages. */
export function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Pids of the processes of run `runId` in folder `runDir` (see the file comment). */
export function runProcesses(runId: string, runDir: string, user: PostgresUser): number[] {
  const marker = `${RUN_ENV}=${runId}`;
  const inside = runDir.endsWith(sep) ? runDir : runDir + sep;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if ((cwd === runDir || cwd.startsWith(inside)) && ownerUid(pid) === user.uid) {
        found.push(pid);
        continue;
      }
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) found.push(pid);
    } catch {
      // Gone meanwhile, or a kernel thread: not ours.
    }
  }
  return found;
}

function ownerUid(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
  return line === undefined ? -1 : Number(line.split(/\s+/)[1]);
}

/** SIGKILLs every process of the run until none is left: bounded (rounds and time). */
export async function killRun(runId: string, runDir: string, user: PostgresUser, timeoutMs = 15_000): Promise<void> {
  let left: number[] = [];
  await waitFor(
    `every process of cluster run ${runId} to end`,
    async () => {
      left = runProcesses(runId, runDir, user);
      for (const pid of left) signal(pid, 'SIGKILL');
      return left.length === 0 ? true : undefined;
    },
    { timeoutMs, intervalMs: 100 },
    () => `still running: ${left.join(', ')}`,
  );
}

/** Sends a signal; a process already gone is not an error. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
