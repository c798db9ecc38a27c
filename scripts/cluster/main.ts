/**
 * The cluster harness by hand (docs/cluster.md):
 *
 *   node dist/scripts/cluster/main.js up [--ttl 20] [--loop-wait 2] [--retry-timeout 9] [--no-strict] [--keep] [--json]
 *   node dist/scripts/cluster/main.js check [same options]
 *
 * `up` starts three etcd members and three Patroni-managed PostgreSQL 15 nodes
 * on loopback (as root: the members run as the postgres user), prints where
 * they listen and the superuser's password, and holds the cluster until
 * Ctrl-C (SIGINT) or SIGTERM, then kills every process of it and removes its
 * folder (--keep keeps the folder, logs and data). `check` starts it, prints
 * the same, and stops it: a smoke test of the machine's packages. Exit codes:
 * 0 done, 1 the cluster did not start (the message names the member and its
 * log), 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { ClusterOptions, DEFAULT_TIMING, RunningCluster, startCluster } from './cluster';
import { checkTiming } from './patroni-config';

const USAGE = `usage: node dist/scripts/cluster/main.js up|check [--ttl S] [--loop-wait S] [--retry-timeout S] [--no-strict] [--keep] [--json]
  up     start the cluster and hold it until Ctrl-C, then stop it
  check  start the cluster, print it, stop it
  --ttl, --loop-wait, --retry-timeout   Patroni timing in seconds (default ${DEFAULT_TIMING.ttl}, ${DEFAULT_TIMING.loopWait}, ${DEFAULT_TIMING.retryTimeout}; loop_wait + 2 x retry_timeout <= ttl)
  --no-strict   synchronous_mode_strict off (a primary alone goes on accepting commits)
  --keep        keep the run folder (logs, data) after the stop
  --json        print the cluster as JSON`;

function options(argv: string[]): { command: string; cluster: ClusterOptions; json: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ttl: { type: 'string' },
      'loop-wait': { type: 'string' },
      'retry-timeout': { type: 'string' },
      'no-strict': { type: 'boolean' },
      keep: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const command = positionals[0] ?? '';
  if (!['up', 'check'].includes(command) || positionals.length !== 1) throw new Error(`expected one command, up or check`);
  const seconds = (flag: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!/^[1-9][0-9]{0,5}$/.test(value)) throw new Error(`${flag} must be a whole number of seconds from 1, not ${JSON.stringify(value)}`);
    return Number(value);
  };
  const timing = {
    ttl: seconds('--ttl', values.ttl, DEFAULT_TIMING.ttl),
    loopWait: seconds('--loop-wait', values['loop-wait'], DEFAULT_TIMING.loopWait),
    retryTimeout: seconds('--retry-timeout', values['retry-timeout'], DEFAULT_TIMING.retryTimeout),
  };
  // A usage mistake (exit 2), said before anything starts, not a cluster that failed to start (exit 1).
  checkTiming(timing);
  return {
    command,
    json: values.json === true,
    cluster: {
      timing,
      synchronousModeStrict: values['no-strict'] !== true,
      keepDir: values.keep === true,
      progress: (line) => process.stderr.write(`${line}\n`),
    },
  };
}

function describe(cluster: RunningCluster, json: boolean): string {
  const view = {
    runId: cluster.runId,
    dir: cluster.dir,
    etcd: cluster.etcdHosts,
    timing: cluster.timing,
    superuser: cluster.superuser,
    nodes: cluster.nodes.map((n) => ({ name: n.name, postgres: `${n.postgres.host}:${n.postgres.port}`, rest: `http://${n.rest.host}:${n.rest.port}`, log: n.logPath })),
    patronictl: `patronictl -c ${cluster.nodes[0].dir}/patroni.json list`,
  };
  if (json) return `${JSON.stringify(view, null, 2)}\n`;
  const lines = [
    `cluster ${view.runId} in ${view.dir}`,
    `etcd: ${view.etcd.join(', ')}`,
    ...view.nodes.map((n) => `${n.name}: postgres ${n.postgres}, patroni ${n.rest}, log ${n.log}`),
    `superuser: postgres / ${view.superuser.password} (psql -h 127.0.0.1 -p PORT -U postgres)`,
    `patronictl: ${view.patronictl}`,
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof options>;
  try {
    parsed = options(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  let cluster: RunningCluster;
  try {
    cluster = await startCluster(parsed.cluster);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(describe(cluster, parsed.json));
  if (parsed.command === 'check') {
    await cluster.stop();
    process.stderr.write('cluster stopped\n');
    return;
  }
  process.stderr.write('holding the cluster; Ctrl-C stops it\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    // Keeps the event loop alive until a signal comes (the harness's handles are unref'd or short).
    setInterval(() => undefined, 60_000);
  });
  await cluster.stop();
  process.stderr.write('cluster stopped\n');
  process.exit(0);
}

void main();
