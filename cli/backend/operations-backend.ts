/**
 * The CLI's commands as operations: each backend call is one request to the
 * dispatcher, either over mutual TLS through the client library (--server,
 * with the certificate in client_cert / client_key) or in this process as
 * the local operator (server/local/in-process-transport.ts). Both answer the
 * same JSON results and error codes, so every command is written once.
 */
import { Requester } from '../../protocol/requester';
import { wire } from './wire-client';
import { KeyArgs } from '../commands/key-spec-options';
import type { ApprovalView, RetrievedKey } from '../../client/types';
import { CliBackend, IssuedCertificate, QuorumView, WrappedExport } from './backend';

/** ApprovalCollect answers a Get's result: its material is base64 on the wire. */
function decodeRetrieved(result: Record<string, unknown>): RetrievedKey {
  return { ...(result as unknown as RetrievedKey), material: Buffer.from(String(result.material ?? ''), 'base64') };
}

function dropUndefined(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
}

export function operationsBackend(mode: CliBackend['mode'], client: Requester): CliBackend {
  type Described = Awaited<ReturnType<CliBackend['describeKey']>>;
  return {
    mode,
    createKey: (args: KeyArgs) => wire(() => client.request<Described>('Create', dropUndefined({ ...args }))),
    registerKey: (args: KeyArgs, material, unwrap = {}) => wire(() => client.request<Described>('Register', dropUndefined({ ...args, ...unwrap, material }))),
    exportKey: (request) => wire(() => client.request<never>('Export', dropUndefined({ ...request }))),
    getKey: (ref) => wire(async () => decodeRetrieved(await client.request<Record<string, unknown>>('Get', dropUndefined(ref)))),
    listKeys: (filter) =>
      wire(async () =>
        (await client.request<{ keys: never[] }>('Locate', dropUndefined({ pattern: filter.match, namespace: filter.namespace, algorithm: filter.algorithm, limit: Math.min(filter.limit, 1000) }))).keys,
      ),
    describeKey: (name) => wire(() => client.request<Described>('GetAttributes', { name })),
    rollover: (name, options = {}) => wire(() => client.request<Described>('ReKey', dropUndefined({ name, material: options.material, activateAt: options.activateAt }))),
    undoRollover: (name) => wire(() => client.request<Described>('UndoRollover', { name })),
    setAlias: (alias, name) => wire(() => client.request('AliasSet', { alias, name })),
    removeAlias: (alias) => wire(() => client.request('AliasRemove', { alias })),
    listAliases: () => wire(async () => (await client.request<{ aliases: never[] }>('AliasList')).aliases),
    listNamespaces: () => wire(async () => (await client.request<{ namespaces: never[] }>('NamespaceList')).namespaces),
    removeNamespace: (namespace) => wire(() => client.request('NamespaceRemove', { namespace })),
    issueClient: (request) => wire(() => client.request('ClientIssue', dropUndefined({ ...request }))),
    listClients: () => wire(async () => (await client.request<{ clients: never[] }>('ClientList')).clients),
    renewClient: (request) => wire(() => client.request('ClientRenew', dropUndefined({ ...request }))),
    renewServerCertificate: (validityDays) => wire(() => client.request('ServerCertRenew', dropUndefined({ validityDays }))),
    revokeClient: (name) => wire(async () => (await client.request<{ client: never }>('ClientRevoke', { name })).client),
    grant: (request) => wire(async () => (await client.request<{ grant: never }>('PolicyGrant', dropUndefined({ ...request }))).grant),
    revokeGrant: (id) => wire(async () => (await client.request<{ grant: never }>('PolicyRevoke', { id })).grant),
    listGrants: (filter) => wire(async () => (await client.request<{ grants: never[] }>('PolicyList', dropUndefined({ ...filter }))).grants),
    setRolloverPolicy: (name, rollover, cryptoperiod, periods) =>
      wire(() => client.request<Described>('SetRolloverPolicy', dropUndefined({ name, rollover, cryptoperiod, ...(periods ?? {}) }))),
    rolloverDue: (at, limit, within) => wire(() => client.request('RolloverDue', dropUndefined({ at, within, limit: Math.min(limit, 1000) }))),
    rolloverRun: (at) => wire(() => client.request('RolloverRun', dropUndefined({ at }))),
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
    collect: (id) =>
      wire(async () => {
        const result = await client.request<Record<string, unknown>>('ApprovalCollect', { id });
        // A ClientIssue's result carries a certificate; a wrapped export's, wrapped bytes; a key export's, material.
        if (typeof result.certificatePem === 'string') return { kind: 'certificate' as const, issued: result as unknown as IssuedCertificate };
        if (typeof result.wrapped === 'string') return { kind: 'wrapped' as const, exported: { ...(result as unknown as WrappedExport), wrapped: Buffer.from(result.wrapped, 'base64') } };
        return { kind: 'key' as const, key: decodeRetrieved(result) };
      }),
    quorums: () => wire(async () => (await client.request<{ quorums: QuorumView[] }>('ApprovalQuorums')).quorums),
    setQuorum: (dualControlClass, required) => wire(async () => (await client.request<{ quorum: { class: string; required: number } }>('ApprovalQuorumSet', { class: dualControlClass, required })).quorum),
    close: () => client.close(),
  };
}
