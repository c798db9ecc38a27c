/**
 * The node's name among the nodes of a cluster (issue 17): the holder named
 * in the scheduler's lease, the node of its audit signer row, the name
 * `cluster status` shows. Given by cluster join --node, else the node_name
 * setting, else the host name up to its first dot. Two nodes on one host
 * (tests, a demo on loopback) must each set node_name.
 */
import { hostname } from 'node:os';
import { ApplianceConfig } from '../../common/config';
import { ValidationError } from '../../common/errors';

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The node's name: 1–63 letters, digits, dots, dashes, underscores (it is shown in the trail and in `status`). */
export function nodeName(given: string | undefined | null): string {
  const name = given ?? hostname().split('.')[0];
  if (!NODE_NAME.test(name)) {
    throw new ValidationError(`node name ${JSON.stringify(name)} is not valid: 1 to 63 letters, digits, '.', '-' or '_', starting with a letter or digit (--node NAME)`, { details: { option: '--node' } });
  }
  return name;
}

/** This node's name from its configuration: node_name, or the host name. */
export function configuredNodeName(config: ApplianceConfig): string {
  return nodeName(config.values.node_name ?? undefined);
}
