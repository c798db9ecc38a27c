/**
 * `strongroom cluster join`: the command an operator runs on a new node of a
 * cluster (server/cluster/cluster-join.ts does the work; docs/cluster/join.md).
 * Local only: it opens this node's configuration (storage = postgres, its own
 * token), not a running server.
 *
 * `strongroom cluster status`: the ClusterStatus operation
 * (operations/cluster-operations.ts), locally or with --server, rendered.
 */
import { Command } from 'commander';
import { systemClock } from '../../common/clock';
import { assertClusterStorage, joinCluster, JoinResult, nodeName } from '../../server/cluster/cluster-join';
import { localOperator } from '../../server/local/local-operator';
import { runCommand } from '../context';
import type { ClusterStatusView } from '../../server/cluster/cluster-status';

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('make this appliance a node of a cluster on PostgreSQL, and show the cluster');
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
  cluster.addCommand(
    new Command('status')
      .description('show this node, the storage engine, the PostgreSQL nodes\' roles, the master key check, the scheduler\'s lease and the audit signers (reads only)')
      .addHelpText(
        'after',
        `
What each line means:
  node            this appliance's name (node_name, default the host name),
                  and whether its HSM's audit signing key is on the
                  cluster's signer list (cluster join puts it there; a node
                  not listed has its checkpoints refused by the others);
  storage         sqlite: a single appliance, nothing more is shown;
                  postgres: one server (postgres_server), or the Patroni
                  nodes (postgres_patroni) with each node's role as its REST
                  API answers GET /primary: primary, replica or unreachable;
  master key      whether this node's HSM token holds the keychain's master
                  key (its check value matches); a node that does not
                  refuses to unseal;
  scheduler lease which node's sweeps act (rollovers, activations,
                  destructions), its epoch (one more at each change of
                  holder) and expiry; another node takes it once it expired;
  audit signers   every node whose checkpoints the cluster accepts.

It reads, and changes nothing. It is an operation like the others: locally
it opens and unseals this node's keychain; with --server (an officer or
auditor certificate) it asks the running appliance, whose dispatcher checks
the caller, refuses while sealed and records the request in the audit trail.

Exit codes: 0 the status was read (and the master key matches); 5 sealed
(--server) or no keychain; 6 this node's HSM does not hold the master key
(MASTER_KEY_MISMATCH) or another HSM error; 7 the lease or the signer list
fails authentication (INTEGRITY_FAILURE: rows written outside the
appliance); 8 or 11 PostgreSQL refused or did not answer; 9 a bad setting.

Examples:
  $ strongroom cluster status
  $ strongroom --server 127.0.0.1:5700 cluster status --json`,
      )
      .action(
        runCommand(async (ctx) => {
          const status = await ctx.requester().request<ClusterStatusView>('ClusterStatus');
          ctx.out.result(status, () => renderStatus(status));
          if (status.storage === 'postgres' && !status.masterKeyCheck.matches) process.exitCode = 6;
        }),
      ),
  );
  return cluster;
}

function renderStatus(s: ClusterStatusView): string {
  if (s.storage === 'sqlite') return [`Node ${s.node}: a single appliance (storage = sqlite), not part of a cluster`, `  ${s.message}`].join('\n');
  const pg = 'server' in s.postgres
    ? [`  storage:         postgres, one server at ${s.postgres.server} (no Patroni: no failover)`]
    : [
        `  storage:         postgres on Patroni, primary: ${s.postgres.patroni.primary ?? 'NONE FOUND'}`,
        ...s.postgres.patroni.members.map((m) => `    ${m.name.padEnd(16)} ${m.role}${m.state ? ` (${m.state}${m.timeline !== null ? `, timeline ${m.timeline}` : ''})` : ''}${m.error ? `: ${m.error}` : ''}`),
      ];
  const lease = s.lease === null
    ? 'not taken yet (no sweep has acted)'
    : `${s.lease.holder}${s.lease.heldByThisNode ? ' (this node)' : ''}, epoch ${s.lease.epoch}, ${s.lease.valid ? 'valid until' : 'expired at'} ${s.lease.expiresAt}`;
  return [
    `Node ${s.node}: ${s.signer.listed ? 'a listed audit signer' : 'NOT on the audit signer list (run strongroom cluster join)'}`,
    `  signing key:     ${s.signer.fingerprint ?? 'none in the token'}`,
    ...pg,
    `  master key:      ${s.masterKeyCheck.matches ? 'this HSM holds the keychain\'s master key (check value matches)' : `[${s.masterKeyCheck.code}] ${s.masterKeyCheck.message}`}`,
    `  scheduler lease: ${lease}`,
    '  audit signers:',
    ...s.signers.map((n) => `    ${n.node.padEnd(16)} ${n.fingerprint} (since ${n.addedAt})${n.thisNode ? ' (this node)' : ''}`),
  ].join('\n');
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
