/**
 * The three Patroni nodes of a harness cluster: starts them, and reads what
 * role each one plays through its REST API. One `GET /primary` per node says
 * it all: the status is 200 only on the holder of the leader key, and the body
 * (Patroni's status of its PostgreSQL) gives the role, the state and, on a
 * standby, `sync_standby: true` when Patroni made it the synchronous one.
 */
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePatroniProbe } from '../../storage/postgres/patroni-rest';
import { waitFor } from './bounded-wait';
import { MemberProcess, PostgresUser, spawnMember } from './member-process';
import { patroniConfig, PatroniClusterSpec } from './patroni-config';
import type { HarnessNode } from './cluster';

const PATRONI = '/usr/bin/patroni';
const probe = makePatroniProbe();

export interface PatroniStartOptions {
  readonly runId: string;
  readonly runDir: string;
  readonly user: PostgresUser;
  readonly nodes: readonly HarnessNode[];
  readonly cluster: PatroniClusterSpec;
}

/** Writes each node's config (0600: it holds the passwords) and starts its Patroni; each is in `started` as soon as it runs. */
export function startPatroniNodes(options: PatroniStartOptions, started: MemberProcess[]): void {
  for (const node of options.nodes) {
    mkdirSync(node.dir, { mode: 0o700 });
    chownSync(node.dir, options.user.uid, options.user.gid);
    const configPath = join(node.dir, 'patroni.json');
    const config = patroniConfig(options.cluster, { name: node.name, nodeDir: node.dir, pgPort: node.postgres.port, restPort: node.rest.port });
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    chmodSync(configPath, 0o600);
    chownSync(configPath, options.user.uid, options.user.gid);
    started.push(
      spawnMember({
        name: node.name,
        command: PATRONI,
        args: [configPath],
        cwd: node.dir,
        logPath: node.logPath,
        runId: options.runId,
        user: options.user,
        home: node.dir,
      }),
    );
  }
}

export interface NodeRole {
  readonly name: string;
  /** Holds the leader key (`GET /primary` is 200). */
  readonly primary: boolean;
  /** A running standby that Patroni made synchronous. */
  readonly sync: boolean;
  /** A running standby that is not synchronous. */
  readonly async: boolean;
  /** What the node answered, for messages. */
  readonly seen: string;
}

/** Each node's role now (a node that does not answer has none). */
export async function nodeRoles(nodes: readonly HarnessNode[]): Promise<NodeRole[]> {
  const answers = await Promise.all(nodes.map((n) => probe(n.rest, '/primary', 1_000)));
  return nodes.map((node, i) => {
    const { status, body, error } = answers[i];
    const standby = status !== 0 && body?.role === 'replica' && body?.state === 'running';
    return {
      name: node.name,
      primary: status === 200,
      sync: standby && body?.sync_standby === true,
      async: standby && body?.sync_standby !== true,
      seen: status === 0 ? `unreachable (${error})` : `${status} role=${String(body?.role)} state=${String(body?.state)}${body?.sync_standby === true ? ' sync' : ''}`,
    };
  });
}

export interface RolesWanted {
  readonly timeoutMs: number;
  /** Nodes left out of the count (a node killed on purpose). */
  readonly exclude?: readonly string[];
  /** Only a primary is wanted, not the two standbys. */
  readonly primaryOnly?: boolean;
  readonly failFast: () => string | undefined;
}

/** Waits until exactly one node is primary and (unless primaryOnly) one standby is synchronous and the other asynchronous. */
export async function waitForRoles(nodes: readonly HarnessNode[], wanted: RolesWanted): Promise<{ primary: string; sync?: string; async?: string }> {
  const exclude = new Set(wanted.exclude ?? []);
  let last: NodeRole[] = [];
  return waitFor(
    wanted.primaryOnly === true ? 'a primary' : 'a primary, a synchronous standby and an asynchronous standby',
    async () => {
      last = (await nodeRoles(nodes)).filter((r) => !exclude.has(r.name));
      const primaries = last.filter((r) => r.primary);
      if (primaries.length !== 1) return undefined;
      if (wanted.primaryOnly === true) return { primary: primaries[0].name };
      const sync = last.filter((r) => r.sync);
      const async = last.filter((r) => r.async);
      if (sync.length !== 1 || async.length !== nodes.length - exclude.size - 2) return undefined;
      return { primary: primaries[0].name, sync: sync[0].name, async: async[0]?.name };
    },
    { timeoutMs: wanted.timeoutMs, intervalMs: 200, failFast: wanted.failFast },
    () => last.map((r) => `${r.name}: ${r.seen}`).join('; '),
  );
}
