/**
 * Officer operations (docs/protocol.md §6): client certificates and grants
 * (ClientList and PolicyList are also for auditors, read only). ClientRevoke
 * also closes the client's open connections at once.
 */
import { isoNow } from '../common/clock';
import { AccessError, KeychainError } from '../common/errors';
import { GrantRecord } from '../storage/directory-store';
import { checkGlob } from '../domain/policy/glob';
import { parsePermissions } from '../domain/policy/permissions';
import { assertMaterialSubjectExists, givesAnOfficerKeyUse, givesMaterial } from '../domain/policy/material-grants';
import { coveredByMaterialGrant } from './material-cover';
import { OFFICER_ISSUE_CLASS } from '../domain/approvals/quorum-settings';
import { Operation } from './operation';
import { OperationContext } from './context';

/**
 * Issuing an officer (a future approver, who may also ask for exports), or an
 * app that an existing grant (to its name, or to one of its groups) gives key
 * material, gives access to material as surely as a grant does:
 * dual-controlled (grant-material), or one officer could mint the approvers
 * of their own requests, or claim a grant approved for a client not yet
 * issued (domain/policy/material-grants.ts).
 */
export const clientIssue: Operation<'ClientIssue'> = {
  name: 'ClientIssue',
  access: 'officer',
  changesState: true,
  dualControl: (args, ctx) => {
    if (args.role === 'officer') return OFFICER_ISSUE_CLASS;
    return coveredByMaterialGrant(ctx, { name: args.name, role: args.role, groups: args.groups ?? [] }) ? 'grant-material' : null;
  },
  run: (args, ctx) =>
    ctx.services.pki.issueClient({
      name: args.name,
      role: args.role,
      groups: args.groups ?? [],
      publicKeyPem: args.publicKeyPem,
      validityDays: args.validityDays,
    }),
};

/** Separation of duties: auditors read who may do what (clients, grants), never change it; apps do neither. */
function assertReader(ctx: OperationContext, op: string): void {
  if (ctx.identity.role === 'app') throw new AccessError('PERMISSION_DENIED', `${op} is for officers and auditors; "${ctx.identity.name}" is an app`);
}

export const clientList: Operation<'ClientList'> = {
  name: 'ClientList',
  access: 'any',
  run: (_args, ctx) => {
    assertReader(ctx, 'ClientList');
    return { clients: ctx.services.directory.listClients() };
  },
};

export const clientRevoke: Operation<'ClientRevoke'> = {
  name: 'ClientRevoke',
  access: 'officer',
  changesState: true,
  dualControl: (args, ctx) => {
    if (ctx.services.directory.getClientByName(args.name) === null) throw new KeychainError('CLIENT_NOT_FOUND', `no client named "${args.name}"`);
    return 'client-revoke';
  },
  run: (args, ctx) => {
    const client = ctx.services.pki.revokeClient(args.name);
    ctx.services.disconnectClient(client.name);
    return { client };
  },
};

export const aliasSet: Operation<'AliasSet'> = {
  name: 'AliasSet',
  access: 'officer',
  changesState: true,
  commitsWithItsEvent: true,
  run: (args, ctx) => ctx.services.keychain.setAlias(args.alias, args.name),
};

export const aliasRemove: Operation<'AliasRemove'> = {
  name: 'AliasRemove',
  access: 'officer',
  changesState: true,
  commitsWithItsEvent: true,
  run: (args, ctx) => ctx.services.keychain.removeAlias(args.alias),
};

export const aliasList: Operation<'AliasList'> = {
  name: 'AliasList',
  access: 'officer',
  run: (_args, ctx) => ({ aliases: ctx.services.keychain.listAliases() }),
};

export const namespaceList: Operation<'NamespaceList'> = {
  name: 'NamespaceList',
  access: 'officer',
  run: (_args, ctx) => ({ namespaces: ctx.services.keychain.listNamespaces() }),
};

export const namespaceRemove: Operation<'NamespaceRemove'> = {
  name: 'NamespaceRemove',
  access: 'officer',
  changesState: true,
  commitsWithItsEvent: true,
  run: (args, ctx) => ({ namespace: args.namespace, keysRemoved: ctx.services.keychain.removeNamespace(args.namespace) }),
};

/**
 * A grant of a material permission (get, decrypt, decrypt-data-key), or of
 * any key use to an officer (domain/policy/material-grants.ts), is
 * dual-controlled; others run at once. A material grant to a client that does
 * not exist is refused (GRANT_SUBJECT_UNKNOWN) before any request is stored,
 * and again when it runs.
 */
export const policyGrant: Operation<'PolicyGrant'> = {
  name: 'PolicyGrant',
  access: 'officer',
  changesState: true,
  commitsWithItsEvent: true,
  dualControl: (args, ctx) => {
    checkGlob(args.pattern); // a bad pattern is refused now, not after two officers approved it
    const permissions = parsePermissions(args.permissions);
    assertMaterialSubjectExists(ctx.services.directory, { client: args.client, permissions });
    const toAnOfficer = givesAnOfficerKeyUse(ctx.services.directory, { client: args.client, group: args.group, permissions });
    return givesMaterial(permissions) || toAnOfficer ? 'grant-material' : null;
  },
  run: (args, ctx) => {
    const pattern = args.pattern;
    checkGlob(pattern);
    assertMaterialSubjectExists(ctx.services.directory, { client: args.client, permissions: args.permissions });
    const grant: GrantRecord = {
      id: ctx.services.newId(),
      subjectKind: args.client !== undefined ? 'client' : 'group',
      subject: args.client ?? args.group,
      pattern,
      permissions: parsePermissions(args.permissions),
      createdAt: isoNow(ctx.services.clock),
      createdBy: ctx.identity.name,
    };
    ctx.services.directory.putGrant(grant);
    return { grant };
  },
};

export const policyRevoke: Operation<'PolicyRevoke'> = {
  name: 'PolicyRevoke',
  access: 'officer',
  changesState: true,
  commitsWithItsEvent: true,
  run: (args, ctx) => ({ grant: ctx.services.directory.deleteGrant(args.id) }),
};

export const policyList: Operation<'PolicyList'> = {
  name: 'PolicyList',
  access: 'any',
  run: (args, ctx) => (assertReader(ctx, 'PolicyList'), {
    grants: ctx.services.directory
      .listGrants()
      .filter((g) => (args.client === undefined || (g.subjectKind === 'client' && g.subject === args.client)) && (args.group === undefined || (g.subjectKind === 'group' && g.subject === args.group))),
  }),
};
