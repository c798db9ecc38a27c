/**
 * Every KMIP operation this server serves, by its Operation name, in the
 * order Query lists them. An operation absent here answers Operation Not
 * Supported.
 */
import { create } from './create';
import { discoverVersions } from './discover-versions';
import { get } from './get';
import { KmipOperation } from './kmip-operation';
import { query } from './query';
import { register } from './register';
import { reKey } from './rekey';

const SERVED: readonly KmipOperation[] = [discoverVersions, query, create, register, get, reKey];

export function kmipOperations(): ReadonlyMap<string, KmipOperation> {
  return new Map(SERVED.map((operation) => [operation.operation, operation]));
}
