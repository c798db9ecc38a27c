/**
 * Every KMIP operation this server serves, by its Operation name, in the
 * order Query lists them. An operation absent here answers Operation Not
 * Supported.
 */
import { activate } from './activate';
import { addAttribute, deleteAttribute, modifyAttribute, setAttribute } from './attribute-changes';
import { cancel } from './cancel';
import { check } from './check';
import { create } from './create';
import { destroy } from './destroy';
import { discoverVersions } from './discover-versions';
import { decrypt, encrypt } from './encrypt-decrypt';
import { get } from './get';
import { getAttributeList, getAttributes } from './get-attributes';
import { interop } from './interop';
import { log } from './log';
import { KmipOperation } from './kmip-operation';
import { locate } from './locate';
import { mac, macVerify } from './mac';
import { poll } from './poll';
import { query } from './query';
import { register } from './register';
import { reKey } from './rekey';
import { revoke } from './revoke';
import { rngRetrieve } from './rng-retrieve';

const SERVED: readonly KmipOperation[] = [
  discoverVersions,
  query,
  activate,
  revoke,
  destroy,
  poll,
  cancel,
  encrypt,
  decrypt,
  mac,
  macVerify,
  rngRetrieve,
  create,
  register,
  get,
  reKey,
  locate,
  getAttributes,
  getAttributeList,
  addAttribute,
  modifyAttribute,
  deleteAttribute,
  setAttribute,
  interop,
  log,
  check,
];

export function kmipOperations(): ReadonlyMap<string, KmipOperation> {
  return new Map(SERVED.map((operation) => [operation.operation, operation]));
}
