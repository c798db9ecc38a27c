/**
 * `strongroom policy grant|revoke|list|check`: who may do what to which keys.
 * Default deny; a grant gives permissions on keys whose full name matches a
 * glob, to one client or to a group.
 */
import { Command } from 'commander';
import { PERMISSIONS } from '../../protocol/op-schemas';
import { runCommand } from '../context';
import { table } from '../output';
import { policyCheckCommand } from './policy-check';

interface GrantOptions {
  client?: string;
  group?: string;
  pattern: string;
  permissions: string;
}

function grantCommand(): Command {
  return new Command('grant')
    .description('grant permissions on keys matching a pattern to a client or a group')
    .option('-c, --client <name>', 'the client to grant to')
    .option('-g, --group <name>', 'the group to grant to')
    .requiredOption('-p, --pattern <glob>', 'key names, e.g. "hr/*" (* matches anything, / included)')
    .requiredOption('--permissions <list>', `comma list of: ${PERMISSIONS.join(', ')}`)
    .addHelpText(
      'after',
      `\nA grant of get, decrypt or decrypt-data-key, or of any key use (encrypt, mac, generate-data-key, ...) to an officer\nor to a group an officer belongs to, waits for other officers' approval: see \`strongroom approvals\`.\n\nExample:\n  $ strongroom policy grant --group payroll --pattern 'hr/*' --permissions get,encrypt,decrypt`,
    )
    .action(
      runCommand(async (ctx, options: GrantOptions) => {
        const grant = await ctx.backend().grant({
          client: options.client,
          group: options.group,
          pattern: options.pattern,
          permissions: options.permissions.split(',').map((p) => p.trim()).filter(Boolean),
        });
        ctx.out.result({ grant }, () => `Granted ${grant.permissions.join(', ')} on ${grant.pattern} to ${grant.subjectKind} ${grant.subject} (grant ${grant.id})`);
      }),
    );
}

function revokeCommand(): Command {
  return new Command('revoke')
    .description('remove a grant by its id (see policy list)')
    .argument('<id>', 'grant id')
    .action(
      runCommand(async (ctx, id: string) => {
        const grant = await ctx.backend().revokeGrant(id);
        ctx.out.result({ grant }, () => `Removed grant ${grant.id} (${grant.permissions.join(', ')} on ${grant.pattern} for ${grant.subjectKind} ${grant.subject})`);
      }),
    );
}

function listCommand(): Command {
  return new Command('list')
    .description('list grants')
    .option('-c, --client <name>', 'only grants to this client')
    .option('-g, --group <name>', 'only grants to this group')
    .action(
      runCommand(async (ctx, options: { client?: string; group?: string }) => {
        const grants = await ctx.backend().listGrants(options);
        ctx.out.result(grants, () =>
          grants.length === 0
            ? 'No grants: apps can do nothing (default deny).'
            : table(['ID', 'SUBJECT', 'PATTERN', 'PERMISSIONS'], grants.map((g) => [g.id, `${g.subjectKind}:${g.subject}`, g.pattern, g.permissions.join(',')])),
        );
      }),
    );
}

export function policyCommand(): Command {
  return new Command('policy').description('grant, revoke and check access to keys (default deny)').addCommand(grantCommand()).addCommand(revokeCommand()).addCommand(listCommand()).addCommand(policyCheckCommand());
}
