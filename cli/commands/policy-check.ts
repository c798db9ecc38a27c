/**
 * `strongroom policy check --client NAME --key NAME`: what a client may do to
 * a key and which grant (to the client or to one of its groups) or role
 * gives each permission, as Vault's `token capabilities` answers. The
 * appliance computes it (PolicyCheck) with the policy code its access
 * decisions run, so the answer is what a request would meet. Officers and
 * auditors, over the wire or locally.
 */
import { Command } from 'commander';
import type { PermissionSource, PolicyCheckResult } from '../../client/types';
import { runCommand } from '../context';
import { wire } from '../backend/wire-client';
import { table } from '../output';

function describeSource(source: PermissionSource): string {
  return source.kind === 'role' ? `role ${source.role}` : `grant ${source.grant} (${source.subjectKind} ${source.subject}, pattern ${source.pattern})`;
}

function render(result: PolicyCheckResult): string {
  const { client, key } = result;
  const groups = client.groups.length > 0 ? `, groups ${client.groups.join(', ')}` : '';
  const target = key.alias ? `${key.requested} (an alias of ${key.name}: grants are checked against ${key.name})` : key.name;
  const allowed = result.permissions.filter((p) => p.allowed).map((p) => p.permission);
  const lines = [`Client ${client.name} (${client.role}${groups}) on ${target}`];
  if (client.revokedAt !== null) lines.push(`Revoked at ${client.revokedAt}: its certificate is refused, it may do nothing.`);
  else if (client.role === 'auditor') lines.push('Auditors use no key, whatever their grants.');
  lines.push(`Allowed: ${allowed.length > 0 ? allowed.join(', ') : 'nothing (default deny)'}`, '');
  lines.push(table(['PERMISSION', 'ALLOWED', 'GIVEN BY'], result.permissions.map((p) => [p.permission, p.allowed ? 'yes' : 'no', p.sources.map(describeSource).join('; ') || '-'])));
  return lines.join('\n');
}

export function policyCheckCommand(): Command {
  return new Command('check')
    .description("a client's effective permissions on a key, and the grant (or group grant, or role) that gives each")
    .requiredOption('-c, --client <name>', 'the client (see client list)')
    .requiredOption('-k, --key <name>', 'the key: namespace/name or an alias (an alias is checked as its key)')
    .addHelpText(
      'after',
      `
Here --key is the key to check: with --server, give your certificate's key file (the global --key) before
"policy". Officers and auditors only; the answer comes from the appliance's own policy code, so it is what a
request would meet. With --json: { client, key: {requested, name, alias}, permissions: [{permission, allowed,
sources: [{kind: "role"|"grant", ...}]}] }.

Examples:
  $ strongroom policy check --client payroll-app --key hr/payroll
  $ strongroom --server 127.0.0.1:5700 --cert auditor.crt --key auditor.key policy check -c payroll-app -k hr/payroll --json`,
    )
    .action(
      runCommand(async (ctx, options: { client: string; key: string }) => {
        const requester = ctx.requester();
        const result = await wire(() => requester.request<PolicyCheckResult>('PolicyCheck', { client: options.client, name: options.key }));
        ctx.out.result(result, () => render(result));
      }),
    );
}
