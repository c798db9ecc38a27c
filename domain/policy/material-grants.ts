/**
 * Grants that would give a client key material, and the two rules that keep
 * such a grant from being claimed by one officer (issue 12: a grant approved
 * for a client name that does not exist yet could be claimed by one officer
 * issuing that client alone).
 *
 * "Material" is MATERIAL_PERMISSIONS (get, decrypt, decrypt-data-key): the
 * permissions whose grant is itself dual-controlled. The other uses of a key
 * (encrypt, mac, generate-data-key) one officer may grant alone to any
 * client, so guarding their claim by issue would protect nothing.
 *
 * - A material grant to a client must name a client that exists
 *   (GRANT_SUBJECT_UNKNOWN otherwise, before any approval is stored): what the
 *   approvers approve is then a grant to a known certificate. A revoked
 *   client counts as existing: its name is never issued again.
 * - Issuing an app that an existing grant (to its name, or to one of its
 *   groups) gives material is dual-controlled like the grant itself. Grants
 *   to a group with no members yet are a legitimate way to prepare; this
 *   rule is what protects them.
 */
import { KeychainError } from '../../common/errors';
import { DirectoryStore, GrantRecord } from '../../storage/directory-store';
import { ClientRole } from '../vocabulary/client-roles';
import { KEY_USE_PERMISSIONS, MATERIAL_PERMISSIONS } from './permissions';

/** Whether a grant of `permissions` gives key material. */
export function givesMaterial(permissions: readonly string[]): boolean {
  return permissions.some((p) => MATERIAL_PERMISSIONS.has(p));
}

/**
 * The existing grants that would give a client of this name, role and groups
 * key material once it is issued. Auditors hold no key permission whatever
 * their grants (policy-index.ts), so none gives them material.
 */
export function materialGrantsFor<G extends Pick<GrantRecord, 'subjectKind' | 'subject' | 'permissions'>>(grants: readonly G[], client: { name: string; role: ClientRole; groups: readonly string[] }): G[] {
  if (client.role === 'auditor') return [];
  return grants.filter(
    (g) => givesMaterial(g.permissions) && (g.subjectKind === 'client' ? g.subject === client.name : client.groups.includes(g.subject)),
  );
}

/** GRANT_SUBJECT_UNKNOWN when a grant of material names a client the directory does not hold. */
export function assertMaterialSubjectExists(directory: DirectoryStore, grant: { client?: string; permissions: readonly string[] }): void {
  if (grant.client === undefined || !givesMaterial(grant.permissions)) return;
  if (directory.getClientByName(grant.client) !== null) return;
  throw new KeychainError(
    'GRANT_SUBJECT_UNKNOWN',
    `no client named "${grant.client}": a grant of ${grant.permissions.filter((p) => MATERIAL_PERMISSIONS.has(p)).join(', ')} goes to an existing client (issue it first) or to a group`,
    { details: { client: grant.client } },
  );
}

/**
 * Whether a grant would let an officer use keys: a use permission to an
 * officer client, or to a group an active officer belongs to. Such a grant
 * is dual-controlled whatever the permission: otherwise one officer could
 * grant themselves (or a fellow officer) encrypt or mac on every key and
 * make ciphertexts and MACs that apps trust, which is what officers holding
 * no key use by role is meant to prevent.
 */
export function givesAnOfficerKeyUse(directory: DirectoryStore, grant: { client?: string; group?: string; permissions: readonly string[] }): boolean {
  if (!grant.permissions.some((p) => KEY_USE_PERMISSIONS.has(p))) return false;
  if (grant.client !== undefined) return directory.getClientByName(grant.client)?.role === 'officer';
  const group = grant.group;
  return group !== undefined && directory.listClients().some((c) => c.role === 'officer' && c.revokedAt === null && c.groups.includes(group));
}

/**
 * The grants that open PolicyGrant requests (their stored arguments) ask
 * for. Issuing or renewing a client such a grant would give material is
 * dual-controlled as if the grant existed: otherwise one officer swaps the
 * certificate under a grant its approvers are looking at, and the approved
 * grant goes to the officer's key (test/security/34).
 */
export function requestedGrants(openArgs: readonly string[]): Array<Pick<GrantRecord, 'subjectKind' | 'subject' | 'permissions'>> {
  return openArgs.flatMap((json) => {
    const args = JSON.parse(json) as { client?: unknown; group?: unknown; permissions?: unknown };
    const subject = typeof args.client === 'string' ? args.client : typeof args.group === 'string' ? args.group : null;
    if (subject === null || !Array.isArray(args.permissions)) return [];
    return [{ subjectKind: typeof args.client === 'string' ? ('client' as const) : ('group' as const), subject, permissions: args.permissions.map(String) }];
  });
}
