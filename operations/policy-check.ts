/**
 * PolicyCheck (docs/protocol.md §6): a client's effective permissions on a
 * key, and which role or grant gives each, as Vault's `token capabilities`
 * answers (`strongroom policy check`). For officers and auditors, who read
 * the grants anyway (PolicyList).
 *
 * Nothing here decides: the answer is the policy index's own explanation
 * (domain/policy/policy-index.ts `explain`), computed by the code the
 * dispatcher's access decision runs, on the name that decision would check
 * (an alias followed to its key, as authorizeName does). A revoked client
 * holds nothing: its certificate is refused at the handshake.
 */
import { KeychainError } from '../common/errors';
import { keyNameToCheck } from './context';
import { Operation } from './operation';

export const policyCheck: Operation<'PolicyCheck'> = {
  name: 'PolicyCheck',
  access: 'audit',
  run: (args, ctx) => {
    const client = ctx.services.directory.getClientByName(args.client);
    if (client === null) throw new KeychainError('CLIENT_NOT_FOUND', `no client named "${args.client}" (see strongroom client list)`, { details: { client: args.client } });
    const { requested, fullName } = keyNameToCheck(ctx, args.name);
    const revoked = client.revokedAt !== null;
    const explained = ctx.services.policy.explain({ name: client.name, role: client.role, groups: client.groups, fingerprint256: client.fingerprint256, subject: client.name }, fullName);
    return {
      client: { name: client.name, role: client.role, groups: client.groups, revokedAt: client.revokedAt },
      key: { requested, name: fullName, alias: fullName !== requested },
      permissions: revoked ? explained.map((p) => ({ permission: p.permission, allowed: false, sources: [] })) : explained,
    };
  },
};
