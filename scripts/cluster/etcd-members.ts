/**
 * The three etcd members that are Patroni's consensus store (Debian's
 * etcd-server, etcd 3.4), on 127.0.0.1, as the postgres user, each with its
 * data folder inside the run folder. A fresh cluster every run: its own
 * initial-cluster token (the run id), so members of another run that happen to
 * be reachable never join it. Ready when every member's `GET /health` says
 * `{"health":"true"}` (a member is healthy once the cluster has a leader).
 */
import { join } from 'node:path';
import { makePatroniProbe } from '../../storage/postgres/patroni-rest';
import { waitFor } from './bounded-wait';
import { MemberProcess, PostgresUser, spawnMember } from './member-process';

export interface EtcdMemberAddress {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

export interface EtcdStartOptions {
  readonly runId: string;
  readonly runDir: string;
  readonly user: PostgresUser;
  readonly members: readonly EtcdMemberAddress[];
  readonly readyTimeoutMs: number;
}

const ETCD = '/usr/bin/etcd';
/** The bounded JSON GET of the Patroni probe serves etcd's /health just as well. */
const probe = makePatroniProbe();

/** `host:port` of each member's client URL: Patroni's `etcd3.hosts`. */
export function etcdHosts(members: readonly EtcdMemberAddress[]): string[] {
  return members.map((m) => `127.0.0.1:${m.clientPort}`);
}

/** Starts the members (each appended to `started` at once, so a failure later still stops it) and waits until all are healthy. */
export async function startEtcd(options: EtcdStartOptions, started: MemberProcess[]): Promise<void> {
  const initialCluster = options.members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
  for (const m of options.members) {
    const client = `http://127.0.0.1:${m.clientPort}`;
    const peer = `http://127.0.0.1:${m.peerPort}`;
    started.push(
      spawnMember({
        name: m.name,
        command: ETCD,
        args: [
          '--name', m.name,
          '--data-dir', join(options.runDir, m.name),
          '--listen-client-urls', client,
          '--advertise-client-urls', client,
          '--listen-peer-urls', peer,
          '--initial-advertise-peer-urls', peer,
          '--initial-cluster', initialCluster,
          '--initial-cluster-state', 'new',
          '--initial-cluster-token', `strongroom-${options.runId}`,
          '--logger', 'zap',
          '--log-level', 'warn',
        ],
        cwd: options.runDir,
        logPath: join(options.runDir, `${m.name}.log`),
        runId: options.runId,
        user: options.user,
        home: options.runDir,
      }),
    );
  }
  const members = started.filter((p) => options.members.some((m) => m.name === p.name));
  const health = new Map<string, string>();
  await waitFor(
    'every etcd member to report healthy',
    async () => {
      const answers = await Promise.all(options.members.map((m) => probe({ host: '127.0.0.1', port: m.clientPort }, '/health', 1_000)));
      options.members.forEach((m, i) => health.set(m.name, answers[i].status === 0 ? answers[i].error ?? 'no answer' : `${answers[i].status} ${JSON.stringify(answers[i].body)}`));
      return answers.every((a) => a.status === 200 && a.body?.health === 'true') ? true : undefined;
    },
    { timeoutMs: options.readyTimeoutMs, failFast: () => exitedMember(members) },
    () => [...health].map(([name, state]) => `${name}: ${state}`).join('; '),
  );
}

/** A message when one of `members` has exited, naming its log. */
export function exitedMember(members: readonly MemberProcess[]): string | undefined {
  const dead = members.find((m) => m.exit !== undefined);
  if (dead === undefined) return undefined;
  return `${dead.name} exited (code ${dead.exit?.code}, signal ${dead.exit?.signal}); see ${dead.logPath}`;
}
