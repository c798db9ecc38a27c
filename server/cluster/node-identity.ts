/**
 * A node's name must be its own (issue 17): the scheduler's lease is held by
 * name, so two nodes that give one name (the host name of two appliances on
 * one machine, a copied appliance.conf) would both hold it and sweep at
 * once; correctness would still rest on each rollover's compare-and-swap,
 * but the lease, its takeovers in the trail and `cluster status` would all
 * say one node where there are two. The cluster's authenticated list of
 * audit signers ties each joined node's name to its HSM's signing key, so a
 * node can check its configured name against it:
 * - its own key listed under another name: it joined as that name, and
 *   node_name must say so;
 * - its name listed with another node's key: the name is taken.
 * Either way the node's sweeps act on nothing until node_name is mended
 * (checked before every sweep; the log says what to set).
 */
import { ConfigError } from '../../common/errors';

export interface ListedSigner {
  readonly node: string;
  readonly fingerprint: string;
}

/** Why `node` may not be this node's name (its signing key's fingerprint `own`, null if unknown), or null when it may. */
export function nodeNameConflict(node: string, own: string | null, signers: readonly ListedSigner[]): string | null {
  const mine = own === null ? undefined : signers.find((s) => s.fingerprint === own);
  if (mine !== undefined && mine.node !== node) {
    return `this node joined the cluster as "${mine.node}" (its audit signing key ${mine.fingerprint}), but its node_name is "${node}": set node_name = ${mine.node} in appliance.conf and restart`;
  }
  const other = signers.find((s) => s.node === node && s.fingerprint !== own);
  if (other !== undefined) {
    return `node_name "${node}" is the name of another node of this cluster (audit signing key ${other.fingerprint}): two nodes with one name would both hold the scheduler's lease; set node_name to this node's own name in appliance.conf and restart (strongroom cluster status lists the nodes)`;
  }
  return null;
}

/** Throws CONFIG_INVALID (naming node_name) when `node` may not be this node's name. */
export function assertOwnNodeName(node: string, own: string | null, signers: readonly ListedSigner[]): void {
  const conflict = nodeNameConflict(node, own, signers);
  if (conflict !== null) throw new ConfigError(conflict, { details: { setting: 'node_name', value: node } });
}
