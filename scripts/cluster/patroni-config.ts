/**
 * The Patroni configuration of one node of a harness cluster. Written as JSON,
 * which is YAML too (Patroni reads it with PyYAML), so no YAML writer is
 * needed and the file stays readable.
 *
 * What matters for "lose nothing acknowledged" (docs/cluster.md):
 * - `synchronous_mode: true`: Patroni names one standby synchronous
 *   (`synchronous_standby_names`) and, after the leader dies, promotes only a
 *   standby that was synchronous; with PostgreSQL's `synchronous_commit = on`
 *   a COMMIT is acknowledged only once that standby has flushed it.
 * - `synchronous_mode_strict: true` (by default): when no standby is left,
 *   the primary blocks commits instead of quietly going asynchronous; the
 *   price is that writes wait until a standby is back.
 * - `ttl`, `loop_wait`, `retry_timeout` set how fast a dead leader is
 *   replaced: its leader key lapses at most `ttl` seconds after its last
 *   renewal. Patroni asks for loop_wait + 2 × retry_timeout ≤ ttl.
 */
import { join } from 'node:path';

export interface PatroniTiming {
  /** Seconds the leader key lives without renewal. */
  readonly ttl: number;
  /** Seconds between two HA loops. */
  readonly loopWait: number;
  /** Seconds an etcd or PostgreSQL operation is retried before the loop gives up (a leader that cannot reach etcd this long demotes itself). */
  readonly retryTimeout: number;
}

export interface PatroniNodeSpec {
  readonly name: string;
  readonly nodeDir: string;
  readonly pgPort: number;
  readonly restPort: number;
}

export interface PatroniClusterSpec {
  readonly scope: string;
  readonly etcdHosts: readonly string[];
  readonly timing: PatroniTiming;
  readonly synchronousModeStrict: boolean;
  readonly superuserPassword: string;
  readonly replicationPassword: string;
}

export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';

/** Throws when the timing breaks Patroni's rule (it would misbehave, not refuse). */
export function checkTiming(timing: PatroniTiming): void {
  const { ttl, loopWait, retryTimeout } = timing;
  if (![ttl, loopWait, retryTimeout].every((n) => Number.isInteger(n) && n > 0)) throw new Error(`Patroni timing must be whole positive seconds: ${JSON.stringify(timing)}`);
  if (loopWait + 2 * retryTimeout > ttl) throw new Error(`Patroni timing: loop_wait + 2 × retry_timeout (${loopWait + 2 * retryTimeout}) must not exceed ttl (${ttl})`);
}

export function patroniConfig(cluster: PatroniClusterSpec, node: PatroniNodeSpec): Record<string, unknown> {
  const address = (port: number): string => `127.0.0.1:${port}`;
  return {
    scope: cluster.scope,
    namespace: '/strongroom/',
    name: node.name,
    log: { level: 'INFO', format: '%(asctime)s %(levelname)s: %(message)s' },
    restapi: { listen: address(node.restPort), connect_address: address(node.restPort) },
    etcd3: { hosts: [...cluster.etcdHosts] },
    bootstrap: {
      dcs: {
        ttl: cluster.timing.ttl,
        loop_wait: cluster.timing.loopWait,
        retry_timeout: cluster.timing.retryTimeout,
        maximum_lag_on_failover: 1024 * 1024,
        synchronous_mode: true,
        synchronous_mode_strict: cluster.synchronousModeStrict,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: {
            synchronous_commit: 'on',
            wal_level: 'replica',
            hot_standby: 'on',
            wal_log_hints: 'on',
            max_wal_senders: 10,
            max_replication_slots: 10,
            wal_keep_size: '32MB',
            min_wal_size: '32MB',
            max_connections: 60,
            // A standby whose primary went away retries its connection this often (default 5 s): after a
            // failover the remaining standby reattaches to the new primary sooner, and in strict
            // synchronous mode no commit is acknowledged before it has.
            wal_retrieve_retry_interval: '1s',
          },
        },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }],
    },
    postgresql: {
      listen: address(node.pgPort),
      connect_address: address(node.pgPort),
      data_dir: join(node.nodeDir, 'data'),
      bin_dir: POSTGRES_BIN_DIR,
      pgpass: join(node.nodeDir, 'pgpass'),
      authentication: {
        superuser: { username: 'postgres', password: cluster.superuserPassword },
        replication: { username: 'replicator', password: cluster.replicationPassword },
      },
      parameters: {
        // The socket in the node's own folder: /var/run/postgresql may not exist, and two nodes must not share a socket path.
        unix_socket_directories: node.nodeDir,
        // A test machine's memory is shared by three nodes and the tests.
        shared_buffers: '32MB',
      },
      pg_hba: [
        'local all all trust',
        'host all all 127.0.0.1/32 scram-sha-256',
        'host replication replicator 127.0.0.1/32 scram-sha-256',
      ],
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
}
