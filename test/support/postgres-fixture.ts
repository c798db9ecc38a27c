/**
 * A throwaway single PostgreSQL 15 for tests of the PostgreSQL storage
 * (storage/postgres/): initdb and pg_ctl from /usr/lib/postgresql/15/bin, run
 * as the postgres user through `runuser -u postgres --` (PostgreSQL refuses
 * root), listening on 127.0.0.1 only on a port claimed like the cluster
 * harness's (scripts/cluster/port-block.ts), in a fresh folder on /dev/shm
 * when there is one (else the temp folder). Password authentication
 * (scram-sha-256) with a random superuser password, C.UTF-8 locale (byte
 * order, as SQLite's BINARY collation sorts), TCP only (no Unix socket: its
 * lock file would outlive a crash, like postmaster.pid, see clearDeadPostmaster).
 *
 * For failure tests it can stop every process of the server (SIGSTOP: the
 * server still holds its sockets but answers nothing), let them go on
 * (SIGCONT), SIGKILL them all (a crashed server) and start it again on the
 * same port and data. Processes are found as the cluster harness finds them
 * (member-process.ts): postgres-owned processes working inside the folder,
 * never by name. `stop()` kills whatever is left, gives the port back and
 * removes the folder; every wait is bounded. Needs root and postgresql-15
 * (scripts/setup.sh).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { killRun, logTail, postgresUser, PostgresUser, runProcesses, signal } from '../../scripts/cluster/member-process';
import { waitFor } from '../../scripts/cluster/bounded-wait';
import { claimPortBlock, PortBlock } from '../../scripts/cluster/port-block';
import type { BridgeTarget } from '../../storage/postgres/bridge-protocol';
import type { PgCredentials } from '../../storage/postgres/pg-session';

const BIN = '/usr/lib/postgresql/15/bin';
/** Bounds: initdb on a loaded two-core machine takes a few seconds; a start, one or two. */
const INITDB_TIMEOUT_MS = 90_000;
const PG_CTL_TIMEOUT_S = 60;

export interface TestPostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly credentials: PgCredentials;
  readonly target: BridgeTarget;
  readonly dir: string;
  /** Runs one statement as the superuser on a connection of its own (setup and inspection). */
  sql(text: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** SIGSTOP every process of the server: connections stay open, nothing answers. */
  pause(): void;
  /** SIGCONT them. */
  resume(): void;
  /** SIGKILL every process of the server (postmaster and backends): a crash. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data (after kill). */
  start(): Promise<void>;
  /** Kills what is left, gives the port back, removes the folder. Harmless twice. */
  stop(): Promise<void>;
  /** The last lines of the server's log, for failure messages. */
  logTail(): string;
}

/** `fn` on a connection of its own to `database` as the superuser (what an intruder with the database can do), ended after. */
export async function asSuperuser<T>(pg: TestPostgres, database: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ host: '127.0.0.1', port: pg.port, ...pg.credentials, database, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const user = postgresUser();
  const parent = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(parent, 'strongroom-pg-'));
  chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  const dataDir = join(dir, 'data');
  const logPath = join(dir, 'postgres.log');
  const runId = `pg-fixture-${randomBytes(6).toString('hex')}`;
  let block: PortBlock | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await killRun(runId, dir, user);
    block?.release();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    block = await claimPortBlock(1);
    const port = block.port(0);
    const password = randomBytes(18).toString('base64url');
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    chownSync(pwfile, user.uid, user.gid);
    await asPostgres(user, dir, logPath, `${BIN}/initdb`, [
      '-D', dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=peer', '--auth-host=scram-sha-256',
      '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync',
    ], INITDB_TIMEOUT_MS);
    rmSync(pwfile);
    const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories='' -c fsync=off -c max_connections=40`;
    const start = (): Promise<void> =>
      asPostgres(user, dir, logPath, `${BIN}/pg_ctl`, ['-D', dataDir, '-l', logPath, '-w', '-t', String(PG_CTL_TIMEOUT_S), '-o', options, 'start'], (PG_CTL_TIMEOUT_S + 10) * 1000);
    await start();
    const credentials: PgCredentials = { user: 'postgres', password, database: 'postgres' };
    const each = (sig: NodeJS.Signals): void => {
      for (const pid of runProcesses(runId, dir, user)) signal(pid, sig);
    };
    return {
      host: '127.0.0.1',
      port,
      credentials,
      target: { kind: 'direct', host: '127.0.0.1', port },
      dir,
      sql: async (text, values) => {
        const client = new Client({ host: '127.0.0.1', port, ...credentials, connectionTimeoutMillis: 10_000, query_timeout: 30_000 });
        client.on('error', () => undefined);
        await client.connect();
        try {
          return (await client.query(text, values)).rows as Array<Record<string, unknown>>;
        } finally {
          await client.end();
        }
      },
      pause: () => each('SIGSTOP'),
      resume: () => each('SIGCONT'),
      kill: async () => {
        const postmaster = postmasterPid(dataDir);
        await killRun(runId, dir, user);
        if (postmaster !== undefined) await clearDeadPostmaster(postmaster, dataDir);
      },
      start,
      stop,
      logTail: () => logTail(logPath),
    };
  } catch (err) {
    const tail = logTail(logPath);
    await stop();
    throw new Error(`could not start a test PostgreSQL: ${(err as Error).message}\n${tail}`);
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * pg_ctl leaves the postmaster to be adopted by init, which reaps it in its
 * own time: until then the killed postmaster is a zombie whose pid still
 * answers kill(pid, 0), and a new postmaster refuses the data folder
 * ("lock file postmaster.pid already exists"). Wait (bounded) until it is
 * gone or a zombie; a zombie holds no shared memory, so its lock file is
 * removed.
 */
async function clearDeadPostmaster(pid: number, dataDir: string): Promise<void> {
  const state = (): string | undefined => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    } catch {
      return undefined;
    }
  };
  await waitFor(`the killed postmaster ${pid} to end`, async () => (state() === undefined || state() === 'Z' ? true : undefined), { timeoutMs: 15_000, intervalMs: 50 });
  if (state() === 'Z') rmSync(join(dataDir, 'postmaster.pid'), { force: true });
}

/** Runs a PostgreSQL tool as postgres (runuser), output appended to the log; bounded. */
function asPostgres(user: PostgresUser, cwd: string, logPath: string, command: string, args: string[], timeoutMs: number): Promise<void> {
  const log = openSync(logPath, 'a', 0o644);
  try {
    chownSync(logPath, user.uid, user.gid);
    const child = spawn('runuser', ['-u', 'postgres', '--', command, ...args], { cwd, stdio: ['ignore', log, log] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${command} ${args.at(-1) ?? ''} took over ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('exit', (code, sig) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`${command} exited ${code ?? sig}`));
      });
    });
  } finally {
    closeSync(log);
  }
}
