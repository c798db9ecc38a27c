/**
 * One-off requests for commands that exist only over the wire (unseal,
 * seal): the same certificate settings and error mapping as every command.
 */
import { ApplianceConfig } from '../../common/config';
import { ValidationError } from '../../common/errors';
import { Requester } from '../../protocol/requester';
import { wireRequester } from './wire-client';

/** A connection to server_address; INVALID_ARGUMENT when none is configured (`what` names the command). */
export function remoteRequester(config: ApplianceConfig, what: string): Requester {
  const address = config.values.server_address;
  if (!address) throw new ValidationError(`${what} works on a running appliance: give --server host:port (or set server_address)`);
  return wireRequester(config, address);
}
