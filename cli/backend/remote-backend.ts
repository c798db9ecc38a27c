/**
 * Remote mode: every command goes to a running appliance over mutual TLS
 * through the client library, with the certificate in client_cert /
 * client_key (an officer's, for administration).
 */
import { readFileSync } from 'node:fs';
import { ApplianceConfig, setting } from '../../common/config';
import { ConfigError, ErrorDetails, StrongroomError, ValidationError } from '../../common/errors';
import { ErrorCode, ERROR_CODES } from '../../common/error-codes';
import { StrongroomClient } from '../../client/strongroom-client';
import { isStrongroomClientError } from '../../client/client-error';
import { KeySpecOptions } from '../commands/key-spec-options';
import { ApprovalView } from '../../domain/approvals/approval-view';
import { RetrievedKey } from '../../domain/views';
import { CliBackend, QuorumView } from './backend';

/** ApprovalCollect answers a Get's result: its material is base64 on the wire. */
function decodeRetrieved(result: Record<string, unknown>): RetrievedKey {
  return { ...(result as unknown as RetrievedKey), material: Buffer.from(String(result.material ?? ''), 'base64') };
}

export function readPem(config: ApplianceConfig, key: 'client_cert' | 'client_key' | 'ca_file'): Buffer {
  const path = setting(config, key);
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ConfigError(`cannot read ${key} ${path}: give --cert/--key/--ca or set ${key}`, { cause });
  }
}

export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(address.trim());
  if (!match) throw new ConfigError(`server address "${address}" is not host:port`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

/** Client errors become StrongroomErrors with the same code, so the CLI's exit codes apply. */
export async function wire<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw asCliError(err);
  }
}

/** The client library's error as the CLI's (its code, flat details), or the error as it is. */
function asCliError(err: unknown): unknown {
  if (!isStrongroomClientError(err)) return err;
  const code = (Object.prototype.hasOwnProperty.call(ERROR_CODES, err.code) ? err.code : 'UNAVAILABLE') as ErrorCode;
  // Flat details pass through (an APPROVAL_REQUIRED's requestId and digest: the CLI prints the next step).
  const details = Object.fromEntries(Object.entries(err.details).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) as ErrorDetails;
  return new StrongroomError(code, err.message, { cause: err, details });
}

function wireKeyArgs(name: string, options: KeySpecOptions): Record<string, unknown> {
  const attributes: Record<string, string> = {};
  for (const pair of options.attr ?? []) {
    const eq = pair.indexOf('=');
    if (eq > 0) attributes[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    name,
    algorithm: options.algorithm,
    usage: options.usage ? options.usage.split(',').map((u) => u.trim()).filter(Boolean) : undefined,
    description: options.description,
    owner: options.owner,
    attributes: Object.keys(attributes).length > 0 ? attributes : undefined,
    rollover: options.rollover,
    cryptoperiod: options.cryptoperiod,
    protectPeriod: options.protectPeriod,
    processPeriod: options.processPeriod,
  };
}

function dropUndefined(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
}

/** The CLI's one connection to a running appliance, with the certificate files of the config (--cert, --key, --ca). */
export function cliClient(config: ApplianceConfig, address: string, options: { maxFrameBytes?: number } = {}): StrongroomClient {
  const { host, port } = parseAddress(address);
  try {
    return new StrongroomClient({
      host,
      port,
      ca: readPem(config, 'ca_file'),
      cert: readPem(config, 'client_cert'),
      key: readPem(config, 'client_key'),
      poolSize: 1,
      ...options,
    });
  } catch (err) {
    // A key that is not the certificate's: a usage error naming the flag, not an internal one.
    throw asCliError(err);
  }
}

export function remoteBackend(config: ApplianceConfig, address: string): CliBackend {
  const client = cliClient(config, address);
  type Described = Awaited<ReturnType<CliBackend['describeKey']>>;
  return {
    mode: 'remote',
    createKey: (name, options) => wire(() => client.request<Described>('Create', dropUndefined(wireKeyArgs(name, options)))),
    registerKey: (name, options, material) => wire(() => client.request<Described>('Register', dropUndefined({ ...wireKeyArgs(name, options), material }))),
    getKey: (ref) => wire(() => client.get(dropUndefined(ref) as { name?: string; instance?: string })) as ReturnType<CliBackend['getKey']>,
    listKeys: (filter) =>
      wire(async () =>
        (await client.locate(dropUndefined({ pattern: filter.match, namespace: filter.namespace, algorithm: filter.algorithm, limit: Math.min(filter.limit, 1000) }))).keys,
      ) as ReturnType<CliBackend['listKeys']>,
    describeKey: (name) => wire(() => client.request<Described>('GetAttributes', { name })),
    rollover: (name) => wire(() => client.request<Described>('ReKey', { name })),
    undoRollover: (name) => wire(() => client.request<Described>('UndoRollover', { name })),
    setAlias: (alias, name) => wire(() => client.request('AliasSet', { alias, name })),
    removeAlias: (alias) => wire(() => client.request('AliasRemove', { alias })),
    listAliases: () => wire(async () => (await client.request<{ aliases: never[] }>('AliasList')).aliases),
    listNamespaces: () => wire(async () => (await client.request<{ namespaces: never[] }>('NamespaceList')).namespaces),
    removeNamespace: (namespace) => wire(() => client.request('NamespaceRemove', { namespace })),
    issueClient: (request) => wire(() => client.request('ClientIssue', dropUndefined({ ...request }))),
    listClients: () => wire(async () => (await client.request<{ clients: never[] }>('ClientList')).clients),
    revokeClient: (name) => wire(async () => (await client.request<{ client: never }>('ClientRevoke', { name })).client),
    grant: (request) => wire(async () => (await client.request<{ grant: never }>('PolicyGrant', dropUndefined({ ...request }))).grant),
    revokeGrant: (id) => wire(async () => (await client.request<{ grant: never }>('PolicyRevoke', { id })).grant),
    listGrants: (filter) => wire(async () => (await client.request<{ grants: never[] }>('PolicyList', dropUndefined({ ...filter }))).grants),
    setRolloverPolicy: (name, rollover, cryptoperiod, periods) =>
      wire(() => client.request<Described>('SetRolloverPolicy', dropUndefined({ name, rollover, cryptoperiod, ...(periods ?? {}) }))),
    rolloverDue: (at, limit) => wire(() => client.request('RolloverDue', dropUndefined({ at, limit: Math.min(limit, 1000) }))),
    rolloverRun: (at) => {
      if (at !== undefined) return Promise.reject(new ValidationError('--at runs a simulated sweep: only in local mode (without --server)'));
      return wire(() => client.request('RolloverRun'));
    },
    lifecycle: (action, ref, reason) => {
      const op = ({ activate: 'Activate', revoke: 'Revoke', destroy: 'Destroy', 'destroy-cancel': 'DestroyCancel' } as const)[action];
      const args = dropUndefined({ ...ref, reason: action === 'revoke' ? reason ?? 'unspecified' : undefined });
      return wire(async () => (await client.request<{ instance: never }>(op, args)).instance);
    },
    query: () => wire(() => client.request<Record<string, unknown>>('Query')),
    listApprovals: (filter) => wire(async () => (await client.request<{ requests: ApprovalView[] }>('ApprovalList', dropUndefined({ ...filter }))).requests),
    getApproval: (id) => wire(async () => (await client.request<{ request: ApprovalView }>('ApprovalGet', { id })).request),
    approve: (id, digest) => wire(async () => (await client.request<{ request: ApprovalView }>('ApprovalApprove', { id, digest })).request),
    deny: (id, reason) => wire(async () => (await client.request<{ request: ApprovalView }>('ApprovalDeny', { id, reason })).request),
    cancelApproval: (id) => wire(async () => (await client.request<{ request: ApprovalView }>('ApprovalCancel', { id })).request),
    collect: (id) => wire(async () => decodeRetrieved(await client.request<Record<string, unknown>>('ApprovalCollect', { id }))),
    quorums: () => wire(async () => (await client.request<{ quorums: QuorumView[] }>('ApprovalQuorums')).quorums),
    setQuorum: (dualControlClass, required) => wire(async () => (await client.request<{ quorum: { class: string; required: number } }>('ApprovalQuorumSet', { class: dualControlClass, required })).quorum),
    close: () => client.close(),
  };
}
