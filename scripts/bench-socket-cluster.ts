/**
 * The clustered appliance of the socket benchmark (`--cluster`, issue 17):
 * the real three-node Patroni/etcd/PostgreSQL cluster of scripts/cluster/
 * (synchronous_commit on, one synchronous standby, strict), an appliance
 * with storage = postgres and postgres_patroni on it (the primary found
 * through Patroni's REST API, as an operator would configure it), served
 * from a child process like the single node's. Its audited Get and Create
 * are measured at the same connection counts, beside the same echo ceiling
 * as the single-node rows of the same run.
 *
 * Bounded: the cluster's start has its own bound (CLUSTER_START_TIMEOUT_MS)
 * and every cell is bounded as the single node's. stop() stops whatever was
 * started, including a cluster still starting when Ctrl-C came: it waits for
 * the (bounded) start to end, then stops it.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { RunningCluster, startCluster } from './cluster/cluster';

/** The whole start (etcd, bootstrap, two base backups): 20-30 s on a loaded two-core machine. */
const CLUSTER_START_TIMEOUT_MS = 180_000;
/** The appliance's database: Strongroom's alone, sorting text bytewise (docs/cluster/bridge.md). */
const DATABASE = 'strongroom';

export class BenchCluster {
  private starting: Promise<RunningCluster> | null = null;

  /**
   * Starts the cluster, makes the appliance's database, writes the password
   * file in `dir`, and answers the settings that put an appliance on it.
   */
  async start(dir: string, log: (line: string) => void): Promise<{ flags: Record<string, string>; description: string }> {
    this.starting = startCluster({ startTimeoutMs: CLUSTER_START_TIMEOUT_MS, progress: log });
    const cluster = await this.starting;
    const primary = await cluster.waitForPrimary({ timeoutMs: 30_000 });
    const node = cluster.nodes.find((n) => n.name === primary);
    if (!node) throw new Error(`the cluster named a primary it does not have: ${primary}`);
    const admin = new Client({ host: node.postgres.host, port: node.postgres.port, ...cluster.superuser, connectionTimeoutMillis: 10_000 });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${DATABASE} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
    } finally {
      await admin.end();
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const passwordFile = join(dir, 'postgres-password');
    writeFileSync(passwordFile, `${cluster.superuser.password}\n`, { mode: 0o600 });
    chmodSync(passwordFile, 0o600);
    const flags = {
      storage: 'postgres',
      postgres_patroni: cluster.nodes.map((n) => `${n.name}=${n.rest.host}:${n.rest.port}/${n.postgres.host}:${n.postgres.port}`).join(','),
      postgres_database: DATABASE,
      postgres_user: cluster.superuser.user,
      postgres_password_file: passwordFile,
      cluster_destroy: 'logical',
    };
    const roles = (await cluster.roles()).map((r) => `${r.name} ${r.primary ? 'primary' : r.sync ? 'synchronous standby' : 'standby'}`).join(', ');
    const t = cluster.timing;
    return { flags, description: `3 PostgreSQL 15 nodes under Patroni with 3 etcd members on 127.0.0.1 (${roles}; synchronous_mode_strict, synchronous_commit on; ttl ${t.ttl}, loop_wait ${t.loopWait}); primary found through Patroni's REST API` };
  }

  /** Stops the cluster, or the start under way once it ends (it is bounded); harmless twice. */
  async stop(): Promise<void> {
    const starting = this.starting;
    this.starting = null;
    const cluster = await starting?.catch(() => null);
    await cluster?.stop();
  }
}
