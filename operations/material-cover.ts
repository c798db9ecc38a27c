/**
 * Whether a client's certificate, once issued or renewed, would hold a grant
 * of key material: one that exists, or one a PolicyGrant request not yet
 * carried out asks for (domain/policy/material-grants.ts). Then ClientIssue
 * and ClientRenew are dual-controlled (grant-material): one officer must not
 * put a key pair of their own under a grant that its approvers approve, or
 * are looking at, for someone else's certificate (test/security/07, 34).
 */
import { materialGrantsFor, requestedGrants } from '../domain/policy/material-grants';
import { ClientRole } from '../domain/vocabulary/client-roles';
import { OperationContext } from './context';

export function coveredByMaterialGrant(ctx: OperationContext, client: { name: string; role: ClientRole; groups: readonly string[] }): boolean {
  const { directory, approvals } = ctx.services;
  if (materialGrantsFor(directory.listGrants(), client).length > 0) return true;
  return materialGrantsFor(requestedGrants(approvals.openArgsOf('PolicyGrant')), client).length > 0;
}
