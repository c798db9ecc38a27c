/** Query (docs/protocol.md §6): what this server is, what it does, its limits, and who the caller is. */
import { Operation } from './operation';

export function makeQuery(operationNames: () => readonly string[]): Operation {
  return {
    name: 'Query',
    access: 'any',
    run: (_args, ctx) => ({
      server: 'strongroom',
      version: ctx.services.version,
      protocol: 1,
      operations: operationNames(),
      limits: ctx.services.limits,
      identity: { name: ctx.identity.name, role: ctx.identity.role, groups: ctx.identity.groups },
      // Sealed or not, and the custodians' progress (k of M): what `strongroom status --server` shows.
      unseal: ctx.services.unsealing?.status() ?? null,
    }),
  };
}
