/**
 * The cluster demo (scripts/cluster-demo.sh runs it, as root): three
 * etcd/Patroni/PostgreSQL nodes and three `strongroom serve` appliances on
 * loopback (cluster.ts, appliances.ts), then it prints where each listens,
 * the client credentials init made and how to use them (the client
 * library's `servers` option over the three addresses, the CLI against any
 * one), and holds everything until Ctrl-C (SIGINT) or SIGTERM, when it stops
 * every appliance and every cluster member and removes their folders.
 *
 *   node dist/scripts/cluster/demo.js
 *
 * Exit codes: 0 stopped on a signal, 1 something did not start (the message
 * names it and its log).
 */
import { RunningAppliances, startAppliances } from './appliances';
import { RunningCluster, startCluster } from './cluster';

const APPLIANCES = 3;

function usage(cluster: RunningCluster, appliances: RunningAppliances): string {
  const { pki } = appliances;
  const servers = appliances.nodes.map((n) => `{ host: '127.0.0.1', port: ${n.port} }`).join(', ');
  const first = appliances.nodes[0];
  return [
    `PostgreSQL cluster ${cluster.runId} (Patroni ttl ${cluster.timing.ttl} s) in ${cluster.dir}:`,
    ...cluster.nodes.map((n) => `  ${n.name}: postgres ${n.postgres.host}:${n.postgres.port}, patroni http://${n.rest.host}:${n.rest.port}, log ${n.logPath}`),
    `  patronictl -c ${cluster.nodes[0].dir}/patroni.json list`,
    '',
    `${appliances.nodes.length} appliances (storage = postgres, one SoftHSM2 token each holding the shared master key):`,
    ...appliances.nodes.map((n) => `  ${n.name}: 127.0.0.1:${n.port} (data ${n.dataDir})`),
    '',
    'Client credentials (the officers init made; dual control needs admin plus two approvers):',
    `  CA           ${pki.caFile}`,
    ...(['admin', 'officer-2', 'officer-3'] as const).map((o) => `  ${o.padEnd(12)} ${pki.certFile(o)}  ${pki.keyFile(o)}`),
    '',
    'The client library, over the three addresses (a new connection goes to one not in back-off):',
    `  new StrongroomClient({ servers: [${servers}], ca, cert, key })`,
    '',
    'The CLI, against any one of them (kill one, and point it at another):',
    `  node dist/cli/main.js --server 127.0.0.1:${first.port} --ca ${pki.caFile} --cert ${pki.certFile('admin')} --key ${pki.keyFile('admin')} key create demo/k1 --algorithm AES-256`,
    `  node dist/cli/main.js --server 127.0.0.1:${appliances.nodes[appliances.nodes.length - 1].port} --ca ${pki.caFile} --cert ${pki.certFile('admin')} --key ${pki.keyFile('admin')} key show demo/k1`,
    '',
    'Everything above is removed when the demo stops. Ctrl-C stops it.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  let cluster: RunningCluster | undefined;
  let appliances: RunningAppliances | undefined;
  const stopAll = async (): Promise<void> => {
    await appliances?.stop().catch((err: unknown) => progress(`stopping the appliances: ${String(err)}`));
    await cluster?.stop().catch((err: unknown) => progress(`stopping the cluster: ${String(err)}`));
  };
  // A signal during the start stops what was started so far.
  let signalled = false;
  const signal = new Promise<void>((resolve) => {
    const on = (): void => {
      signalled = true;
      resolve();
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
  try {
    progress('cluster-demo: starting three etcd/Patroni/PostgreSQL nodes (about a minute)...');
    cluster = await startCluster({ progress });
    if (!signalled) {
      progress(`cluster-demo: starting ${APPLIANCES} appliances on it...`);
      appliances = await startAppliances(cluster, { count: APPLIANCES, progress });
    }
  } catch (err) {
    progress(`cluster-demo: ${(err as Error).message}`);
    await stopAll();
    process.exit(1);
  }
  if (!signalled && appliances !== undefined) {
    process.stdout.write(usage(cluster, appliances));
    // Keeps the event loop alive until a signal comes (the harness's handles are unref'd).
    const alive = setInterval(() => undefined, 60_000);
    await signal;
    clearInterval(alive);
  }
  progress('cluster-demo: stopping the appliances and the cluster...');
  await stopAll();
  progress('cluster-demo: stopped');
  process.exit(0);
}

void main();
