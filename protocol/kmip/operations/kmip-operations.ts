/**
 * Every KMIP operation this server serves, by its Operation name, in the
 * order Query lists them. An operation absent here answers Operation Not
 * Supported.
 */
import { discoverVersions } from './discover-versions';
import { KmipOperation } from './kmip-operation';
import { query } from './query';

const SERVED: readonly KmipOperation[] = [discoverVersions, query];

export function kmipOperations(): ReadonlyMap<string, KmipOperation> {
  return new Map(SERVED.map((operation) => [operation.operation, operation]));
}
