/**
 * Every KMIP operation this server serves, by its Operation name, in the
 * order Query lists them. An operation absent here answers Operation Not
 * Supported.
 */
import { activate } from './activate';
import { cancel } from './cancel';
import { destroy } from './destroy';
import { discoverVersions } from './discover-versions';
import { KmipOperation } from './kmip-operation';
import { poll } from './poll';
import { query } from './query';
import { revoke } from './revoke';

const SERVED: readonly KmipOperation[] = [
  discoverVersions,
  query,
  activate,
  revoke,
  destroy,
  poll,
  cancel,
];

export function kmipOperations(): ReadonlyMap<string, KmipOperation> {
  return new Map(SERVED.map((operation) => [operation.operation, operation]));
}
