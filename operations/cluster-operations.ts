/**
 * ClusterStatus (officers and auditors; docs/cluster/status.md): this node, the
 * storage engine, the Patroni nodes' roles, the master key check, the
 * scheduler's lease and the audit signers (server/cluster/cluster-status.ts).
 *
 * An operation of the dispatcher rather than a local read, because it
 * reads keychain state that only an unsealed appliance can authenticate
 * (the lease and signer rows' MACs): through the one entrance it gets the
 * identity, the access rule, the sealed gate and its audit event like
 * every other read, locally (the in-process transport) and over the wire.
 * Not in a Batch: it waits for the HSM and the Patroni nodes.
 */
import { ProtocolError } from '../protocol/protocol-error';
import { Operation } from './operation';

export const clusterStatus: Operation<'ClusterStatus'> = {
  name: 'ClusterStatus',
  access: 'audit',
  batchable: false,
  run: (_args, ctx) => {
    const cluster = ctx.services.cluster;
    if (!cluster) throw new ProtocolError('INVALID_REQUEST', 'this server does not report on a cluster');
    return cluster.status();
  },
};
