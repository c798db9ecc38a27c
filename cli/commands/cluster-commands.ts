/**
 * `strongroom cluster join`: the command an operator runs on a new node of a
 * cluster (server/cluster/cluster-join.ts does the work; docs/cluster.md §10).
 * Local only: it opens this node's configuration (storage = postgres, its own
 * token), not a running server.
 */
import { Command } from 'commander';
import { systemClock } from '../../common/clock';
import { assertClusterStorage, joinCluster, JoinResult, nodeName } from '../../server/cluster/cluster-join';
import { localOperator } from '../../server/local/local-operator';
import { runCommand } from '../context';

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('make this appliance a node of a cluster on PostgreSQL');
  cluster.addCommand(
    new Command('join')
      .description('join the keychain another node created in the shared PostgreSQL database: check the master key, create this node\'s audit signing key, register it')
      .option('--node <name>', 'this node\'s name in the signer list and the trail (default: the node_name setting, else the host name)')
      .addHelpText(
        'after',
        `
Run it on the new node, as the account that runs strongroom serve, before
its first serve. Its appliance.conf must say storage = postgres, name the
shared database (postgres_server or postgres_patroni, postgres_database,
postgres_user, postgres_password_file, cluster_destroy = logical) and its
OWN HSM token, which must already hold the keychain's master key
(scripts/share-master-key.sh, then hsm_imported_master_keys = 1).

What it does, in order; a refusal in any step leaves the database as it was:
  1. refuses a SQLite keychain (NOT_ON_SQLITE, exit 4): a file is one
     appliance's, there is nothing to join;
  2. checks the token's master key against the keychain's check value
     (MASTER_KEY_MISMATCH, exit 6), before writing anything;
  3. creates this node's audit checkpoint signing key in its token (a key
     already there is kept);
  4. unseals the keychain with this token: only a node holding the master
     key can write the signer list, whose rows are MACed under a key derived
     from the keychain key;
  5. adds the key to the cluster's audit signers with an audit-signer-added
     event in the trail (node, fingerprint, who ran it), in one transaction.
     Every node then accepts this node's checkpoints from that event on.
     Run twice, it changes nothing the second time.

Exit codes: 0 joined (or joined already); 2 a bad --node; 4 NOT_ON_SQLITE;
5 no keychain in the database yet (KEYCHAIN_NOT_INITIALIZED: run init on
the first node); 6 MASTER_KEY_MISMATCH or another HSM error; 7 the signer
list or the keychain's rows fail authentication (INTEGRITY_FAILURE);
8 or 11 PostgreSQL refused or did not answer; 9 a bad setting
(CONFIG_INVALID). Then start the node with strongroom serve.

  $ strongroom cluster join --node node-b
  $ strongroom cluster join --node node-b --json`,
      )
      .action(
        runCommand(async (ctx, options: { node?: string }) => {
          // Before the open: opening a SQLite keychain would create its data folder's files.
          assertClusterStorage(ctx.config());
          nodeName(options.node ?? ctx.config().values.node_name);
          const appliance = ctx.open();
          const operator = localOperator();
          const result = await joinCluster(appliance, { node: options.node, operator: { name: operator.name, subject: operator.subject }, clock: systemClock });
          ctx.out.result(result, () => renderJoin(result));
        }),
      ),
  );
  return cluster;
}

function renderJoin(r: JoinResult): string {
  return [
    r.registered ? `Joined keychain ${r.keychainId} as node ${r.node}` : `Node ${r.node} had joined keychain ${r.keychainId} already: nothing changed`,
    `  HSM token:    ${r.token.label} (serial ${r.token.serialNumber}); master key check value matches`,
    `  signing key:  ${r.signingKey.fingerprint}${r.signingKey.created ? ' (created now)' : ''}`,
    ...(r.eventSeq !== null ? [`  audit event:  audit-signer-added at event ${r.eventSeq}`] : []),
    '  signers:',
    ...r.signers.map((s) => `    ${s.node.padEnd(16)} ${s.fingerprint} (since ${s.addedAt})`),
    '',
    'Next: strongroom serve',
  ].join('\n');
}
