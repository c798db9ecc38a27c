/**
 * One-off requests to a running appliance for commands that exist only over
 * the wire (unseal, seal) or that the CliBackend does not cover (master
 * key): the same certificate settings and error mapping as remote-backend.
 */
import { ApplianceConfig } from '../../common/config';
import { ValidationError } from '../../common/errors';
import { OperationName } from '../../protocol/op-schemas';
import { cliClient, wire } from './remote-backend';

export interface RemoteRequester {
  request<R>(op: OperationName, args?: Record<string, unknown>): Promise<R>;
  close(): Promise<void>;
}

/** A connection to server_address; INVALID_ARGUMENT when none is configured (`what` names the command). */
export function remoteRequester(config: ApplianceConfig, what: string): RemoteRequester {
  const address = config.values.server_address;
  if (!address) throw new ValidationError(`${what} works on a running appliance: give --server host:port (or set server_address)`);
  const client = cliClient(config, address);
  return {
    request: (op, args = {}) => wire(() => client.request(op, args)),
    close: () => client.close(),
  };
}
